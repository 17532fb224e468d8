//! Checkpoints as C2SP signed notes: the signed-note spec's Ed25519 example, a vector made with
//! Python's `cryptography` (independent of this crate), round trips, tampering, foreign
//! signers, malformed notes and arbitrary input.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::SigningKey;
use galla_proto::checkpoint::{
    Checkpoint, CheckpointError, MAX_NOTE_BYTES, MAX_SIGNATURES, NoteSigner, NoteVerifier,
};
use galla_proto::merkle::{MemoryTree, leaf_hash};
use proptest::prelude::*;

/// From c2sp.org/signed-note (and golang.org/x/mod/sumdb/note).
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn the_spec_example_verifies() {
    let v = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), 0xc74f20a3);
    assert_eq!(v.vkey(), PETER_VKEY);
    assert_eq!(v.verify_note(PETER_NOTE), Ok(PETER_TEXT));
}

#[test]
fn any_single_byte_change_to_the_spec_example_fails() {
    let v = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
    let note = PETER_NOTE.as_bytes();
    let mut tried = 0;
    for i in 0..note.len() {
        for delta in [0x01u8, 0x20, 0x80] {
            let mut changed = note.to_vec();
            changed[i] ^= delta;
            // Not UTF-8 any more: it cannot even be handed over as a note.
            let Ok(changed) = String::from_utf8(changed) else {
                continue;
            };
            tried += 1;
            assert!(
                v.verify_note(&changed).is_err(),
                "byte {i} ^ {delta:#x} verified"
            );
        }
    }
    assert!(tried >= 2 * (note.len() - 3), "only {tried} changes tried");

    // And every bit of the decoded key ID and signature.
    let (text, line) = PETER_NOTE.rsplit_once("\n\n").unwrap();
    let b64 = line.trim_end().rsplit_once(' ').unwrap().1;
    let blob = BASE64.decode(b64).unwrap();
    for bit in 0..blob.len() * 8 {
        let mut bad = blob.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let forged = format!("{text}\n\n\u{2014} PeterNeumann {}\n", BASE64.encode(&bad));
        let err = v.verify_note(&forged).unwrap_err();
        if bit < 32 {
            // Another key ID is another key: skipped, so nothing of ours is left.
            assert!(
                matches!(err, CheckpointError::NotSignedByKey { .. }),
                "{err}"
            );
        } else {
            assert!(matches!(err, CheckpointError::BadSignature { .. }), "{err}");
        }
    }
}

#[test]
fn verifier_keys_are_checked() {
    for (vkey, what) in [
        (
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "wrong ID",
        ),
        (
            "PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "wrong name",
        ),
        (
            "PeterNeumann+c74f20a3+AhpjMQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "wrong type",
        ),
        (
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
            "bad base64",
        ),
        (
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy",
            "short key",
        ),
        (
            "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "short ID",
        ),
        ("PeterNeumann+c74f20a3", "no key"),
        ("PeterNeumann", "no parts"),
        (
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "no name",
        ),
        (
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "space",
        ),
        ("", "empty"),
    ] {
        assert!(NoteVerifier::from_vkey(vkey).is_err(), "{what}: {vkey}");
    }
    // A small-order point (the identity) with a matching ID is still refused.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut typed = vec![1u8];
    typed.extend_from_slice(&identity);
    let id = {
        use sha2::{Digest, Sha256};
        let d = Sha256::digest([b"weak\n\x01".as_slice(), &identity].concat());
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    };
    let weak = format!("weak+{id:08x}+{}", BASE64.encode(typed));
    assert!(matches!(
        NoteVerifier::from_vkey(&weak),
        Err(CheckpointError::MalformedVerifierKey(_))
    ));
}

fn signer() -> NoteSigner {
    NoteSigner::new("galla.example/log", SigningKey::from_bytes(&[7; 32])).unwrap()
}

const ORIGIN: &str = "galla.example/log/0192f0a0-0000-7000-8000-000000000001";

fn checkpoint() -> Checkpoint {
    let mut tree = MemoryTree::new();
    for i in 0..5 {
        tree.push_data(format!("audit-{i}").as_bytes()).unwrap();
    }
    Checkpoint {
        origin: ORIGIN.into(),
        size: tree.size(),
        root: tree.root(),
        extensions: vec![],
    }
}

/// Made with Python's `cryptography` (Ed25519 of seed [7; 32], SHA-256 key ID, base64), from
/// the spec, not from this crate; the root is the MTH of "audit-0" .. "audit-4".
const PYTHON_VKEY: &str = "galla.example/log+00ff42e0+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs";
const PYTHON_NOTE: &str = "galla.example/log/0192f0a0-0000-7000-8000-000000000001\n5\ny2j/7mrc8iJB1Hi8TRwS4Mn1c8SDZw+Kusdr/my46kA=\n\n\u{2014} galla.example/log AP9C4DlnWLxyyo0ThyvKsspkxl0e7XYEyu9R0Kfkq3cj9dr6L9LwoWAs3OCkuDQhs6vk3PxsUjOl1H+4WwqLxjKmLQQ=\n";

#[test]
fn signing_matches_an_independent_implementation() {
    let s = signer();
    assert_eq!(s.vkey(), PYTHON_VKEY);
    assert_eq!(s.key_id(), 0x00ff42e0);
    assert_eq!(s.sign_checkpoint(&checkpoint()).unwrap(), PYTHON_NOTE);
    let v = NoteVerifier::from_vkey(PYTHON_VKEY).unwrap();
    assert_eq!(v.verify_checkpoint(PYTHON_NOTE, ORIGIN), Ok(checkpoint()));
}

#[test]
fn a_signed_checkpoint_round_trips() {
    let s = signer();
    let v = NoteVerifier::from_vkey(&s.vkey()).unwrap();
    assert_eq!(v, s.verifier());
    let mut cp = checkpoint();
    cp.extensions = vec!["one extension".into(), "— another, with a dash".into()];
    let note = s.sign_checkpoint(&cp).unwrap();
    assert_eq!(v.verify_checkpoint(&note, ORIGIN), Ok(cp.clone()));
    assert_eq!(Checkpoint::parse(&cp.to_note_text().unwrap()), Ok(cp));

    let empty = Checkpoint {
        origin: ORIGIN.into(),
        size: 0,
        root: galla_proto::merkle::empty_root(),
        extensions: vec![],
    };
    let note = s.sign_checkpoint(&empty).unwrap();
    assert!(note.starts_with(&format!(
        "{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\u{2014} galla.example/log "
    )));
    assert_eq!(v.verify_checkpoint(&note, ORIGIN), Ok(empty));
}

/// Re-signs nothing: replaces one line of the text and keeps the signature.
fn with_line(note: &str, line: usize, new: &str) -> String {
    let (text, sigs) = note.split_once("\n\n").unwrap();
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines[line] = new;
    format!("{}\n\n{sigs}", lines.join("\n"))
}

#[test]
fn tampered_checkpoints_are_refused() {
    let s = signer();
    let v = s.verifier();
    let cp = checkpoint();
    let note = s.sign_checkpoint(&cp).unwrap();

    let other_root = BASE64.encode(leaf_hash(b"forged"));
    for forged in [
        with_line(&note, 0, "galla.example/log/another-tenant"),
        with_line(&note, 1, "6"),
        with_line(&note, 1, "4"),
        with_line(&note, 2, &other_root),
        note.replacen("\n\n", "\nextension\n\n", 1),
    ] {
        assert!(
            matches!(
                v.verify_checkpoint(&forged, ORIGIN),
                Err(CheckpointError::BadSignature { .. })
            ),
            "{forged}"
        );
    }

    // A genuine checkpoint of another log (another origin) is not this log's.
    let mut elsewhere = cp.clone();
    elsewhere.origin = "galla.example/log/another-tenant".into();
    let note = s.sign_checkpoint(&elsewhere).unwrap();
    assert_eq!(
        v.verify_checkpoint(&note, ORIGIN),
        Err(CheckpointError::OriginMismatch {
            expected: ORIGIN.into(),
            found: "galla.example/log/another-tenant".into(),
        })
    );
}

#[test]
fn another_key_is_refused_and_foreign_signers_are_skipped() {
    let ours = signer();
    let v = ours.verifier();
    let cp = checkpoint();
    let theirs = NoteSigner::new("witness.example", SigningKey::from_bytes(&[9; 32])).unwrap();
    let impostor = NoteSigner::new("galla.example/log", SigningKey::from_bytes(&[9; 32])).unwrap();

    let only_theirs = theirs.sign_checkpoint(&cp).unwrap();
    assert_eq!(
        v.verify_checkpoint(&only_theirs, ORIGIN),
        Err(CheckpointError::NotSignedByKey {
            name: "galla.example/log".into()
        })
    );
    // Our name, another key (so another key ID): not ours, skipped.
    let by_impostor = impostor.sign_checkpoint(&cp).unwrap();
    assert!(matches!(
        v.verify_checkpoint(&by_impostor, ORIGIN),
        Err(CheckpointError::NotSignedByKey { .. })
    ));

    // A witness cosignature and the impostor's line next to ours are skipped.
    let note = ours.sign_checkpoint(&cp).unwrap();
    let line_of = |n: &str| n.rsplit_once("\n\n").unwrap().1.to_owned();
    let cosigned = format!("{note}{}{}", line_of(&only_theirs), line_of(&by_impostor));
    assert_eq!(v.verify_checkpoint(&cosigned, ORIGIN), Ok(cp.clone()));
    let cosigned_first = format!(
        "{}\n{}{}",
        cp.to_note_text().unwrap(),
        line_of(&only_theirs),
        line_of(&note)
    );
    assert_eq!(v.verify_checkpoint(&cosigned_first, ORIGIN), Ok(cp.clone()));
    // ... and the witness verifies the same note with its own key.
    assert_eq!(
        theirs.verifier().verify_checkpoint(&cosigned, ORIGIN),
        Ok(cp.clone())
    );

    // A second line with our name and key ID that does not verify spoils the note.
    let ours_line = line_of(&note);
    let (prefix, b64) = ours_line.trim_end().rsplit_once(' ').unwrap();
    let mut blob = BASE64.decode(b64).unwrap();
    blob[10] ^= 1;
    let bad_twin = format!("{note}{prefix} {}\n", BASE64.encode(&blob));
    assert!(matches!(
        v.verify_checkpoint(&bad_twin, ORIGIN),
        Err(CheckpointError::BadSignature { .. })
    ));
    // So does one of the right key ID but a signature of the wrong length.
    let short_twin = format!("{note}{prefix} {}\n", BASE64.encode(&blob[..40]));
    assert!(matches!(
        v.verify_checkpoint(&short_twin, ORIGIN),
        Err(CheckpointError::BadSignature { .. })
    ));
}

#[test]
fn malformed_notes_get_errors() {
    let s = signer();
    let v = s.verifier();
    let note = s.sign_checkpoint(&checkpoint()).unwrap();
    let (text, sig_line) = note.rsplit_once("\n\n").unwrap();
    let text = format!("{text}\n");
    let line = |n: &str| -> usize {
        match v.verify_note(n) {
            Err(CheckpointError::MalformedSignatureLine { line, .. }) => line,
            other => panic!("{n:?}: {other:?}"),
        }
    };

    // No blank line, or nothing after it.
    assert_eq!(
        v.verify_note(&text),
        Err(CheckpointError::MissingSignatures)
    );
    assert_eq!(
        v.verify_note(&format!("{text}\n")),
        Err(CheckpointError::MissingSignatures)
    );
    assert_eq!(
        v.verify_note(note.trim_end_matches('\n')),
        Err(CheckpointError::MissingSignatures)
    );
    assert_eq!(v.verify_note(""), Err(CheckpointError::MissingSignatures));
    // Signature lines that are not.
    assert_eq!(line(&note.replace('\u{2014}', "-")), 1);
    assert_eq!(line(&note.replace("\u{2014} ", "\u{2014}")), 1);
    assert_eq!(line(&format!("{text}\n{}", sig_line.replace('=', "!"))), 1);
    assert_eq!(line(&format!("{note}\u{2014} name AAAA\n")), 2);
    assert_eq!(line(&format!("{note}\u{2014} name\n")), 2);
    assert_eq!(line(&format!("{note}\u{2014}  AAAAAAAA\n")), 2);
    assert_eq!(line(&format!("{note}\u{2014} a+b AAAAAAAA\n")), 2);
    assert_eq!(line(&format!("{note}\u{2014} name AAAAAAAA extra\n")), 2);
    assert_eq!(
        v.verify_note(&format!("{note}\n")),
        Err(CheckpointError::MissingSignatures)
    );
    // Control characters anywhere.
    assert_eq!(
        v.verify_note(&note.replacen('\n', "\r\n", 1)),
        Err(CheckpointError::ControlCharacter(0x0d))
    );
    assert_eq!(
        v.verify_note(&format!("{note}\u{0}")),
        Err(CheckpointError::ControlCharacter(0))
    );

    // Checkpoint bodies: all of these are signed, so only the body rules refuse them.
    for (body, want) in [
        (
            format!("{ORIGIN}\n05\nAAAA\n"),
            CheckpointError::BadTreeSize,
        ),
        (
            format!("{ORIGIN}\n+5\n{}\n", BASE64.encode([0; 32])),
            CheckpointError::BadTreeSize,
        ),
        (
            format!("{ORIGIN}\n5\n{}\n", BASE64.encode([0; 31])),
            CheckpointError::BadRootHash,
        ),
        (
            format!("{ORIGIN}\n5\n{}\n", BASE64.encode([0; 33])),
            CheckpointError::BadRootHash,
        ),
        (
            format!("{ORIGIN}\n5\n{}\n", hex::encode([0; 32])),
            CheckpointError::BadRootHash,
        ),
        (format!("{ORIGIN}\n5\n"), CheckpointError::TooFewLines(2)),
        (
            format!("\n5\n{}\n", BASE64.encode([0; 32])),
            CheckpointError::EmptyOrigin,
        ),
        (
            format!(
                "{ORIGIN}\n5\n{}\nfine\n\nafter a blank\n",
                BASE64.encode([0; 32])
            ),
            CheckpointError::EmptyExtensionLine(2),
        ),
    ] {
        let signed = s.sign_note(&body).unwrap();
        assert_eq!(v.verify_checkpoint(&signed, ORIGIN), Err(want), "{body:?}");
    }
    assert_eq!(
        Checkpoint::parse(&format!("{ORIGIN}\n5\n{}", BASE64.encode([0; 32]))),
        Err(CheckpointError::MissingFinalNewline)
    );
}

#[test]
fn sizes_and_signature_counts_are_bounded() {
    let s = signer();
    let v = s.verifier();
    let cp = checkpoint();
    let note = s.sign_checkpoint(&cp).unwrap();

    let mut huge = note.clone();
    huge.push_str(&"x".repeat(MAX_NOTE_BYTES + 1 - huge.len()));
    assert_eq!(
        v.verify_note(&huge),
        Err(CheckpointError::NoteTooLarge {
            len: MAX_NOTE_BYTES + 1,
            limit: MAX_NOTE_BYTES
        })
    );

    let theirs = NoteSigner::new("witness.example", SigningKey::from_bytes(&[9; 32])).unwrap();
    let foreign = theirs.sign_checkpoint(&cp).unwrap();
    let foreign_line = foreign.rsplit_once("\n\n").unwrap().1;
    let with_lines = |extra: usize| format!("{note}{}", foreign_line.repeat(extra));
    assert_eq!(
        v.verify_checkpoint(&with_lines(MAX_SIGNATURES - 1), ORIGIN),
        Ok(cp.clone())
    );
    assert_eq!(
        v.verify_checkpoint(&with_lines(MAX_SIGNATURES), ORIGIN),
        Err(CheckpointError::TooManySignatures {
            limit: MAX_SIGNATURES
        })
    );

    // The signer refuses to make a note no verifier would take.
    let mut big = cp.clone();
    big.extensions = vec!["y".repeat(MAX_NOTE_BYTES)];
    assert!(matches!(
        s.sign_checkpoint(&big),
        Err(CheckpointError::NoteTooLarge { .. })
    ));
}

#[test]
fn checkpoints_that_would_read_back_differently_are_not_signed() {
    let s = signer();
    let cases = [
        (
            Checkpoint {
                origin: "".into(),
                ..checkpoint()
            },
            CheckpointError::EmptyOrigin,
        ),
        (
            Checkpoint {
                origin: "a\n6".into(),
                ..checkpoint()
            },
            CheckpointError::NewlineInField("origin"),
        ),
        (
            Checkpoint {
                extensions: vec!["".into()],
                ..checkpoint()
            },
            CheckpointError::EmptyExtensionLine(1),
        ),
        (
            Checkpoint {
                extensions: vec!["a\n\nb".into()],
                ..checkpoint()
            },
            CheckpointError::NewlineInField("extension line"),
        ),
        (
            Checkpoint {
                origin: "tab\there".into(),
                ..checkpoint()
            },
            CheckpointError::ControlCharacter(9),
        ),
    ];
    for (cp, want) in cases {
        assert_eq!(s.sign_checkpoint(&cp), Err(want.clone()), "{cp:?}");
        assert_eq!(cp.to_note_text(), Err(want));
    }
    assert_eq!(
        s.sign_note("no final newline"),
        Err(CheckpointError::MissingFinalNewline)
    );
    for bad in ["", "a b", "a+b", "a\u{3000}b"] {
        assert!(
            NoteSigner::new(bad, SigningKey::from_bytes(&[7; 32])).is_err(),
            "{bad:?}"
        );
    }
}

fn origin_strategy() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1f]{1,60}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_checkpoint_round_trips(
        origin in origin_strategy(),
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        extensions in prop::collection::vec(origin_strategy(), 0..4),
    ) {
        let cp = Checkpoint { origin: origin.clone(), size, root, extensions };
        let text = cp.to_note_text().unwrap();
        prop_assert_eq!(Checkpoint::parse(&text), Ok(cp.clone()));
        let s = signer();
        let note = s.sign_checkpoint(&cp).unwrap();
        prop_assert_eq!(s.verifier().verify_checkpoint(&note, &origin), Ok(cp));
    }

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        let v = signer().verifier();
        let _ = Checkpoint::parse(&input);
        prop_assert!(v.verify_note(&input).is_err());
        prop_assert!(v.verify_checkpoint(&input, ORIGIN).is_err());
        let _ = NoteVerifier::from_vkey(&input);
    }

    /// Note-shaped input: text lines, a blank line and signature-like lines.
    #[test]
    fn note_shaped_garbage_never_panics(
        lines in prop::collection::vec("[a-zA-Z0-9+/= \u{2014}]{0,20}", 0..8),
        sigs in prop::collection::vec("(\u{2014} )?[a-z+ ]{0,8} ?[A-Za-z0-9+/=]{0,100}", 0..5),
    ) {
        let note = format!("{}\n\n{}\n", lines.join("\n"), sigs.join("\n"));
        let v = signer().verifier();
        prop_assert!(v.verify_checkpoint(&note, ORIGIN).is_err());
        let _ = Checkpoint::parse(&format!("{}\n", lines.join("\n")));
    }

    /// One byte of a real signed checkpoint changed (keeping it UTF-8): always refused.
    #[test]
    fn any_change_to_a_signed_checkpoint_is_refused(at in any::<prop::sample::Index>(), delta in 1u8..) {
        let s = signer();
        let note = s.sign_checkpoint(&checkpoint()).unwrap();
        let mut bytes = note.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] ^= delta;
        if let Ok(changed) = String::from_utf8(bytes) {
            prop_assert!(s.verifier().verify_checkpoint(&changed, ORIGIN).is_err());
        }
    }
}
