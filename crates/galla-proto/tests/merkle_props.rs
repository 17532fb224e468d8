//! The Merkle tree against a naive RFC 6962 MTH, exhaustively on small trees and by property on
//! random ones: generated proofs verify, and any change to a proof, index or size is refused.

use std::cell::RefCell;
use std::collections::BTreeSet;

use galla_proto::merkle::{
    Frontier, Hash, MemoryTree, ProofError, consistency_plan, inclusion_plan, leaf_hash, node_hash,
    root_plan, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// MTH straight from RFC 6962 section 2.1: recursive, on the entries themselves.
fn naive_mth(entries: &[Vec<u8>]) -> Hash {
    match entries.len() {
        0 => Sha256::digest([]).into(),
        1 => leaf_hash(&entries[0]),
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_mth(&entries[..k]), &naive_mth(&entries[k..]))
        }
    }
}

fn entries(n: u64) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
}

fn tree_of(entries: &[Vec<u8>]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for e in entries {
        tree.push_data(e).unwrap();
    }
    tree
}

fn flip(proof: &[Hash], element: usize, bit: usize) -> Vec<Hash> {
    let mut bad = proof.to_vec();
    bad[element][bit / 8 % 32] ^= 1 << (bit % 8);
    bad
}

const N: u64 = 300;

#[test]
fn every_root_of_a_300_leaf_tree_matches_the_naive_mth() {
    let entries = entries(N);
    let tree = tree_of(&entries);
    let mut frontier = Frontier::new();
    for size in 0..=N {
        let naive = naive_mth(&entries[..size as usize]);
        assert_eq!(frontier.root(), naive, "frontier, size {size}");
        assert_eq!(
            tree.root_at(size).unwrap(),
            naive,
            "memory tree, size {size}"
        );
        if size < N {
            frontier.append(leaf_hash(&entries[size as usize])).unwrap();
        }
    }
    assert_eq!(tree.frontier(), &frontier);
}

#[test]
fn every_stored_node_is_the_mth_of_the_leaves_it_covers() {
    let entries = entries(N);
    let tree = tree_of(&entries);
    let mut checked = 0;
    for level in 0..10u8 {
        for index in 0.. {
            let (lo, hi) = (index << level, (index + 1) << level);
            let Some(hash) = tree.node(level, index) else {
                assert!(hi > N, "node {level}/{index} is missing");
                break;
            };
            assert_eq!(hash, naive_mth(&entries[lo as usize..hi as usize]));
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * N - u64::from(N.count_ones()));
}

#[test]
fn every_inclusion_proof_of_a_300_leaf_tree_verifies_and_every_change_is_refused() {
    let entries = entries(N);
    let tree = tree_of(&entries);
    let roots: Vec<Hash> = (0..=N).map(|s| tree.root_at(s).unwrap()).collect();
    for size in 1..=N {
        let root = &roots[size as usize];
        for index in 0..size {
            let leaf = leaf_hash(&entries[index as usize]);
            let proof = tree.inclusion_proof(index, size).unwrap();
            assert_eq!(verify_inclusion(index, size, &leaf, &proof, root), Ok(()));
            for j in 0..proof.len() {
                let bad = flip(&proof, j, (index as usize + 31 * j) % 256);
                assert!(verify_inclusion(index, size, &leaf, &bad, root).is_err());
            }
            for other in [index.wrapping_sub(1), index + 1, index ^ 2] {
                if other != index {
                    assert!(verify_inclusion(other, size, &leaf, &proof, root).is_err());
                }
            }
            // Another size, with that size's own root: the proof must not carry over.
            for other in [size - 1, size + 1, size * 2, size / 2] {
                if other != size && other <= N {
                    let r = &roots[other as usize];
                    assert!(verify_inclusion(index, other, &leaf, &proof, r).is_err());
                }
            }
            if !proof.is_empty() {
                let short = &proof[..proof.len() - 1];
                assert!(verify_inclusion(index, size, &leaf, short, root).is_err());
            }
            let mut long = proof.clone();
            long.push(*root);
            assert!(verify_inclusion(index, size, &leaf, &long, root).is_err());
        }
    }
}

#[test]
fn every_consistency_proof_of_a_300_leaf_tree_verifies_and_every_change_is_refused() {
    let tree = tree_of(&entries(N));
    let roots: Vec<Hash> = (0..=N).map(|s| tree.root_at(s).unwrap()).collect();
    for size2 in 1..=N {
        let root2 = &roots[size2 as usize];
        for size1 in 1..=size2 {
            let root1 = &roots[size1 as usize];
            let proof = tree.consistency_proof(size1, size2).unwrap();
            assert_eq!(
                verify_consistency(size1, size2, &proof, root1, root2),
                Ok(())
            );
            if size1 == size2 {
                assert!(proof.is_empty());
                continue;
            }
            for j in 0..proof.len() {
                let bad = flip(&proof, j, (size1 as usize + 31 * j) % 256);
                assert!(verify_consistency(size1, size2, &bad, root1, root2).is_err());
            }
            for (s1, s2) in [
                (size1 - 1, size2),
                (size1 + 1, size2),
                (size1 ^ 2, size2),
                (size1, size2 - 1),
                (size1, size2 + 1),
                (size1, size2 * 2),
            ] {
                if (s1, s2) != (size1, size2) && s1 <= N && s2 <= N {
                    let (r1, r2) = (&roots[s1 as usize], &roots[s2 as usize]);
                    assert!(
                        verify_consistency(s1, s2, &proof, r1, r2).is_err(),
                        "proof {size1}->{size2} passed as {s1}->{s2}"
                    );
                }
            }
            assert!(verify_consistency(size1, size2, &proof, root2, root1).is_err());
            assert!(verify_consistency(size1, size2, &proof[1..], root1, root2).is_err());
            let mut long = proof.clone();
            long.push(*root2);
            assert!(verify_consistency(size1, size2, &long, root1, root2).is_err());
        }
    }
}

/// RFC 9162 inclusion proofs bind the leaf index but not the tree size: the proof of leaf 0 in
/// the tree of 3 leaves, [leaf 1, leaf 2], also fits a tree of 4 leaves, against the root of 3.
/// Harmless only because the size and root come together from a signed checkpoint; this test
/// pins the property so that nobody relies on the proof for the size.
#[test]
fn an_inclusion_proof_does_not_by_itself_bind_the_tree_size() {
    let entries = entries(4);
    let tree = tree_of(&entries);
    let proof = tree.inclusion_proof(0, 3).unwrap();
    let root3 = tree.root_at(3).unwrap();
    let leaf = leaf_hash(&entries[0]);
    assert_eq!(verify_inclusion(0, 4, &leaf, &proof, &root3), Ok(()));
    assert!(verify_inclusion(0, 4, &leaf, &proof, &tree.root_at(4).unwrap()).is_err());
}

fn random_entries() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..=300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn frontier_memory_tree_and_naive_mth_agree(entries in random_entries(), cut in any::<prop::sample::Index>()) {
        let tree = tree_of(&entries);
        let n = entries.len();
        let cut = cut.index(n + 1);
        let mut frontier = Frontier::new();
        for (i, e) in entries.iter().enumerate().take(cut) {
            prop_assert_eq!(frontier.root(), naive_mth(&entries[..i]));
            frontier.append(leaf_hash(e)).unwrap();
        }
        // Persist and reload the edge, then carry on appending.
        let (size, hashes) = frontier.to_parts();
        let mut reloaded = Frontier::from_parts(size, hashes).unwrap();
        prop_assert_eq!(&reloaded, &frontier);
        for (i, e) in entries.iter().enumerate().skip(cut) {
            prop_assert_eq!(reloaded.root(), naive_mth(&entries[..i]));
            for node in reloaded.append(leaf_hash(e)).unwrap() {
                prop_assert_eq!(tree.node(node.level, node.index), Some(node.hash));
            }
        }
        prop_assert_eq!(reloaded.root(), naive_mth(&entries));
        prop_assert_eq!(reloaded.root(), tree.root());
        prop_assert_eq!(reloaded.size(), n as u64);
    }

    #[test]
    fn random_proofs_verify_and_a_flipped_bit_is_refused(
        entries in random_entries(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        element in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        let tree = tree_of(&entries);
        let n = entries.len() as u64;
        let size = b.index(n as usize) as u64 + 1;
        let index = a.index(size as usize) as u64;
        let root = tree.root_at(size).unwrap();
        let leaf = leaf_hash(&entries[index as usize]);
        let proof = tree.inclusion_proof(index, size).unwrap();
        prop_assert_eq!(verify_inclusion(index, size, &leaf, &proof, &root), Ok(()));
        if !proof.is_empty() {
            let bad = flip(&proof, element.index(proof.len()), bit);
            prop_assert!(verify_inclusion(index, size, &leaf, &bad, &root).is_err());
        }
        let mut bad_leaf = leaf;
        bad_leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(index, size, &bad_leaf, &proof, &root).is_err());

        let size1 = index + 1;
        let root1 = tree.root_at(size1).unwrap();
        let proof = tree.consistency_proof(size1, size).unwrap();
        prop_assert_eq!(verify_consistency(size1, size, &proof, &root1, &root), Ok(()));
        if !proof.is_empty() {
            let bad = flip(&proof, element.index(proof.len()), bit);
            prop_assert!(verify_consistency(size1, size, &bad, &root1, &root).is_err());
        }
        let mut bad_root = root1;
        bad_root[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(size1, size, &proof, &bad_root, &root).is_err());
    }

    /// Plans at any size, up to u64::MAX: the proof length they give is the one the verifiers
    /// expect (a proof of that length fails on its hashes, never on its length), and assembling
    /// asks only for the nodes the plan lists.
    #[test]
    fn plans_and_verifiers_agree_on_proof_length_at_any_size(
        x in any::<u64>(),
        y in any::<u64>(),
        seed in any::<u8>(),
    ) {
        let (lo, hi) = (x.min(y), x.max(y));
        let filler = |l: u8, i: u64| {
            let mut h = [seed; 32];
            h[0] = l;
            h[1..9].copy_from_slice(&i.to_be_bytes());
            Some(h)
        };
        if lo < hi {
            let plan = inclusion_plan(lo, hi).unwrap();
            let listed: BTreeSet<_> = plan.nodes().into_iter().collect();
            let asked = RefCell::new(BTreeSet::new());
            let proof = plan.assemble(|l, i| { asked.borrow_mut().insert((l, i)); filler(l, i) }).unwrap();
            prop_assert_eq!(asked.into_inner(), listed);
            prop_assert_eq!(proof.len(), plan.len());
            let r = verify_inclusion(lo, hi, &[seed; 32], &proof, &[0; 32]);
            prop_assert_eq!(r, Err(ProofError::RootMismatch));
        }
        if lo > 0 && lo < hi {
            let plan = consistency_plan(lo, hi).unwrap();
            let proof = plan.assemble(filler).unwrap();
            let r = verify_consistency(lo, hi, &proof, &[0; 32], &[0; 32]);
            prop_assert!(
                matches!(r, Err(ProofError::RootMismatch | ProofError::OldRootMismatch)),
                "{:?}", r
            );
        }
        prop_assert_eq!(root_plan(hi).len(), 1);
        prop_assert_eq!(root_plan(hi).nodes().len(), hi.count_ones() as usize);
    }

    /// Untrusted proofs: any sizes, any number of hashes, never a panic.
    #[test]
    fn verifiers_refuse_garbage_without_panicking(
        a in any::<u64>(),
        b in any::<u64>(),
        proof in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        r1 in any::<[u8; 32]>(),
        r2 in any::<[u8; 32]>(),
    ) {
        prop_assert!(verify_inclusion(a, b, &r1, &proof, &r2).is_err() || b > a);
        let _ = verify_consistency(a, b, &proof, &r1, &r2);
        let _ = inclusion_plan(a, b);
        let _ = consistency_plan(a, b);
        let _ = Frontier::from_parts(a, proof.clone());
    }
}
