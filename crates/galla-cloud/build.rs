//! `refinery::embed_migrations!` reads `migrations/cloud/` when this crate compiles, but cargo
//! does not know that: without this script a new migration file would not rebuild the server,
//! which would then run one migration short. The path is relative to the package root, so a
//! target directory shared between checkouts watches this checkout's folder.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/cloud");
    println!("cargo:rerun-if-changed=build.rs");
}
