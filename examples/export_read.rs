//! The export reader alone, for the benchmark: reads an export with
//! kcdplan's reader (decoding, unfolding, base64, SHA-256) and counts the
//! records and kept values, nothing else.
//!
//!     cargo run --release --example export_read -- EXPORT

/// As in the binary (src/main.rs).
#[cfg(all(unix, feature = "mimalloc"))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let path = std::env::args().nth(1).expect("usage: export_read EXPORT");
    let mut values = 0usize;
    let info = kcdplan::ldif::reader::read(std::path::Path::new(&path), |e| {
        values += e.attrs.len();
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{} records, {values} kept values", info.records);
}
