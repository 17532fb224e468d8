//! The RFC 6962 / RFC 9162 Merkle tree of the cloud's transparency log of audit records.
//!
//! The cloud appends every accepted audit record to a per-tenant log and signs its root (see
//! [`crate::checkpoint`]); a terminal checks that its own records are in the log (inclusion) and
//! that the log only ever grew (consistency). Both sides need the same tree, so it lives here.
//!
//! * Verification ([`verify_inclusion`], [`verify_consistency`]) runs on the terminal against
//!   proofs from the network: it follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step and
//!   checks the proof length first, so no input can make it panic or loop.
//! * [`Frontier`] is the right edge of the tree (one hash per set bit of the size): all the
//!   server reads to append, in O(log n), returning the perfect subtrees each leaf completes.
//! * Proofs are built from those stored perfect subtrees in two phases ([`ProofPlan`]): first
//!   the list of nodes, which the server fetches in one query, then the assembly.
//!
//! A perfect node at `level` L and `index` i is the root of the complete subtree over leaves
//! `[i * 2^L, (i + 1) * 2^L)`; level 0 holds the leaf hashes.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an interior node or a root.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`: the hash of one log entry.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`. The prefixes keep a leaf from passing for a node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the tree with no leaves: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Why a proof was refused or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has {got} hashes; a proof for these sizes has {expected}")]
    WrongProofLength { expected: usize, got: usize },
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    #[error("the consistency proof does not lead to the old root")]
    OldRootMismatch,
    #[error("the old tree size {size1} is larger than the new tree size {size2}")]
    SizesOutOfOrder { size1: u64, size2: u64 },
    #[error("a consistency proof from the empty tree proves nothing; check the new tree itself")]
    FromEmptyTree,
    #[error("the perfect node at level {level}, index {index} is not available")]
    MissingNode { level: u8, index: u64 },
    #[error("tree size {size} is larger than the {available} leaves held")]
    BeyondTree { size: u64, available: u64 },
}

/// Checks that `leaf_hash` is leaf `leaf_index` of the tree of `tree_size` leaves whose root is
/// `root` (RFC 9162 section 2.1.3.2).
///
/// The proof binds the index, not the size: a proof for one size can also fit a larger size of
/// the same shape. The size must therefore come from the signed checkpoint, with the root.
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if leaf_index >= tree_size {
        return Err(ProofError::IndexOutOfRange {
            index: leaf_index,
            size: tree_size,
        });
    }
    let expected = inclusion_proof_len(leaf_index, tree_size);
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    let mut f_n = leaf_index;
    let mut s_n = tree_size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if s_n == 0 {
            return Err(wrong_length);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
/// with root `root1` (RFC 9162 section 2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots (for size 0, the empty root). A proof from
/// size 0 to a larger size is refused, as the RFC 6962 test vectors require: every tree extends
/// the empty one, so such a proof says nothing, and a caller with no earlier checkpoint has no
/// consistency to check.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if size1 == 0 && *root1 != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        if root1 != root2 {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    let expected = consistency_proof_len(size1, size2);
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // Step 2: a power-of-two old tree is a perfect subtree of the new one, so the proof leaves
    // out its root, which the verifier already has.
    let (seed, rest) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        match proof.split_first() {
            Some(split) => split,
            None => return Err(wrong_length),
        }
    };
    let mut f_n = size1 - 1;
    let mut s_n = size2 - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut fr = *seed;
    let mut sr = *seed;
    for c in rest {
        if s_n == 0 {
            return Err(wrong_length);
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(wrong_length);
    }
    if fr != *root1 {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Hashes in the inclusion proof of `index` (< `size`): one per level below the node where the
/// paths to `index` and to the last leaf meet (`inner`), plus one per left sibling above it, on
/// the tree's right edge (`border`).
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let (inner, border) = decompose_inclusion(index, size);
    (inner + border) as usize
}

fn decompose_inclusion(index: u64, size: u64) -> (u32, u32) {
    let inner = u64::BITS - (index ^ size.saturating_sub(1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

/// Hashes in the consistency proof from `size1` to `size2` (0 < `size1` < `size2`).
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let (inner, border) = decompose_inclusion(size1 - 1, size2);
    // The lowest levels are covered by the old tree's largest perfect subtree on its right edge.
    let inner = inner.saturating_sub(size1.trailing_zeros());
    let seed = u32::from(!size1.is_power_of_two());
    (seed + inner + border) as usize
}

/// One perfect subtree of the tree, as [`Frontier::append`] completes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node {
    /// 0 for a leaf hash; a node at level L covers 2^L leaves.
    pub level: u8,
    /// Position among the nodes of its level: covers leaves `[index * 2^L, (index + 1) * 2^L)`.
    pub index: u64,
    pub hash: Hash,
}

/// Why a [`Frontier`] could not be rebuilt or grown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    #[error("a tree of {size} leaves has {expected} perfect subtrees on its right edge, not {got}")]
    WrongPartCount {
        size: u64,
        expected: u32,
        got: usize,
    },
    #[error("the tree holds 2^64 - 1 leaves and cannot grow")]
    Full,
}

/// The right edge of an append-only tree: the perfect subtrees covering `[0, size)`, one per
/// set bit of `size`, largest (leftmost) first. It is all the state appending needs, so the
/// server keeps it in one row instead of reading old nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Invariant: `hashes.len() == size.count_ones()`; entry k is at the level of the k-th set
    /// bit of `size`, counted from the most significant.
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds a stored edge: the perfect subtree hashes, one per set bit of `size`, most
    /// significant first (as [`Frontier::to_parts`] gives them).
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier, FrontierError> {
        let expected = size.count_ones();
        if hashes.len() != expected as usize {
            return Err(FrontierError::WrongPartCount {
                size,
                expected,
                got: hashes.len(),
            });
        }
        Ok(Frontier { size, hashes })
    }

    /// The size and the edge hashes, for storage.
    pub fn to_parts(&self) -> (u64, Vec<Hash>) {
        (self.size, self.hashes.clone())
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The edge as nodes with their positions, largest first.
    pub fn nodes(&self) -> Vec<Node> {
        let mut start = 0u64;
        let levels = (0..u64::BITS).rev().filter(|l| (self.size >> l) & 1 == 1);
        levels
            .zip(&self.hashes)
            .map(|(level, hash)| {
                let node = Node {
                    level: level as u8,
                    index: start >> level,
                    hash: *hash,
                };
                start += 1 << level;
                node
            })
            .collect()
    }

    /// The tree's root (RFC 6962 MTH): the edge folded from the right,
    /// `H(s0, H(s1, ... H(s_{k-1}, s_k)))`; the empty root for no leaves.
    pub fn root(&self) -> Hash {
        let mut rest = self.hashes.iter().rev();
        match rest.next() {
            None => empty_root(),
            Some(last) => rest.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }

    /// Appends a leaf (its [`leaf_hash`]) and returns every perfect node it completes, the leaf
    /// itself first (level 0), then upwards; the server stores them for proofs.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<Vec<Node>, FrontierError> {
        let index = self.size;
        let size = index.checked_add(1).ok_or(FrontierError::Full)?;
        // Each trailing one bit of the old size is a subtree of the same size as the one being
        // built, directly to its left: merge it in.
        let merges = index.trailing_ones() as usize;
        let lefts = self
            .hashes
            .split_off(self.hashes.len().saturating_sub(merges));
        let mut nodes = Vec::with_capacity(lefts.len() + 1);
        let mut hash = leaf_hash;
        nodes.push(Node {
            level: 0,
            index,
            hash,
        });
        for (level, left) in (1u8..).zip(lefts.iter().rev()) {
            hash = node_hash(left, &hash);
            nodes.push(Node {
                level,
                index: index >> level,
                hash,
            });
        }
        self.hashes.push(hash);
        self.size = size;
        Ok(nodes)
    }
}

/// A range `[lo, hi)` of leaves: one subtree of the RFC recursion, whose hash is one proof
/// element. Its start is aligned to the largest perfect subtree within it, so it splits into
/// perfect nodes by the binary decomposition of its length, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    lo: u64,
    hi: u64,
}

impl Span {
    fn perfect_nodes(self) -> impl Iterator<Item = (u8, u64)> {
        let mut lo = self.lo;
        let mut remaining = self.hi.saturating_sub(self.lo);
        std::iter::from_fn(move || {
            if remaining == 0 {
                return None;
            }
            let level = (u64::BITS - 1 - remaining.leading_zeros()) as u8;
            let node = (level, lo >> level);
            lo += 1 << level;
            remaining -= 1 << level;
            Some(node)
        })
    }

    /// MTH of the span: its perfect nodes folded from the right (the empty root if empty).
    fn hash(self, lookup: &mut impl FnMut(u8, u64) -> Option<Hash>) -> Result<Hash, ProofError> {
        let mut hashes = Vec::new();
        for (level, index) in self.perfect_nodes() {
            hashes.push(lookup(level, index).ok_or(ProofError::MissingNode { level, index })?);
        }
        let mut rest = hashes.iter().rev();
        Ok(match rest.next() {
            None => empty_root(),
            Some(last) => rest.fold(*last, |acc, left| node_hash(left, &acc)),
        })
    }
}

/// The largest power of two strictly below `n` (n >= 2): where the RFC splits a tree.
fn split_point(n: u64) -> u64 {
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// What a proof (or a root) is made of: each element is the hash of one range of leaves,
/// itself made of perfect nodes. Plan, fetch [`ProofPlan::nodes`] in one go, then
/// [`ProofPlan::assemble`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPlan {
    /// In RFC 9162 order: the order the verifiers consume them.
    spans: Vec<Span>,
}

impl ProofPlan {
    /// Number of hashes the assembled proof has.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Every perfect node `(level, index)` the proof needs, each once, in first-use order.
    pub fn nodes(&self) -> Vec<(u8, u64)> {
        let mut seen = BTreeSet::new();
        self.spans
            .iter()
            .flat_map(|s| s.perfect_nodes())
            .filter(|n| seen.insert(*n))
            .collect()
    }

    /// Builds the proof from the fetched nodes; a node `lookup` does not have is an error.
    pub fn assemble(
        &self,
        mut lookup: impl FnMut(u8, u64) -> Option<Hash>,
    ) -> Result<Vec<Hash>, ProofError> {
        self.spans.iter().map(|s| s.hash(&mut lookup)).collect()
    }
}

/// The plan of the inclusion proof of leaf `leaf_index` in the tree of `tree_size` leaves
/// (RFC 9162 section 2.1.3.1).
pub fn inclusion_plan(leaf_index: u64, tree_size: u64) -> Result<ProofPlan, ProofError> {
    if leaf_index >= tree_size {
        return Err(ProofError::IndexOutOfRange {
            index: leaf_index,
            size: tree_size,
        });
    }
    // PATH(m, D[lo:hi]) = PATH(m, one half) : MTH(other half), so walking down from the root
    // yields the elements last to first.
    let mut spans = Vec::new();
    let (mut lo, mut hi) = (0, tree_size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if leaf_index < mid {
            spans.push(Span { lo: mid, hi });
            hi = mid;
        } else {
            spans.push(Span { lo, hi: mid });
            lo = mid;
        }
    }
    spans.reverse();
    Ok(ProofPlan { spans })
}

/// The plan of the consistency proof from the tree of `size1` leaves to the tree of `size2`
/// (RFC 9162 section 2.1.4.1). Equal sizes give an empty proof; from size 0 there is none
/// (see [`verify_consistency`]).
pub fn consistency_plan(size1: u64, size2: u64) -> Result<ProofPlan, ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        return Ok(ProofPlan { spans: Vec::new() });
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    // SUBPROOF(m, D[lo:hi], b), walked down from the root as for inclusion; `whole` is b: the
    // old tree's root is left out while the old tree is the left edge of the subtree.
    let mut spans = Vec::new();
    let (mut lo, mut hi) = (0, size2);
    let mut whole = true;
    loop {
        if size1 == hi {
            if !whole {
                spans.push(Span { lo, hi });
            }
            break;
        }
        let mid = lo + split_point(hi - lo);
        if size1 <= mid {
            spans.push(Span { lo: mid, hi });
            hi = mid;
        } else {
            spans.push(Span { lo, hi: mid });
            lo = mid;
            whole = false;
        }
    }
    spans.reverse();
    Ok(ProofPlan { spans })
}

/// The plan of the root of the tree of `tree_size` leaves: one element, from the perfect nodes
/// of the binary decomposition of the size. Lets the server compute any earlier root.
pub fn root_plan(tree_size: u64) -> ProofPlan {
    ProofPlan {
        spans: vec![Span {
            lo: 0,
            hi: tree_size,
        }],
    }
}

/// The root of the tree of `tree_size` leaves from stored perfect nodes.
pub fn root_from_nodes(
    tree_size: u64,
    mut lookup: impl FnMut(u8, u64) -> Option<Hash>,
) -> Result<Hash, ProofError> {
    Span {
        lo: 0,
        hi: tree_size,
    }
    .hash(&mut lookup)
}

/// A whole tree in memory: every perfect node, as the server would store them. For tests,
/// benchmarks and tools; proofs go through the same plans as the server's.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[L][i]` is the perfect node at level L, index i; `levels[0]` the leaf hashes.
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends a leaf by its [`leaf_hash`] and returns its index.
    pub fn push(&mut self, leaf_hash: Hash) -> Result<u64, FrontierError> {
        let index = self.frontier.size();
        for node in self.frontier.append(leaf_hash)? {
            let level = usize::from(node.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            if let Some(nodes) = self.levels.get_mut(level) {
                nodes.push(node.hash);
            }
        }
        Ok(index)
    }

    /// Appends a log entry (hashing it with [`leaf_hash`]) and returns its index.
    pub fn push_data(&mut self, data: &[u8]) -> Result<u64, FrontierError> {
        self.push(leaf_hash(data))
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The perfect node at `level`, `index`, if the tree has it.
    pub fn node(&self, level: u8, index: u64) -> Option<Hash> {
        let nodes = self.levels.get(usize::from(level))?;
        nodes.get(usize::try_from(index).ok()?).copied()
    }

    /// The root of the tree when it had `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        root_from_nodes(size, |l, i| self.node(l, i))
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        inclusion_plan(index, size)?.assemble(|l, i| self.node(l, i))
    }

    /// The consistency proof from the tree of `size1` leaves to that of `size2`.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size2)?;
        consistency_plan(size1, size2)?.assemble(|l, i| self.node(l, i))
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::BeyondTree {
                size,
                available: self.size(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> Hash {
        [n; 32]
    }

    #[test]
    fn hashes_are_domain_separated() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962 leaf of the empty string.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let mut both = h(1).to_vec();
        both.extend_from_slice(&h(2));
        assert_ne!(node_hash(&h(1), &h(2)), leaf_hash(&both));
    }

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1025, 1024)] {
            assert_eq!(split_point(n), k, "n = {n}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point((1 << 63) + 1), 1 << 63);
    }

    #[test]
    fn spans_split_into_aligned_perfect_nodes_largest_first() {
        let nodes: Vec<_> = Span { lo: 8, hi: 15 }.perfect_nodes().collect();
        assert_eq!(nodes, vec![(2, 2), (1, 6), (0, 14)]);
        let nodes: Vec<_> = Span {
            lo: 0,
            hi: u64::MAX,
        }
        .perfect_nodes()
        .collect();
        assert_eq!(nodes.len(), 64);
        assert_eq!(nodes[0], (63, 0));
        assert_eq!(nodes[63], (0, u64::MAX - 1));
        assert_eq!(Span { lo: 4, hi: 4 }.perfect_nodes().count(), 0);
    }

    #[test]
    fn frontier_reports_its_nodes_by_position() {
        let mut f = Frontier::new();
        for i in 0..13u8 {
            f.append(leaf_hash(&[i])).unwrap();
        }
        let levels: Vec<_> = f.nodes().iter().map(|n| (n.level, n.index)).collect();
        // 13 = 8 + 4 + 1: leaves [0,8), [8,12), [12,13).
        assert_eq!(levels, vec![(3, 0), (2, 2), (0, 12)]);
    }

    #[test]
    fn append_returns_every_completed_node() {
        let mut f = Frontier::new();
        for i in 0..7u8 {
            f.append(leaf_hash(&[i])).unwrap();
        }
        let nodes = f.append(leaf_hash(&[7])).unwrap();
        let levels: Vec<_> = nodes.iter().map(|n| (n.level, n.index)).collect();
        assert_eq!(levels, vec![(0, 7), (1, 3), (2, 1), (3, 0)]);
        assert_eq!(nodes[3].hash, f.root());
    }

    #[test]
    fn a_full_tree_refuses_to_grow_without_changing() {
        let mut f = Frontier::from_parts(u64::MAX, vec![h(1); 64]).unwrap();
        assert_eq!(f.append(h(2)), Err(FrontierError::Full));
        assert_eq!(f.to_parts(), (u64::MAX, vec![h(1); 64]));
        let _ = f.root();
        assert_eq!(f.nodes().len(), 64);

        let mut f = Frontier::from_parts(u64::MAX - 1, vec![h(1); 63]).unwrap();
        let nodes = f.append(h(2)).unwrap();
        assert_eq!(
            nodes,
            vec![Node {
                level: 0,
                index: u64::MAX - 1,
                hash: h(2)
            }]
        );
        assert_eq!(f.size(), u64::MAX);
    }

    #[test]
    fn from_parts_rejects_a_count_that_does_not_match_the_size() {
        assert_eq!(
            Frontier::from_parts(5, vec![h(1)]),
            Err(FrontierError::WrongPartCount {
                size: 5,
                expected: 2,
                got: 1
            })
        );
        assert!(Frontier::from_parts(0, vec![h(1)]).is_err());
        assert_eq!(
            Frontier::from_parts(0, vec![]).unwrap().root(),
            empty_root()
        );
    }

    #[test]
    fn proof_lengths_match_the_plans_at_the_extremes() {
        for (index, size) in [
            (0, u64::MAX),
            (u64::MAX - 1, u64::MAX),
            (1 << 63, u64::MAX),
            (12345, 1 << 63),
        ] {
            let plan = inclusion_plan(index, size).unwrap();
            assert_eq!(plan.len(), inclusion_proof_len(index, size));
            assert!(plan.nodes().len() < 64 * 64);
        }
        for (size1, size2) in [
            (1, u64::MAX),
            (u64::MAX - 1, u64::MAX),
            (1 << 63, u64::MAX),
            ((1 << 63) - 1, 1 << 63),
            (3, 4),
        ] {
            let plan = consistency_plan(size1, size2).unwrap();
            assert_eq!(plan.len(), consistency_proof_len(size1, size2));
        }
        assert_eq!(root_plan(u64::MAX).nodes().len(), 64);
    }

    #[test]
    fn absurd_sizes_are_refused_without_panicking() {
        let proof = vec![h(3); 64];
        for (index, size) in [(u64::MAX, u64::MAX), (0, 0), (u64::MAX - 1, u64::MAX)] {
            for len in [0, 1, 63, 64] {
                assert!(verify_inclusion(index, size, &h(1), &proof[..len], &h(2)).is_err());
            }
        }
        for (size1, size2) in [
            (u64::MAX, u64::MAX),
            (1, u64::MAX),
            (u64::MAX - 1, u64::MAX),
        ] {
            for len in [0, 1, 63, 64] {
                assert!(verify_consistency(size1, size2, &proof[..len], &h(1), &h(2)).is_err());
            }
        }
        assert!(inclusion_plan(u64::MAX, u64::MAX).is_err());
    }

    #[test]
    fn missing_nodes_are_errors() {
        let plan = inclusion_plan(2, 7).unwrap();
        let first = plan.nodes()[0];
        let err = plan
            .assemble(|l, i| if (l, i) == first { None } else { Some(h(1)) })
            .unwrap_err();
        assert_eq!(
            err,
            ProofError::MissingNode {
                level: first.0,
                index: first.1
            }
        );
        assert!(root_from_nodes(7, |_, _| None).is_err());
        assert_eq!(root_from_nodes(0, |_, _| None), Ok(empty_root()));
    }

    #[test]
    fn consistency_between_empty_trees_needs_the_empty_root() {
        let e = empty_root();
        assert_eq!(verify_consistency(0, 0, &[], &e, &e), Ok(()));
        assert_eq!(
            verify_consistency(0, 0, &[], &h(1), &h(1)),
            Err(ProofError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 3, &[], &e, &h(1)),
            Err(ProofError::FromEmptyTree)
        );
        assert_eq!(consistency_plan(0, 3), Err(ProofError::FromEmptyTree));
        assert!(consistency_plan(0, 0).unwrap().is_empty());
    }

    #[test]
    fn memory_tree_refuses_sizes_it_does_not_hold() {
        let mut t = MemoryTree::new();
        for i in 0..5u8 {
            t.push_data(&[i]).unwrap();
        }
        let beyond = ProofError::BeyondTree {
            size: 6,
            available: 5,
        };
        assert_eq!(t.root_at(6), Err(beyond.clone()));
        assert_eq!(t.inclusion_proof(0, 6), Err(beyond.clone()));
        assert_eq!(t.consistency_proof(2, 6), Err(beyond));
        assert_eq!(t.node(0, u64::MAX), None);
        assert_eq!(t.node(200, 0), None);
    }
}
