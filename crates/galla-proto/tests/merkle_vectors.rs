//! The Merkle tree against published data: the transparency-dev/merkle proof vectors (every
//! file, accept and reject), the certificate-transparency reference tree of 8 leaves, and
//! Trillian's roots of larger trees. None of these values comes from this crate.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use galla_proto::merkle::{
    Frontier, Hash, MemoryTree, ProofError, empty_root, leaf_hash, verify_consistency,
    verify_inclusion,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `GALLA_RFC6962_VECTORS`, or the copy kept with these tests (transparency-dev/merkle's
/// testdata, Apache 2.0, LICENSE beside it), so a clean checkout tests against them.
fn vectors_dir() -> PathBuf {
    match std::env::var_os("GALLA_RFC6962_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc6962-vectors"),
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read vector directory {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn bytes_of(v: &Value, field: &str) -> Vec<u8> {
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string"));
    BASE64
        .decode(text)
        .unwrap_or_else(|e| panic!("{field} is not base64: {e}"))
}

/// The vectors come from the Go verifier, which takes hashes as byte slices, and some hold
/// values that are not 32 bytes ("", "WrongLeaf", "don't care 1"). That verifier refuses a leaf
/// hash of the wrong size (our `Hash` type does, by construction: see `verify_inclusion_vector`);
/// any other value only takes part in equality checks and hashing, so it is mapped to 32 bytes
/// injectively (a hash with a tag no tree node has), which keeps the vector's meaning.
fn hash_of(v: &Value, field: &str, mapped: &mut usize) -> Hash {
    let bytes = bytes_of(v, field);
    match Hash::try_from(bytes.as_slice()) {
        Ok(h) => h,
        Err(_) => {
            *mapped += 1;
            let mut h = Sha256::new();
            h.update(b"galla test: not a 32-byte hash\0");
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(&bytes);
            h.finalize().into()
        }
    }
}

fn proof_of(v: &Value, mapped: &mut usize) -> Vec<Hash> {
    match v.get("proof") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| hash_of(item, "proof", mapped))
            .collect(),
        Some(other) => panic!("proof is neither null nor an array: {other}"),
    }
}

fn u64_of(v: &Value, field: &str) -> u64 {
    v.get(field)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{field} is missing or not a u64"))
}

/// Err(None) when the leaf hash is not 32 bytes: a caller cannot even make a `Hash` of it.
fn verify_inclusion_vector(v: &Value, mapped: &mut usize) -> Result<(), Option<ProofError>> {
    let Ok(leaf) = Hash::try_from(bytes_of(&v["leafHash"], "leafHash").as_slice()) else {
        *mapped += 1;
        return Err(None);
    };
    verify_inclusion(
        u64_of(v, "leafIdx"),
        u64_of(v, "treeSize"),
        &leaf,
        &proof_of(v, mapped),
        &hash_of(&v["root"], "root", mapped),
    )
    .map_err(Some)
}

#[test]
fn every_published_proof_vector_is_accepted_or_rejected_as_published() {
    let dir = vectors_dir();
    assert!(
        dir.is_dir(),
        "the RFC 6962 proof vectors are not at {} (set GALLA_RFC6962_VECTORS to their directory)",
        dir.display()
    );
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();

    let (mut inclusion, mut consistency, mut accepted, mut rejected, mut mapped) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
        let want_err = v.get("wantErr").and_then(Value::as_bool).unwrap_or(false);
        let result = if v.get("leafIdx").is_some() {
            inclusion += 1;
            verify_inclusion_vector(&v, &mut mapped)
        } else if v.get("size1").is_some() {
            consistency += 1;
            verify_consistency(
                u64_of(&v, "size1"),
                u64_of(&v, "size2"),
                &proof_of(&v, &mut mapped),
                &hash_of(&v["root1"], "root1", &mut mapped),
                &hash_of(&v["root2"], "root2", &mut mapped),
            )
            .map_err(Some)
        } else {
            panic!(
                "{} is neither an inclusion nor a consistency vector",
                file.display()
            );
        };
        if want_err {
            rejected += 1;
        } else {
            accepted += 1;
        }
        if result.is_err() != want_err {
            failures.push(format!(
                "{}: wantErr {want_err}, got {result:?}",
                file.strip_prefix(&dir).unwrap_or(file).display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        files.len() > 150,
        "only {} vector files under {}",
        files.len(),
        dir.display()
    );
    assert!(
        inclusion > 50 && consistency > 50,
        "{inclusion} inclusion, {consistency} consistency"
    );
    assert!(
        accepted >= 10 && rejected > 100,
        "{accepted} accepted, {rejected} rejected"
    );
    assert!(
        mapped > 0,
        "no odd-length hash was seen; has the vector format changed?"
    );
}

/// The 8 leaves of the certificate-transparency reference tests (merkle_tree_test.cc).
const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Their roots for sizes 1 to 8.
const CT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// Published inclusion proofs: (leaf index, tree size, path).
const CT_INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// Published consistency proofs: (size1, size2, proof).
const CT_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn hashes(list: &[&str]) -> Vec<Hash> {
    list.iter()
        .map(|s| Hash::try_from(unhex(s).as_slice()).unwrap())
        .collect()
}

fn ct_tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in CT_LEAVES {
        tree.push_data(&unhex(leaf)).unwrap();
    }
    tree
}

#[test]
fn the_reference_tree_has_the_published_roots() {
    let tree = ct_tree();
    assert_eq!(
        hex::encode(tree.root_at(0).unwrap()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let mut frontier = Frontier::new();
    assert_eq!(frontier.root(), empty_root());
    for (i, (leaf, root)) in CT_LEAVES.iter().zip(CT_ROOTS).enumerate() {
        frontier.append(leaf_hash(&unhex(leaf))).unwrap();
        let size = i as u64 + 1;
        assert_eq!(hex::encode(frontier.root()), root, "frontier, size {size}");
        assert_eq!(
            hex::encode(tree.root_at(size).unwrap()),
            root,
            "memory tree, size {size}"
        );
    }
}

#[test]
fn the_reference_tree_gives_and_accepts_the_published_proofs() {
    let tree = ct_tree();
    for (index, size, path) in CT_INCLUSION {
        let want = hashes(path);
        assert_eq!(
            tree.inclusion_proof(index, size).unwrap(),
            want,
            "inclusion {index} in {size}"
        );
        let leaf = leaf_hash(&unhex(CT_LEAVES[index as usize]));
        let root = hashes(&[CT_ROOTS[size as usize - 1]])[0];
        assert_eq!(verify_inclusion(index, size, &leaf, &want, &root), Ok(()));
    }
    for (size1, size2, path) in CT_CONSISTENCY {
        let want = hashes(path);
        assert_eq!(
            tree.consistency_proof(size1, size2).unwrap(),
            want,
            "consistency {size1} to {size2}"
        );
        let root1 = hashes(&[CT_ROOTS[size1 as usize - 1]])[0];
        let root2 = hashes(&[CT_ROOTS[size2 as usize - 1]])[0];
        assert_eq!(
            verify_consistency(size1, size2, &want, &root1, &root2),
            Ok(())
        );
    }
}

/// Trillian's compact-tree test (TestRootHashForVariousTreeSizes): leaf i is the two bytes
/// `[i & 0xff, (i >> 8) & 0xff]`.
#[test]
fn larger_trees_have_the_roots_trillian_publishes() {
    const ROOTS: [(u64, &str); 11] = [
        (10, "VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4="),
        (15, "j4SulYmocFuxdeyp12xXCIgK6PekBcxzAIj4zbQzNEI="),
        (16, "c+4Uc6BCMOZf/v3NZK1kqTUJe+bBoFtOhP+P3SayKRE="),
        (100, "dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY="),
        (255, "SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0="),
        (256, "qFI0t/tZ1MdOYgyPpPzHFiZVw86koScXy9q3FU5casA="),
        (1000, "RXrgb8xHd55Y48FbfotJwCbV82Kx22LZfEbmBGAvwlQ="),
        (4095, "cWRFdQhPcjn9WyBXE/r1f04ejxIm5lvg40DEpRBVS0w="),
        (4096, "6uU/phfHg1n/GksYT6TO9aN8EauMCCJRl3dIK0HDs2M="),
        (10000, "VZcav65F9haHVRk3wre2axFoBXRNeUh/1d9d5FQfxIg="),
        (65535, "iPuVYJhP6SEE4gUFp8qbafd2rYv9YTCDYqAxCj8HdLM="),
    ];
    let mut tree = MemoryTree::new();
    for i in 0..65535u64 {
        tree.push_data(&[(i & 0xff) as u8, ((i >> 8) & 0xff) as u8])
            .unwrap();
    }
    for (size, root) in ROOTS {
        assert_eq!(
            BASE64.encode(tree.root_at(size).unwrap()),
            root,
            "size {size}"
        );
    }
    assert_eq!(BASE64.encode(tree.root()), ROOTS[10].1);
}
