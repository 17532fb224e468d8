//! One module per subcommand of `galla-cli`: its arguments and what it does, over
//! `galla-client`'s `Terminal`.

pub(crate) mod audit;
pub(crate) mod bill;
pub(crate) mod check;
pub(crate) mod doctor;
pub(crate) mod enroll;
pub(crate) mod import;
pub(crate) mod init;
pub(crate) mod invoice;
pub(crate) mod policy;
pub(crate) mod recovery;
pub(crate) mod report;
pub(crate) mod seat;
pub(crate) mod shop;
pub(crate) mod status;
pub(crate) mod sync;
