//! The benchmark's floor: what any tool must do for the same job. Reads the
//! CSV with the csv crate (every record, every field touched) and writes
//! BYTES bytes to FILES files in OUT (0 files: write nothing), syncing each
//! file as kcdplan does, or to standard output if OUT is `-` (as `check`
//! writes its listing). Nothing else. With `lines FILE`: reads the file's
//! bytes and splits its lines, the floor for reading an export.
//!
//!     cargo run --release --example floor -- CSV OUT BYTES FILES
//!     cargo run --release --example floor -- lines EXPORT

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args[1] == "lines" {
        use std::io::BufRead;
        let mut r =
            std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(&args[2]).unwrap());
        let (mut lines, mut bytes, mut buf) = (0u64, 0u64, Vec::new());
        while r.read_until(b'\n', &mut buf).unwrap() > 0 {
            lines += 1;
            bytes += buf.len() as u64;
            buf.clear();
        }
        eprintln!("{lines} lines, {bytes} bytes");
        return;
    }
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
    if out == std::path::Path::new("-") {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let chunk = vec![b'x'; 1 << 16];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            stdout.write_all(&chunk[..n]).unwrap();
            left -= n as u64;
        }
        stdout.flush().unwrap();
    } else if files > 0 {
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
