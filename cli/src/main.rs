//! `dgen`: generate, verify, analyze and benchmark synthetic storage-test data
//! with libdgen.
//!
//! Exit codes: 0 success; 1 verification mismatch or an I/O failure; 2 bad
//! usage or input (an option's value, a missing file); 130 interrupted by
//! SIGINT or SIGTERM. A report or table that cannot be written to standard
//! output is an I/O failure (1), except when the reader closed the pipe
//! (`dgen analyze f | head -3`): that ends the command quietly with 0, the
//! way `head` expects. A command that failed keeps its own code either way.

mod out;

mod analyze;
mod data;
mod object;
mod report;
mod size;
mod state;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand, ValueEnum};
use out::{out, outln};

/// A failure the command reports in one line.
pub struct Failure {
    /// Exit code: 1 for mismatches and I/O failures, 2 for bad input.
    pub code: u8,
    /// The line printed after `dgen: error: `.
    pub message: String,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { code: 2, message: message.into() }
    }
    /// A runtime failure: exit code 1.
    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure { code: 1, message: message.into() }
    }
    /// Stopped by SIGINT or SIGTERM: exit code 130, as a shell reports an
    /// interrupted command.
    pub fn interrupted(message: impl Into<String>) -> Failure {
        Failure { code: 130, message: message.into() }
    }
    /// The failure for a library error of `kind`: the CLI column of the
    /// error table in ARCHITECTURE.md. Bad input (a field, an option, a range,
    /// a path that cannot be opened, a target that cannot do what was asked,
    /// an unusable write state) exits 2; a mismatch, an I/O failure or
    /// threads that cannot start exit 1; an interruption 130.
    pub fn of_kind(kind: dgen::ErrorKind, message: impl Into<String>) -> Failure {
        use dgen::ErrorKind as K;
        match kind {
            K::Mismatch | K::Io | K::Threads => Failure::runtime(message),
            K::Interrupted => Failure::interrupted(message),
            _ => Failure::usage(message),
        }
    }
}

/// A library message in the command's words. The library names an option
/// by its field (`option direct`, as `IoOptions` and the C and Python faces
/// call it); the command names the flag that sets it.
pub fn in_flags(message: &str) -> String {
    const FIELDS: [(&str, &str); 2] = [
        ("(option direct)", "(--direct)"),
        ("(option create_bucket creates it)", "(give --create-bucket to create it)"),
    ];
    FIELDS.iter().fold(message.to_string(), |m, (field, flag)| m.replace(field, flag))
}

/// Set by SIGINT and SIGTERM; generate and verify stop soon after, say how
/// far they got and exit with 130.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: the one kind of work a signal handler may do.
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Routes SIGINT and SIGTERM to [`INTERRUPTED`]. Without SA_RESTART, a
/// blocked open of a FIFO, or read or write of a pipe, returns EINTR so the
/// run notices at once (the library checks the flag on EINTR);
/// SA_RESETHAND makes a second signal end the process the default way.
pub fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid value (empty mask, no flags);
        // the handler only stores to an atomic, which is async-signal-safe,
        // and the pointers passed to sigemptyset and sigaction are live
        // locals.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// The result of a subcommand.
pub type Outcome = Result<(), Failure>;

#[derive(Parser)]
#[command(
    name = "dgen",
    version = dgen::VERSION,
    about = "Synthetic data for storage testing: exact dedup and compression ratios, reproducible from a seed",
    after_help = "Sizes: plain bytes, or KiB/MiB/GiB/TiB (also K/M/G/T, powers of 1024) or KB/MB/GB/TB (powers of 1000).\n\
                  Exit codes: 0 success; 1 verification mismatch or I/O failure; 2 bad usage or input; 130 interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a dataset (or a range of it) to a file, block device, FIFO or standard output.
    Generate(data::GenerateArgs),
    /// Check that a file, block device or stream holds exactly the dataset (or range) the options describe,
    /// or (s3://BUCKET/PREFIX) that a bucket holds a dataset's objects.
    Verify(data::VerifyArgs),
    /// Put a dataset on S3 as objects: object i is the stream's range after objects 0..i.
    Put(object::PutArgs),
    /// Get a dataset's objects from S3 and discard them (load, with GET latency and time to first byte).
    Get(object::GetArgs),
    /// Report what a storage system would see in any file: dedup, zero blocks, compression.
    Analyze(analyze::AnalyzeArgs),
    /// Measure generation speed against memset on this machine.
    Bench(BenchArgs),
    /// Show NUMA nodes and CPUs, and where a generator's threads would run.
    Topology(TopologyArgs),
    /// Work with the JSON reports of generate and verify: `merge` several workers' into one.
    Report(report::ReportArgs),
    /// Work with write state files (generate/verify --state): `show` one.
    State(state::StateArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Short measurements (about 0.1 s per case instead of 1 s).
    #[arg(long)]
    quick: bool,
    /// Compare with a table saved from an earlier `dgen bench` or
    /// `cargo bench --bench throughput` (for example of another version):
    /// adds each case's share of memset divided by the saved one.
    #[arg(long, value_name = "FILE")]
    baseline: Option<std::path::PathBuf>,
    /// The layout measured: the one for this compressor (auto, zstd, lz4,
    /// gzip, snappy, lzo, lzjb).
    #[arg(long, default_value = "auto", value_parser = data::compressor_arg, value_name = "NAME")]
    compressor: dgen::Compressor,
}

/// `--numa-mode` values.
#[derive(Clone, Copy, ValueEnum)]
pub enum NumaModeArg {
    /// Pin workers across nodes only on multi-node hosts.
    Auto,
    /// Never pin workers.
    Off,
    /// Pin workers even on a single-node host.
    Force,
}

impl From<NumaModeArg> for dgen::NumaMode {
    fn from(m: NumaModeArg) -> Self {
        match m {
            NumaModeArg::Auto => dgen::NumaMode::Auto,
            NumaModeArg::Off => dgen::NumaMode::Off,
            NumaModeArg::Force => dgen::NumaMode::Force,
        }
    }
}

/// Where worker threads run (shared by every command that builds a generator).
#[derive(Args, Clone)]
pub struct PlacementArgs {
    /// Worker threads; 0 = every CPU this process may use.
    #[arg(long, default_value_t = 0, value_name = "N", allow_hyphen_values = true)]
    pub threads: usize,
    /// Keep worker threads on this NUMA node.
    #[arg(long, value_name = "NODE", allow_hyphen_values = true)]
    pub numa_node: Option<u32>,
    /// Whether worker threads are pinned by NUMA node.
    #[arg(long, value_enum, default_value = "auto", value_name = "MODE")]
    pub numa_mode: NumaModeArg,
}

#[derive(Args)]
struct TopologyArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    placement: PlacementArgs,
}

fn bench(args: &BenchArgs) -> Outcome {
    let baseline = match &args.baseline {
        None => None,
        Some(path) => Some(
            dgen::bench::read_table(path).map_err(|e| Failure::usage(format!("--baseline {}: {e}", path.display())))?,
        ),
    };
    let budget = std::time::Duration::from_millis(if args.quick { 100 } else { 1000 });
    if !args.json && std::io::stderr().is_terminal() {
        eprintln!("dgen: measuring 18 cases, about {} s ...", 18 * 2 * budget.as_millis() / 1000 + 1);
    }
    let samples = dgen::bench::standard(budget, args.compressor);
    if args.json {
        let rows: Vec<serde_json::Value> = samples
            .iter()
            .map(|s| {
                let mut row = serde_json::json!({
                    "threads": s.threads,
                    "buffer": s.buffer,
                    "compress": s.compress,
                    "gbps": s.gbps,
                    "memset_gbps": s.memset_gbps,
                    "memset_share": s.memset_share(),
                });
                if let Some(b) = &baseline {
                    row["vs_baseline"] = dgen::bench::versus(s, b).into();
                }
                row
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({ "compressor": args.compressor.name(), "kernel": dgen::model::Kernel::detect().name(), "results": rows })
        );
    } else if let Some(b) = &baseline {
        out!("{}", dgen::bench::table_versus(&samples, b));
    } else {
        out!("{}", dgen::bench::table(&samples));
    }
    Ok(())
}

fn topology(args: &TopologyArgs) -> Outcome {
    let t = dgen::Topology::current();
    let p = &args.placement;
    let placement =
        t.plan(p.threads, p.numa_mode.into(), p.numa_node).map_err(|e| Failure::usage(data::option_error(&e)))?;
    if args.json {
        outln!("{}", t.to_json(&placement));
        return Ok(());
    }
    outln!("source: {}", t.source);
    for n in t.nodes() {
        let cpus: Vec<String> = t.cpus.iter().filter(|c| c.node == n).map(|c| c.id.to_string()).collect();
        outln!("node {n}: cpus {}", cpus.join(","));
    }
    let allowed: Vec<String> = t.allowed.iter().map(|c| c.to_string()).collect();
    outln!("allowed cpus: {} ({} cores)", allowed.join(","), t.allowed_cores());
    outln!("generator threads: {}", placement.threads);
    match placement.node {
        Some(n) => outln!("numa node: {n}"),
        None => outln!("numa node: any"),
    }
    if placement.pinned.is_empty() {
        outln!("pinned: no (the scheduler places threads)");
    } else {
        let pins: Vec<String> = placement.pinned.iter().enumerate().map(|(i, c)| format!("{i}->{c}")).collect();
        outln!("pinned: {}", pins.join(" "));
    }
    Ok(())
}

fn main() -> ExitCode {
    // Any bug shows as one line, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("dgen: internal error: {info}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                });
            }
            let text = e.to_string();
            // clap spreads some errors over several lines (the missing
            // arguments sit below the headline); keep them on one line.
            let words: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            let line = words.join(" ");
            let line = line.trim_start_matches("error: ");
            let line = if line.is_empty() { "bad usage" } else { line };
            eprintln!("dgen: error: {line} (see dgen --help)");
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Generate(a) => data::generate(a),
        Command::Verify(a) => data::verify(a),
        Command::Put(a) => object::put(a),
        Command::Get(a) => object::get(a),
        Command::Analyze(a) => analyze::analyze(a),
        Command::Bench(a) => bench(a),
        Command::Topology(a) => topology(a),
        Command::Report(a) => report::report(a),
        Command::State(a) => state::state(a),
    };
    // A reader that closed the pipe wanted no more: not worth a line.
    let written = out::finish().err().filter(|e| e.kind() != std::io::ErrorKind::BrokenPipe);
    let report_lost = |e: &std::io::Error| eprintln!("dgen: error: cannot write to standard output: {e}");
    match result {
        Ok(()) => match written {
            None => ExitCode::SUCCESS,
            Some(e) => {
                report_lost(&e);
                ExitCode::from(1)
            }
        },
        Err(f) => {
            if f.code == 130 {
                eprintln!("dgen: {}", f.message);
            } else {
                eprintln!("dgen: error: {}", f.message);
            }
            if let Some(e) = written {
                report_lost(&e);
            }
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn library_options_read_as_the_flags_that_set_them() {
        assert_eq!(
            super::in_flags("cannot open x with O_DIRECT (option direct): the file system does not support direct I/O"),
            "cannot open x with O_DIRECT (--direct): the file system does not support direct I/O"
        );
        assert_eq!(
            super::in_flags("bucket b does not exist on AWS S3 (option create_bucket creates it)"),
            "bucket b does not exist on AWS S3 (give --create-bucket to create it)"
        );
    }
}
