//! Prints generation speed in GB/s and as a share of memset on the same buffer:
//! 1 thread and all threads; 4 KiB `fill_at` at scattered offsets, 1 MiB and
//! 64 MiB buffers; compress 1, 2 and 4.
//! Run: `cargo bench --bench throughput` (`-- --quick` for a short run).

use std::time::Duration;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 300 } else { 1500 });
    print!("{}", dgen::bench::table(&dgen::bench::standard(budget)));
}
