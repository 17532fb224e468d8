//! Files an export writes outside the encrypted store (the audit trail, the customer list): made
//! readable by the user alone (0600), whatever the umask, since what they hold is the shop's
//! business, and customers' contact details in full (issue 21).

use std::fs::File;
use std::path::Path;

/// Creates (or empties) `path` for an export, readable and writable by its owner only. A file
/// already there is narrowed to 0600 before anything is written into it.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_export_is_the_owners_alone_new_or_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("audit.csv");
        create_private(&fresh).unwrap().write_all(b"seq\n").unwrap();
        assert_eq!(mode(&fresh), 0o600);

        let old = dir.path().join("old.csv");
        std::fs::write(&old, b"what was here before").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private(&old).unwrap().write_all(b"new").unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read(&old).unwrap(), b"new");
    }
}
