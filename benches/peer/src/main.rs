//! libdgen next to the `dgen-data` crate 0.3.0 (the engine of PyPI's
//! dgen-py), measured in the same run on this machine. Prints figures;
//! nothing is asserted.
//!
//!     scripts/bench-peer.sh --rust          (REPS=3 rounds by default)
//!     cargo run --release --manifest-path benches/peer/Cargo.toml -- [--rounds N] [--budget SECONDS]
//!
//! Every measurement is a fresh process (this program with `--child`) that
//! makes its generator, warms up, then repeats one call for `--budget`
//! seconds and reports bytes, wall time and process CPU time (all its
//! threads). The processes alternate between the two libraries, and the order
//! turns round every round, so that a busy moment of a shared machine weighs
//! on both alike. Rates are medians over the rounds.
//!
//! Threads: ours through `Config::threads`; dgen-data's through rayon's global
//! pool (its batch call `generate_data` runs there) and `DGEN_THREADS` (the
//! size of its own global pool, which `DataGenerator::fill_chunk` uses), both
//! set to the case's thread count, with `max_threads` as well.

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use dgen_data::{DataGenerator, GeneratorConfig, RollingPool};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
/// The peer's streams are sized: one far longer than any run reads.
const PEER_STREAM: usize = 1 << 40;

/// One timed call, run in a child process.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Call {
    /// `Generator::fill_at` into one reused buffer, at consecutive offsets.
    FillAt { threads: usize, size: usize, compress: usize },
    /// `Model::fill` (the pure model, the calling thread, ordinary stores).
    ModelFill { size: usize, compress: usize },
    /// `dgen::generate`: a new vector per call.
    Generate { threads: usize, size: usize, compress: usize },
    /// dgen-data's `DataGenerator::fill_chunk` into one reused buffer.
    FillChunk { threads: usize, size: usize, compress: usize },
    /// dgen-data's `generate_data`: a new buffer per call.
    GenerateData { threads: usize, size: usize, compress: usize },
    /// dgen-data's `RollingPool::next_slice`: a zero-copy slice of a 1 MiB
    /// block that is generated anew when used up.
    NextSlice { size: usize, compress: usize },
    /// `ptr::write_bytes` over the buffer, split over `threads`.
    Memset { threads: usize, size: usize },
}

impl Call {
    fn threads(self) -> usize {
        match self {
            Call::FillAt { threads, .. }
            | Call::Generate { threads, .. }
            | Call::FillChunk { threads, .. }
            | Call::GenerateData { threads, .. }
            | Call::Memset { threads, .. } => threads,
            Call::ModelFill { .. } | Call::NextSlice { .. } => 1,
        }
    }

    fn size(self) -> usize {
        match self {
            Call::FillAt { size, .. }
            | Call::ModelFill { size, .. }
            | Call::Generate { size, .. }
            | Call::FillChunk { size, .. }
            | Call::GenerateData { size, .. }
            | Call::NextSlice { size, .. }
            | Call::Memset { size, .. } => size,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Call::FillAt { .. } => "fill_at",
            Call::ModelFill { .. } => "Model::fill",
            Call::Generate { .. } => "generate",
            Call::FillChunk { .. } => "fill_chunk",
            Call::GenerateData { .. } => "generate_data",
            Call::NextSlice { .. } => "RollingPool::next_slice",
            Call::Memset { .. } => "memset",
        }
    }

    /// The call as `--child` arguments: kind, threads, size, compress.
    fn args(self) -> [String; 4] {
        let (kind, compress) = match self {
            Call::FillAt { compress, .. } => ("fill_at", compress),
            Call::ModelFill { compress, .. } => ("model_fill", compress),
            Call::Generate { compress, .. } => ("generate", compress),
            Call::FillChunk { compress, .. } => ("fill_chunk", compress),
            Call::GenerateData { compress, .. } => ("generate_data", compress),
            Call::NextSlice { compress, .. } => ("next_slice", compress),
            Call::Memset { .. } => ("memset", 1),
        };
        [kind.to_string(), self.threads().to_string(), self.size().to_string(), compress.to_string()]
    }

    fn parse(args: &[String]) -> Option<Call> {
        let [kind, threads, size, compress] = args else { return None };
        let (threads, size, compress) = (threads.parse().ok()?, size.parse().ok()?, compress.parse().ok()?);
        Some(match kind.as_str() {
            "fill_at" => Call::FillAt { threads, size, compress },
            "model_fill" => Call::ModelFill { size, compress },
            "generate" => Call::Generate { threads, size, compress },
            "fill_chunk" => Call::FillChunk { threads, size, compress },
            "generate_data" => Call::GenerateData { threads, size, compress },
            "next_slice" => Call::NextSlice { size, compress },
            "memset" => Call::Memset { threads, size },
            _ => return None,
        })
    }
}

/// A row of the table: one of ours against one of the peer's.
struct Row {
    label: String,
    ours: Call,
    peer: Call,
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let big = 64 * MIB;
    for threads in [1, 2] {
        for compress in [1, 2] {
            let at = format!("{threads} thr, 64 MiB, c{compress}");
            let chunk = Call::FillChunk { threads, size: big, compress };
            rows.push(Row { label: at.clone(), ours: Call::FillAt { threads, size: big, compress }, peer: chunk });
            if threads == 1 {
                rows.push(Row { label: at.clone(), ours: Call::ModelFill { size: big, compress }, peer: chunk });
            }
            rows.push(Row {
                label: at,
                ours: Call::Generate { threads, size: big, compress },
                peer: Call::GenerateData { threads, size: big, compress },
            });
        }
    }
    let small = 4 * KIB;
    let fill_at = Call::FillAt { threads: 1, size: small, compress: 1 };
    for peer in [
        Call::FillChunk { threads: 1, size: small, compress: 1 },
        Call::GenerateData { threads: 1, size: small, compress: 1 },
        Call::NextSlice { size: small, compress: 1 },
    ] {
        rows.push(Row { label: "1 thr, 4 KiB calls, c1".into(), ours: fill_at, peer });
    }
    rows
}

fn memsets() -> [Call; 2] {
    [Call::Memset { threads: 1, size: 64 * MIB }, Call::Memset { threads: 2, size: 64 * MIB }]
}

/// Process CPU time of every thread, in seconds.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write; the clock id is a constant
    // every Linux kernel has.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn peer_config(size: usize, threads: usize, compress: usize) -> GeneratorConfig {
    GeneratorConfig {
        size,
        compress_factor: compress,
        max_threads: Some(threads),
        seed: Some(1),
        ..GeneratorConfig::default()
    }
}

fn our_config(threads: usize, compress: usize) -> dgen::Config {
    dgen::Config { compress_ratio: compress as f64, threads, seed: Some(1), ..dgen::Config::default() }
}

/// Runs `call` for `budget` seconds after a warm-up of a fifth of that;
/// prints `bytes wall_seconds cpu_seconds`.
fn child(call: Call, budget: f64) {
    // Both libraries' batch work and memset on two threads run on rayon's
    // global pool; dgen-data's streaming calls on its own, of DGEN_THREADS
    // (set by the parent).
    rayon::ThreadPoolBuilder::new().num_threads(call.threads()).build_global().expect("rayon's global pool");
    let size = call.size();
    let mut buf = vec![0u8; size];
    let mut step: Box<dyn FnMut()> = match call {
        Call::FillAt { threads, compress, .. } => {
            let gen = dgen::Generator::new(our_config(threads, compress)).expect("valid config");
            let mut offset = 0u64;
            Box::new(move || {
                gen.fill_at(offset, &mut buf).expect("in range");
                offset += size as u64;
                black_box(&buf);
            })
        }
        Call::ModelFill { compress, .. } => {
            let gen = dgen::Generator::new(our_config(1, compress)).expect("valid config");
            let mut offset = 0u64;
            Box::new(move || {
                gen.model().fill(offset, &mut buf);
                offset += size as u64;
                black_box(&buf);
            })
        }
        Call::Generate { threads, compress, .. } => Box::new(move || {
            let cfg = dgen::Config { size: size as u64, ..our_config(threads, compress) };
            black_box(dgen::generate(cfg).expect("valid config"));
        }),
        Call::FillChunk { threads, compress, .. } => {
            let mut gen = DataGenerator::new(peer_config(PEER_STREAM, threads, compress));
            Box::new(move || {
                assert_eq!(gen.fill_chunk(&mut buf), size, "the peer's stream ended");
                black_box(&buf);
            })
        }
        Call::GenerateData { threads, compress, .. } => Box::new(move || {
            black_box(dgen_data::generate_data(peer_config(size, threads, compress)));
        }),
        Call::NextSlice { compress, .. } => {
            let mut pool = RollingPool::new(1, compress);
            Box::new(move || {
                black_box(pool.next_slice(size));
            })
        }
        Call::Memset { threads, .. } => {
            let mut value = 0u8;
            Box::new(move || {
                value = value.wrapping_add(1);
                let v = black_box(value);
                if threads == 1 {
                    // SAFETY: `buf` owns `size` writable bytes.
                    unsafe { std::ptr::write_bytes(buf.as_mut_ptr(), v, size) };
                } else {
                    use rayon::prelude::*;
                    buf.par_chunks_mut(size.div_ceil(threads)).for_each(|part| {
                        // SAFETY: `part` owns `part.len()` writable bytes.
                        unsafe { std::ptr::write_bytes(part.as_mut_ptr(), v, part.len()) };
                    });
                }
                black_box(&buf);
            })
        }
    };
    let run = |step: &mut dyn FnMut(), seconds: f64| {
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        let mut calls = 0u64;
        while calls < 3 || wall.elapsed().as_secs_f64() < seconds {
            // Batches keep the clock out of the cost of small calls.
            for _ in 0..(1 + (256 * KIB / size)) {
                step();
                calls += 1;
            }
        }
        (calls, wall.elapsed().as_secs_f64(), cpu_seconds() - cpu)
    };
    run(&mut *step, budget / 5.0);
    let (calls, wall, cpu) = run(&mut *step, budget);
    println!("{} {wall} {cpu}", calls * size as u64);
}

/// Median rates of one call over the rounds: GB per wall second and GB per
/// CPU second.
#[derive(Clone, Copy, Default)]
struct Rates {
    wall: f64,
    cpu: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn measure(exe: &std::path::Path, call: Call, budget: f64) -> (f64, f64) {
    let threads = call.threads().to_string();
    let out = Command::new(exe)
        .arg("--child")
        .args(call.args())
        .args(["--budget", &budget.to_string()])
        .env("DGEN_THREADS", &threads)
        .output()
        .expect("run the child");
    if !out.status.success() {
        eprintln!("bench-peer: child {call:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        std::process::exit(1);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    let [bytes, wall, cpu] = v[..] else {
        eprintln!("bench-peer: child {call:?} printed {text:?}");
        std::process::exit(1);
    };
    (bytes / wall / 1e9, bytes / cpu / 1e9)
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: dgen-bench-peer [--rounds N (default 3)] [--budget SECONDS (default 1)]");
        std::process::exit(2)
    };
    let (mut rounds, mut budget, mut call) = (3usize, 1.0f64, None);
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1);
        match args[i].as_str() {
            "--rounds" => rounds = value.and_then(|v| v.parse().ok()).filter(|&r| r > 0).unwrap_or_else(|| usage()),
            "--budget" => budget = value.and_then(|v| v.parse().ok()).filter(|&b| b > 0.0).unwrap_or_else(|| usage()),
            "--child" => {
                call = Some(args.get(i + 1..i + 5).and_then(Call::parse).unwrap_or_else(|| usage()));
                i += 3;
            }
            _ => usage(),
        }
        i += 2;
    }
    if let Some(call) = call {
        child(call, budget);
        return;
    }
    let exe = std::env::current_exe().expect("this program's path");

    let rows = rows();
    // Every distinct call, ours and the peer's in turn.
    let mut calls: Vec<Call> = Vec::new();
    for row in &rows {
        for call in [row.ours, row.peer] {
            if !calls.contains(&call) {
                calls.push(call);
            }
        }
    }
    calls.extend(memsets());
    let load_before = load_average();
    let mut samples: Vec<Vec<(f64, f64)>> = vec![Vec::new(); calls.len()];
    for round in 0..rounds {
        eprintln!("bench-peer: round {} of {rounds} ({} processes of {budget} s)", round + 1, calls.len());
        let mut order: Vec<usize> = (0..calls.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            samples[i].push(measure(&exe, calls[i], budget));
        }
    }
    let rates: Vec<Rates> = samples
        .iter()
        .map(|s| Rates { wall: median(s.iter().map(|r| r.0).collect()), cpu: median(s.iter().map(|r| r.1).collect()) })
        .collect();
    let rate = |call: Call| rates[calls.iter().position(|&c| c == call).expect("measured")];

    let kernel = dgen::Generator::new(our_config(1, 1)).expect("valid config").kernel().name();
    println!(
        "CPU: {} ({} CPUs usable), libdgen kernel {kernel}; dgen-data 0.3.0 (default-features = false)",
        cpu_name(),
        dgen::default_threads()
    );
    println!(
        "load average {load_before} before, {} after; rounds of fresh processes: {rounds}, {budget} s each, \
         alternating; medians; GB = 10^9 bytes",
        load_average()
    );
    println!();
    println!(
        "{:<24} {:<13} {:<24} {:>8} {:>8} {:>7} {:>9} {:>9} {:>7}",
        "case", "ours", "dgen-data", "ours", "peer", "wall", "ours", "peer", "CPU"
    );
    println!(
        "{:<24} {:<13} {:<24} {:>8} {:>8} {:>7} {:>9} {:>9} {:>7}",
        "", "", "", "GB/s", "GB/s", "ratio", "GB/CPU-s", "GB/CPU-s", "ratio"
    );
    for row in &rows {
        let (o, p) = (rate(row.ours), rate(row.peer));
        println!(
            "{:<24} {:<13} {:<24} {:>8.2} {:>8.2} {:>6.2}x {:>9.2} {:>9.2} {:>6.2}x",
            row.label,
            row.ours.name(),
            row.peer.name(),
            o.wall,
            p.wall,
            o.wall / p.wall,
            o.cpu,
            p.cpu,
            o.cpu / p.cpu
        );
    }
    println!();
    let [m1, m2] = memsets().map(rate);
    println!(
        "memset (ptr::write_bytes) on 64 MiB: 1 thread {:.2} GB/s ({:.2} per CPU-s), 2 threads {:.2} GB/s ({:.2} per CPU-s)",
        m1.wall, m1.cpu, m2.wall, m2.cpu
    );
    println!();
    println!("goals (wall-time ratios; reported, not asserted):");
    // The peer's faster batch path at each point: its streaming and its
    // one-shot call, whichever gave more.
    let peer_best = |threads: usize, compress: usize| {
        let chunk = rate(Call::FillChunk { threads, size: 64 * MIB, compress }).wall;
        let data = rate(Call::GenerateData { threads, size: 64 * MIB, compress }).wall;
        chunk.max(data)
    };
    for (threads, goal) in [(1, 3.0), (2, 1.5)] {
        let ratios: Vec<String> = [1, 2]
            .iter()
            .map(|&c| {
                let r = rate(Call::FillAt { threads, size: 64 * MIB, compress: c }).wall / peer_best(threads, c);
                format!("c{c} {r:.2}x{}", if r >= goal { "" } else { " (below)" })
            })
            .collect();
        println!(
            "  {threads} thread{}, 64 MiB, fill_at vs dgen-data's faster of fill_chunk and generate_data: {} (goal >= {goal}x)",
            if threads == 1 { "" } else { "s" },
            ratios.join(", ")
        );
    }
    let small = rate(Call::FillAt { threads: 1, size: 4 * KIB, compress: 1 }).wall;
    let chunk = rate(Call::FillChunk { threads: 1, size: 4 * KIB, compress: 1 }).wall;
    let slice = rate(Call::NextSlice { size: 4 * KIB, compress: 1 }).wall;
    println!(
        "  4 KiB calls, fill_at vs fill_chunk: {:.0}x (goal >= 100x); vs RollingPool::next_slice, which fills nothing: {:.2}x",
        small / chunk,
        small / slice
    );
    let ratios: Vec<String> = [1, 2]
        .iter()
        .map(|&c| {
            let r = rate(Call::FillAt { threads: 2, size: 64 * MIB, compress: c }).wall / m1.wall;
            format!("c{c} {r:.2}x{}", if r >= 1.0 { "" } else { " (below)" })
        })
        .collect();
    println!("  2 threads, 64 MiB, fill_at vs memset on 1 thread: {} (goal >= 1.0x)", ratios.join(", "));
}
