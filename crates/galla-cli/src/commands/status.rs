//! `galla-cli status`: shop, terminal, schema and keychain in one glance.

use galla_client::DataDir;

use crate::session::{Failure, json, open};

pub(crate) fn run(dir: &DataDir, as_json: bool) -> Result<(), Failure> {
    let s = open(dir)?.status()?;
    if as_json {
        println!("{}", json(&s));
    } else {
        println!("shop:      {}", s.shop_name);
        println!("terminal:  {} (series {})", s.terminal_name, s.series_code);
        println!(
            "schema:    {} of {}",
            s.schema_version, s.supported_schema_version
        );
        println!("keychain:  {}", s.keychain_backend);
        println!("audit:     {} records", s.audit_records);
        println!("data:      {}", s.data_dir);
    }
    Ok(())
}
