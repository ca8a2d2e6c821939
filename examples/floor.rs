//! The benchmark's floor: what any tool must do for the same job. Reads the
//! CSV with the csv crate (every record, every field touched) and writes
//! BYTES bytes to FILES files in OUT (0 files: write nothing), syncing each
//! file as kcdplan does. Nothing else.
//!
//!     cargo run --release --example floor -- CSV OUT BYTES FILES

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (csv_path, out, bytes, files) = (
        &args[1],
        std::path::Path::new(&args[2]),
        args[3].parse::<u64>().unwrap(),
        args[4].parse::<u64>().unwrap(),
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(csv_path)
        .unwrap();
    let mut record = csv::StringRecord::new();
    let (mut fields, mut len) = (0u64, 0u64);
    while reader.read_record(&mut record).unwrap() {
        for f in record.iter() {
            fields += 1;
            len += f.len() as u64;
        }
    }
    if files > 0 {
        std::fs::create_dir_all(out).unwrap();
        let chunk = vec![b'x'; 1 << 16];
        for i in 0..files {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(out.join(format!("floor-{i}.bin"))).unwrap(),
            );
            let mut left = bytes / files + u64::from(i < bytes % files);
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                f.write_all(&chunk[..n]).unwrap();
                left -= n as u64;
            }
            f.into_inner().unwrap().sync_all().unwrap();
        }
    }
    eprintln!("{fields} fields, {len} bytes");
}
