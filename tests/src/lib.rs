//! Cross-crate tests for Galla live in `tests/`; this library is empty on purpose. The binary
//! `galla-crash-writer` is the child process the crash-consistency test kills.
