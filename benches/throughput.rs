//! Prints generation speed in GB/s and as a share of memset on the same buffer:
//! 1 thread and all threads; 4 KiB `fill_at` at scattered offsets, 1 MiB and
//! 64 MiB buffers; compress 1, 2 and 4.
//! Run: `cargo bench --bench throughput` (`-- --quick` for a short run).
//!
//! `-- --compressor NAME` measures the layout for a named compressor.
//!
//! `-- --baseline FILE` adds a column comparing each case with a table saved
//! from an earlier run, for example of the previous version
//! (`scripts/bench-compare.sh` does both runs): the ratio of the two shares
//! of memset.

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let baseline = match args.iter().position(|a| a == "--baseline") {
        None => None,
        Some(i) => {
            let Some(path) = args.get(i + 1) else {
                eprintln!("throughput: --baseline needs a file");
                std::process::exit(2);
            };
            match dgen::bench::read_table(path.as_ref()) {
                Ok(b) => Some(b),
                Err(e) => {
                    eprintln!("throughput: baseline {path}: {e}");
                    std::process::exit(2);
                }
            }
        }
    };
    let compressor = match args.iter().position(|a| a == "--compressor") {
        None => dgen::Compressor::Auto,
        Some(i) => match args.get(i + 1).map(|n| n.parse::<dgen::Compressor>()) {
            Some(Ok(c)) => c,
            _ => {
                eprintln!("throughput: --compressor needs one of auto, zstd, lz4, gzip, snappy, lzo, lzjb");
                std::process::exit(2);
            }
        },
    };
    let budget = Duration::from_millis(if quick { 300 } else { 1500 });
    let samples = dgen::bench::standard(budget, compressor);
    match baseline {
        Some(b) => print!("{}", dgen::bench::table_versus(&samples, &b)),
        None => print!("{}", dgen::bench::table(&samples)),
    }
}
