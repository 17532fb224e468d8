//! The per-tenant transparency log of audit records, kept in PostgreSQL: an RFC 6962 Merkle
//! tree whose leaves are the canonical audit-record encodings in acceptance order.
//!
//! An append reads one row (`log_state`: the size and the right edge of perfect subtrees), adds
//! the leaves and every perfect subtree they complete (`log_node`, append-only), and signs a new
//! checkpoint (a C2SP signed note, Ed25519) stored in `log_checkpoint`. Proofs are planned in
//! `galla-proto` and assembled from the perfect nodes fetched in one query, so a proof costs
//! O(log n) rows whatever the log's size. Callers hold the tenant's transaction; `lock` takes
//! the log row FOR UPDATE, so appends of one tenant are serialised and never interleave.

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use galla_proto::checkpoint::{Checkpoint, NoteSigner};
use galla_proto::merkle::{self, Frontier, Hash, Node, ProofPlan};
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::error::{Error, Result};

/// Signs every tenant's checkpoints. The origin line is `<name>/<tenant id>`, so a checkpoint of
/// one tenant's log can never pass for another's.
pub struct LogSigner {
    name: String,
    signer: NoteSigner,
}

impl LogSigner {
    pub fn new(name: &str, key: SigningKey) -> Result<LogSigner> {
        let signer = NoteSigner::new(name, key).map_err(|e| Error::Config(format!(
            "log_name {name:?} cannot name a checkpoint key ({e}); use letters, digits, dots and dashes"
        )))?;
        Ok(LogSigner {
            name: name.to_owned(),
            signer,
        })
    }

    pub fn origin(&self, tenant: Uuid) -> String {
        format!("{}/{tenant}", self.name)
    }

    /// The verifier key terminals receive at enrollment (C2SP vkey form).
    pub fn verifier_key(&self) -> String {
        self.signer.vkey()
    }

    fn sign(&self, tenant: Uuid, size: u64, root: Hash) -> Result<String> {
        self.signer
            .sign_checkpoint(&Checkpoint {
                origin: self.origin(tenant),
                size,
                root,
                extensions: vec![],
            })
            .map_err(|_| Error::Crypto("signing a checkpoint failed"))
    }
}

fn to_hash(bytes: &[u8]) -> Result<Hash> {
    Hash::try_from(bytes).map_err(|_| Error::Integrity("a stored log hash is not 32 bytes"))
}

/// Starts an empty log for a new tenant, with its signed checkpoint of size 0.
pub async fn create(
    tx: &Transaction<'_>,
    tenant: Uuid,
    signer: &LogSigner,
    now_ms: i64,
) -> Result<String> {
    tx.execute(
        "INSERT INTO log_state (tenant_id, size, frontier) VALUES ($1, 0, '')",
        &[&tenant],
    )
    .await?;
    let frontier = Frontier::new();
    store_checkpoint(tx, tenant, &frontier, signer, now_ms).await
}

/// The log's right edge, locked until the transaction ends.
pub async fn lock(tx: &Transaction<'_>, tenant: Uuid) -> Result<Frontier> {
    let row = tx
        .query_one(
            "SELECT size, frontier FROM log_state WHERE tenant_id = $1 FOR UPDATE",
            &[&tenant],
        )
        .await?;
    let size: i64 = row.get(0);
    let bytes: Vec<u8> = row.get(1);
    let hashes = bytes.chunks(32).map(to_hash).collect::<Result<Vec<_>>>()?;
    Frontier::from_parts(size as u64, hashes)
        .map_err(|_| Error::Integrity("the stored log edge does not match the log size"))
}

/// Appends leaves (the audit records' canonical encodings) to a locked frontier, returning the
/// index of the first and the nodes to store.
pub fn append(frontier: &mut Frontier, leaves: &[&[u8]]) -> Result<(u64, Vec<Node>)> {
    let first = frontier.size();
    let mut nodes = Vec::with_capacity(leaves.len() * 2);
    for leaf in leaves {
        let completed = frontier
            .append(merkle::leaf_hash(leaf))
            .map_err(|_| Error::Integrity("the log is full"))?;
        nodes.extend(completed);
    }
    Ok((first, nodes))
}

/// Stores the new nodes and edge, and signs and stores the checkpoint; returns the note.
pub async fn commit(
    tx: &Transaction<'_>,
    tenant: Uuid,
    frontier: &Frontier,
    nodes: &[Node],
    signer: &LogSigner,
    now_ms: i64,
) -> Result<String> {
    let levels: Vec<i16> = nodes.iter().map(|n| i16::from(n.level)).collect();
    let indexes: Vec<i64> = nodes.iter().map(|n| n.index as i64).collect();
    let hashes: Vec<&[u8]> = nodes.iter().map(|n| &n.hash[..]).collect();
    tx.execute(
        "INSERT INTO log_node (tenant_id, level, idx, hash)
         SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])",
        &[&tenant, &levels, &indexes, &hashes],
    )
    .await?;
    let (size, edge) = frontier.to_parts();
    tx.execute(
        "UPDATE log_state SET size = $2, frontier = $3 WHERE tenant_id = $1",
        &[&tenant, &(size as i64), &edge.concat()],
    )
    .await?;
    store_checkpoint(tx, tenant, frontier, signer, now_ms).await
}

async fn store_checkpoint(
    tx: &Transaction<'_>,
    tenant: Uuid,
    frontier: &Frontier,
    signer: &LogSigner,
    now_ms: i64,
) -> Result<String> {
    let root = frontier.root();
    let note = signer.sign(tenant, frontier.size(), root)?;
    tx.execute(
        "INSERT INTO log_checkpoint (tenant_id, size, root, note, signed_at_ms)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &tenant,
            &(frontier.size() as i64),
            &&root[..],
            &note,
            &now_ms,
        ],
    )
    .await?;
    Ok(note)
}

/// The newest checkpoint: (size, signed note).
pub async fn latest_checkpoint(tx: &Transaction<'_>, tenant: Uuid) -> Result<(u64, String)> {
    let row = tx
        .query_one(
            "SELECT size, note FROM log_checkpoint WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1",
            &[&tenant],
        )
        .await?;
    Ok((row.get::<_, i64>(0) as u64, row.get(1)))
}

/// The current size, without locking.
pub async fn size(tx: &Transaction<'_>, tenant: Uuid) -> Result<u64> {
    let row = tx
        .query_one(
            "SELECT size FROM log_state WHERE tenant_id = $1",
            &[&tenant],
        )
        .await?;
    Ok(row.get::<_, i64>(0) as u64)
}

async fn assemble(tx: &Transaction<'_>, tenant: Uuid, plan: &ProofPlan) -> Result<Vec<Hash>> {
    let wanted = plan.nodes();
    let levels: Vec<i16> = wanted.iter().map(|(l, _)| i16::from(*l)).collect();
    let indexes: Vec<i64> = wanted.iter().map(|(_, i)| *i as i64).collect();
    let rows = tx
        .query(
            "SELECT n.level, n.idx, n.hash FROM log_node n
             JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx)
               ON n.level = w.level AND n.idx = w.idx
             WHERE n.tenant_id = $1",
            &[&tenant, &levels, &indexes],
        )
        .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let level: i16 = row.get(0);
        let idx: i64 = row.get(1);
        found.insert((level as u8, idx as u64), to_hash(row.get::<_, &[u8]>(2))?);
    }
    plan.assemble(|level, idx| found.get(&(level, idx)).copied())
        .map_err(|_| Error::Integrity("the stored log is missing a node a proof needs"))
}

/// The inclusion proof of leaf `index` in the tree of `size` (both checked by the caller).
pub async fn inclusion_proof(
    tx: &Transaction<'_>,
    tenant: Uuid,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>> {
    let plan = merkle::inclusion_plan(index, size)
        .map_err(|_| Error::Integrity("an inclusion proof was asked for outside the log"))?;
    assemble(tx, tenant, &plan).await
}

/// The consistency proof from the tree of `from` to the tree of `to` (checked by the caller).
pub async fn consistency_proof(
    tx: &Transaction<'_>,
    tenant: Uuid,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>> {
    let plan = merkle::consistency_plan(from, to)
        .map_err(|_| Error::Integrity("a consistency proof was asked for outside the log"))?;
    assemble(tx, tenant, &plan).await
}
