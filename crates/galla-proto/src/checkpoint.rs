//! Signed tree heads of the transparency log: a C2SP tlog-checkpoint (<https://c2sp.org/tlog-checkpoint>)
//! inside a C2SP signed note (<https://c2sp.org/signed-note>), signed with Ed25519.
//!
//! The cloud signs one after every append; a terminal keeps the last one it verified and checks
//! every newer one against it with a consistency proof ([`crate::merkle`]). Standard formats,
//! rather than our own, let any C2SP witness or monitor read the log.
//!
//! ```text
//! galla.example/log/<tenant>          origin
//! 42                                  tree size, decimal
//! qJx...=                             root hash, base64
//!                                     blank line
//! — galla.example/log base64(key ID || Ed25519 signature)
//! ```
//!
//! The signature covers the note text: every byte before the blank line, final newline included.
//! Parsing is strict (one spelling per checkpoint) and bounded ([`MAX_NOTE_BYTES`],
//! [`MAX_SIGNATURES`]), since notes arrive from the network.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The largest signed note accepted or produced.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// The most signature lines a note may carry (the spec asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// Signature type byte of Ed25519 in key IDs and verifier keys.
const ED25519_TYPE: u8 = 0x01;
/// Starts every signature line: U+2014 EM DASH, then a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A log's tree head as its note text says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Names the log; a verifier checks it is the log it expects.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Optional lines after the root, kept verbatim (each non-empty).
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the signed note is {len} bytes; the limit is {limit}")]
    NoteTooLarge { len: usize, limit: usize },
    #[error("the text contains control character U+{0:04X}; only newlines are allowed")]
    ControlCharacter(u32),
    #[error("the text does not end with a newline")]
    MissingFinalNewline,
    #[error("the signed note has no blank line followed by signature lines")]
    MissingSignatures,
    #[error("signature line {line} is malformed: {reason}")]
    MalformedSignatureLine { line: usize, reason: &'static str },
    #[error("the signed note has more than {limit} signature lines")]
    TooManySignatures { limit: usize },
    #[error("the signature by key {name} does not verify")]
    BadSignature { name: String },
    #[error("the signed note carries no signature by key {name}")]
    NotSignedByKey { name: String },
    #[error("invalid key name: {0}")]
    InvalidKeyName(&'static str),
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    #[error("key type {0:#04x} is not Ed25519 (0x01)")]
    UnsupportedKeyType(u8),
    #[error("the verifier key's ID does not match its name and public key")]
    KeyIdMismatch,
    #[error("a checkpoint has at least 3 lines; this text has {0}")]
    TooFewLines(usize),
    #[error("the checkpoint origin is empty")]
    EmptyOrigin,
    #[error("the checkpoint {0} contains a newline")]
    NewlineInField(&'static str),
    #[error("the checkpoint tree size is not a decimal number without leading zeros")]
    BadTreeSize,
    #[error("the checkpoint root hash is not the base64 of 32 bytes")]
    BadRootHash,
    #[error("checkpoint extension line {0} is empty")]
    EmptyExtensionLine(usize),
    #[error("the checkpoint is for origin {found:?}, expected {expected:?}")]
    OriginMismatch { expected: String, found: String },
}

impl Checkpoint {
    /// The note text: origin, size, base64 root and extension lines, each ending in a newline.
    /// Refuses fields that would make the text read back as another checkpoint.
    pub fn to_note_text(&self) -> Result<String, CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if self.origin.contains('\n') {
            return Err(CheckpointError::NewlineInField("origin"));
        }
        for (i, line) in self.extensions.iter().enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtensionLine(i + 1));
            }
            if line.contains('\n') {
                return Err(CheckpointError::NewlineInField("extension line"));
            }
        }
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        check_characters(&text)?;
        Ok(text)
    }

    /// Parses note text (as [`NoteVerifier::verify_note`] returns it). Only use the result of
    /// text whose signature was verified.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        check_characters(text)?;
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::TooFewLines(body.split('\n').count()));
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size)?;
        let root = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok())
            .ok_or(CheckpointError::BadRootHash)?;
        let mut extensions = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtensionLine(i + 1));
            }
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// Decimal ASCII digits only, no sign, no leading zero except "0" itself: one spelling per size.
fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return Err(CheckpointError::BadTreeSize);
    }
    s.parse().map_err(|_| CheckpointError::BadTreeSize)
}

/// Signed notes allow no ASCII control character but the newline.
fn check_characters(text: &str) -> Result<(), CheckpointError> {
    match text.chars().find(|c| *c < ' ' && *c != '\n') {
        Some(c) => Err(CheckpointError::ControlCharacter(u32::from(c))),
        None => Ok(()),
    }
}

/// Key names: non-empty, no Unicode space, no "+" (it separates the parts of a verifier key).
/// Control characters are refused too: a note could not carry them.
fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() {
        return Err(CheckpointError::InvalidKeyName("it is empty"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(CheckpointError::InvalidKeyName("it contains a space"));
    }
    if name.contains('+') {
        return Err(CheckpointError::InvalidKeyName("it contains a plus sign"));
    }
    if name.chars().any(char::is_control) {
        return Err(CheckpointError::InvalidKeyName(
            "it contains a control character",
        ));
    }
    Ok(())
}

/// `SHA-256(name || "\n" || 0x01 || public key)[..4]`, big-endian: names the key in signature
/// lines, so a verifier skips signatures by other keys without trying them.
fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_TYPE]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn encode_vkey(name: &str, id: u32, key: &VerifyingKey) -> String {
    let mut typed = Vec::with_capacity(33);
    typed.push(ED25519_TYPE);
    typed.extend_from_slice(key.as_bytes());
    format!("{name}+{id:08x}+{}", BASE64.encode(typed))
}

/// Signs notes and checkpoints with one named Ed25519 key.
pub struct NoteSigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    pub fn new(name: impl Into<String>, key: SigningKey) -> Result<NoteSigner, CheckpointError> {
        let name = name.into();
        check_key_name(&name)?;
        let id = key_id(&name, &key.verifying_key());
        Ok(NoteSigner { name, id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The verifier key to hand to verifiers: `<name>+<key ID hex>+<base64(0x01 || public key)>`.
    pub fn vkey(&self) -> String {
        encode_vkey(&self.name, self.id, &self.key.verifying_key())
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (ending in a newline; blank lines allowed) into a signed note with one
    /// signature line.
    pub fn sign_note(&self, text: &str) -> Result<String, CheckpointError> {
        check_characters(text)?;
        if !text.ends_with('\n') {
            return Err(CheckpointError::MissingFinalNewline);
        }
        let signature = self.key.sign(text.as_bytes()).to_bytes();
        let mut blob = Vec::with_capacity(4 + signature.len());
        blob.extend_from_slice(&self.id.to_be_bytes());
        blob.extend_from_slice(&signature);
        let note = format!(
            "{text}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        );
        // A note the verifiers would refuse is not worth signing.
        if note.len() > MAX_NOTE_BYTES {
            return Err(CheckpointError::NoteTooLarge {
                len: note.len(),
                limit: MAX_NOTE_BYTES,
            });
        }
        Ok(note)
    }

    /// The checkpoint as a signed note.
    pub fn sign_checkpoint(&self, checkpoint: &Checkpoint) -> Result<String, CheckpointError> {
        self.sign_note(&checkpoint.to_note_text()?)
    }
}

/// Checks notes signed by one named Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn new(
        name: impl Into<String>,
        key: VerifyingKey,
    ) -> Result<NoteVerifier, CheckpointError> {
        let name = name.into();
        check_key_name(&name)?;
        let id = key_id(&name, &key);
        Ok(NoteVerifier { name, id, key })
    }

    /// Parses a verifier key, `<name>+<8 hex digits key ID>+<base64(0x01 || 32-byte key)>`, and
    /// checks that the ID is the one of that name and key.
    pub fn from_vkey(vkey: &str) -> Result<NoteVerifier, CheckpointError> {
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(CheckpointError::MalformedVerifierKey("it has no '+'"))?;
        check_key_name(name)?;
        let (id_hex, key_b64) =
            rest.split_once('+')
                .ok_or(CheckpointError::MalformedVerifierKey(
                    "it has no second '+'",
                ))?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CheckpointError::MalformedVerifierKey(
                "the key ID is not 8 hex digits",
            ));
        }
        let id = u32::from_str_radix(id_hex, 16)
            .map_err(|_| CheckpointError::MalformedVerifierKey("the key ID is not 8 hex digits"))?;
        let typed = BASE64
            .decode(key_b64)
            .map_err(|_| CheckpointError::MalformedVerifierKey("the key is not base64"))?;
        let (key_type, raw) = typed
            .split_first()
            .ok_or(CheckpointError::MalformedVerifierKey("the key is empty"))?;
        if *key_type != ED25519_TYPE {
            return Err(CheckpointError::UnsupportedKeyType(*key_type));
        }
        let raw: &[u8; 32] = raw.try_into().map_err(|_| {
            CheckpointError::MalformedVerifierKey("an Ed25519 public key is 32 bytes")
        })?;
        let key = VerifyingKey::from_bytes(raw).map_err(|_| {
            CheckpointError::MalformedVerifierKey("the key is not an Ed25519 point")
        })?;
        // A small-order key lets one signature pass for many messages.
        if key.is_weak() {
            return Err(CheckpointError::MalformedVerifierKey(
                "the key is a small-order point",
            ));
        }
        if key_id(name, &key) != id {
            return Err(CheckpointError::KeyIdMismatch);
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            id,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    pub fn vkey(&self) -> String {
        encode_vkey(&self.name, self.id, &self.key)
    }

    /// Checks a signed note and returns its text (ending in its newline). Signature lines of
    /// other keys are skipped, even if they share our name or our key ID but not both; every line
    /// of ours must verify, and there must be at least one.
    pub fn verify_note<'a>(&self, note: &'a str) -> Result<&'a str, CheckpointError> {
        let (text, signatures) = split_note(note)?;
        let mut verified = false;
        for line in signatures {
            if line.name != self.name || line.key_id != self.id {
                continue;
            }
            let bad = || CheckpointError::BadSignature {
                name: self.name.clone(),
            };
            let bytes: [u8; 64] = line.signature.as_slice().try_into().map_err(|_| bad())?;
            self.key
                .verify_strict(text.as_bytes(), &Signature::from_bytes(&bytes))
                .map_err(|_| bad())?;
            verified = true;
        }
        if !verified {
            return Err(CheckpointError::NotSignedByKey {
                name: self.name.clone(),
            });
        }
        Ok(text)
    }

    /// Checks a signed checkpoint of the log `expected_origin` and returns it.
    pub fn verify_checkpoint(
        &self,
        note: &str,
        expected_origin: &str,
    ) -> Result<Checkpoint, CheckpointError> {
        let checkpoint = Checkpoint::parse(self.verify_note(note)?)?;
        if checkpoint.origin != expected_origin {
            return Err(CheckpointError::OriginMismatch {
                expected: expected_origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}

/// One parsed signature line.
struct SignatureLine<'a> {
    name: &'a str,
    key_id: u32,
    signature: Vec<u8>,
}

/// Splits a note into its text and its signature lines, checking the whole note's form before
/// any signature is looked at.
fn split_note(note: &str) -> Result<(&str, Vec<SignatureLine<'_>>), CheckpointError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(CheckpointError::NoteTooLarge {
            len: note.len(),
            limit: MAX_NOTE_BYTES,
        });
    }
    check_characters(note)?;
    // The text may itself hold blank lines: the signatures start after the last one.
    let split = note
        .rfind("\n\n")
        .ok_or(CheckpointError::MissingSignatures)?;
    let (text, rest) = note.split_at(split + 1);
    let block = rest
        .strip_prefix('\n')
        .and_then(|b| b.strip_suffix('\n'))
        .filter(|b| !b.is_empty())
        .ok_or(CheckpointError::MissingSignatures)?;
    let mut lines = Vec::new();
    for (i, line) in block.split('\n').enumerate() {
        let number = i + 1;
        if number > MAX_SIGNATURES {
            return Err(CheckpointError::TooManySignatures {
                limit: MAX_SIGNATURES,
            });
        }
        let malformed = |reason| CheckpointError::MalformedSignatureLine {
            line: number,
            reason,
        };
        let line = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or_else(|| malformed("it does not start with an em dash and a space"))?;
        let (name, b64) = line
            .split_once(' ')
            .ok_or_else(|| malformed("it has no space between key name and signature"))?;
        check_key_name(name).map_err(|_| malformed("the key name is invalid"))?;
        let blob = BASE64
            .decode(b64)
            .map_err(|_| malformed("the signature is not base64"))?;
        let (id, signature) = blob
            .split_first_chunk::<4>()
            .filter(|(_, sig)| !sig.is_empty())
            .ok_or_else(|| malformed("the signature is shorter than a key ID and one byte"))?;
        lines.push(SignatureLine {
            name,
            key_id: u32::from_be_bytes(*id),
            signature: signature.to_vec(),
        });
    }
    Ok((text, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_one_spelling() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1e3",
            "0x10",
            "18446744073709551616",
            "١",
        ] {
            assert_eq!(
                parse_size(bad),
                Err(CheckpointError::BadTreeSize),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn key_names_follow_the_spec() {
        assert!(check_key_name("galla.example/log").is_ok());
        for bad in [
            "",
            "a b",
            "a+b",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\tb",
            "a\u{7}b",
        ] {
            assert!(check_key_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_signer_debug_output_has_no_private_key() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let secret = hex::encode(key.to_bytes());
        let signer = NoteSigner::new("k", key).unwrap();
        let shown = format!("{signer:?}");
        assert!(!shown.contains(&secret));
        assert!(!shown.contains("[7, 7"));
    }
}
