//! Cross-crate tests for Galla live in `tests/`. The library holds what they share: the fault
//! proxy the sync chaos test puts between terminals and the cloud. The binary
//! `galla-crash-writer` is the child process the crash-consistency test kills.

pub mod fault_proxy;
