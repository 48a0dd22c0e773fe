//! `dgen generate` and `dgen verify`: the library's storage writer and reader
//! (`dgen::storage`) on files, block devices, pipes and standard streams.

use std::io::IsTerminal;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;

use clap::Args;
use dgen::storage::{self, Control, IoOptions, Progress, Report, StorageError, StorageErrorKind, TargetKind};
use dgen::Field;
use indicatif::{ProgressBar, ProgressStyle};

use crate::out::us;
use crate::size::parse_size;
use crate::{Failure, Outcome, PlacementArgs};

fn size_arg(s: &str) -> Result<u64, String> {
    parse_size(s)
}

/// A ratio option: a number, checked by the library for its range.
fn ratio_arg(s: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().map_err(|_| format!("{s:?} is not a number"))
}

/// A `--compressor` name.
pub fn compressor_arg(s: &str) -> Result<dgen::Compressor, String> {
    s.parse::<dgen::Compressor>().map_err(|e| e.to_string())
}

/// What the dataset is: the options `generate` and `verify` share.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// Dedup ratio: total / distinct dedup units (1.0 to 1024).
    #[arg(long, default_value = "1", value_parser = ratio_arg, value_name = "R", allow_hyphen_values = true)]
    pub dedup: f64,
    /// Compression ratio: input / compressed bytes (1.0 to 32).
    #[arg(long, default_value = "1", value_parser = ratio_arg, value_name = "R", allow_hyphen_values = true)]
    pub compress: f64,
    /// Dedup unit: a multiple of 4 KiB, up to 64 MiB.
    #[arg(long, default_value = "4KiB", value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub dedup_unit: u64,
    /// The compressor the ratio is calibrated for: auto (the geometric mean
    /// of zstd-1 and lz4 hits it), zstd, lz4, gzip, snappy, lzo or lzjb.
    #[arg(long, default_value = "auto", value_parser = compressor_arg, value_name = "NAME")]
    pub compressor: dgen::Compressor,
    /// Seed; without one, generate draws a seed and prints it.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub placement: PlacementArgs,
}

/// Where and how the data is written or read: the options `generate` and
/// `verify` share.
#[derive(Args, Clone)]
pub struct IoArgs {
    /// First byte of the range, in the dataset and in the file.
    #[arg(long, default_value = "0", value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub offset: u64,
    /// Bytes in the range; default: to the end of the dataset.
    #[arg(long, value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub length: Option<u64>,
    /// Parallel workers on files and block devices; 0 = one per CPU.
    #[arg(long, default_value_t = 0, value_name = "N", allow_hyphen_values = true)]
    pub jobs: usize,
    /// Bytes per I/O: a multiple of 4 KiB.
    #[arg(long, default_value = "1MiB", value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub block_size: u64,
    /// I/Os in flight per worker; above 1 uses io_uring (pwrite/pread where
    /// the kernel refuses it).
    #[arg(long, default_value_t = 1, value_name = "N", allow_hyphen_values = true)]
    pub iodepth: usize,
    /// Use O_DIRECT (around the page cache) on files and block devices.
    #[arg(long)]
    pub direct: bool,
    /// Print the report as JSON on standard output (on standard error when
    /// the data goes to standard output).
    #[arg(long)]
    pub json: bool,
    /// Only part I of N (counted from 0, as MPI ranks are) of the range:
    /// N runs with 0/N .. N-1/N together cover the range exactly, on 4 KiB
    /// boundaries (the last part takes the remainder). A part left empty by
    /// a range of fewer than N 4 KiB blocks is an error.
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    pub part: Option<String>,
    /// Write state file: generate writes each unit's next version (new
    /// data on every overwrite) and records it, creating the file on the
    /// first run; verify checks every unit against its latest write and
    /// tells lost writes (stale) from misplaced, zero and corrupt data.
    /// Files and block devices only; offset and block size must be
    /// multiples of --dedup-unit.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Size of the dataset (e.g. 1GiB); 0 is the endless stream fio's engine
    /// writes, which needs --length.
    #[arg(long, value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub size: u64,
    #[command(flatten)]
    pub data: DataArgs,
    /// File, block device, FIFO or character device; `-` (the default) is
    /// standard output, written in order.
    #[arg(short = 'o', long = "output", default_value = "-", value_name = "PATH")]
    pub output: String,
    #[command(flatten)]
    pub io: IoArgs,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// File, block device, FIFO or character device to check; `-` is
    /// standard input; s3://BUCKET/PREFIX: the objects of `dgen put`.
    pub path: PathBuf,
    /// Size the dataset was generated with; 0 for the endless stream (then
    /// all the data there is, or --length bytes, is checked).
    #[arg(long, value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub size: Option<u64>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub object: crate::object::ObjectArgs,
}

/// The command-line option that sets a library field.
pub fn flag(field: Field) -> &'static str {
    match field {
        Field::Size => "--size",
        Field::DedupRatio => "--dedup",
        Field::CompressRatio => "--compress",
        Field::DedupUnit => "--dedup-unit",
        Field::Seed => "--seed",
        Field::Threads => "--threads",
        Field::NumaMode => "--numa",
        Field::NumaNode => "--numa-node",
        Field::Compressor => "--compressor",
        Field::Offset => "--offset",
        Field::Length => "--length",
        Field::Jobs => "--jobs",
        Field::BlockSize => "--block-size",
        Field::Iodepth => "--iodepth",
        Field::Engine => "--engine",
        Field::Direct => "--direct",
        Field::Part => "--part",
        _ => "option",
    }
}

/// The library's error in the words of the command line: the option that
/// carries the bad field.
pub fn option_error(e: &dgen::Error) -> String {
    match e.field() {
        Some(field) => format!("{}: {e}", flag(field)),
        None => e.to_string(),
    }
}

impl DataArgs {
    pub fn generator(&self, size: u64) -> Result<dgen::Generator, Failure> {
        let unit = u32::try_from(self.dedup_unit)
            .map_err(|_| Failure::usage(format!("--dedup-unit: {} is more than 64 MiB", self.dedup_unit)))?;
        let cfg = dgen::Config {
            size,
            dedup_ratio: self.dedup,
            compress_ratio: self.compress,
            dedup_unit: unit,
            seed: self.seed,
            threads: self.placement.threads,
            numa_mode: self.placement.numa_mode.into(),
            numa_node: self.placement.numa_node,
            compressor: self.compressor,
        };
        dgen::Generator::new(cfg).map_err(|e| Failure::usage(option_error(&e)))
    }
}

impl IoArgs {
    fn options(&self) -> Result<IoOptions, Failure> {
        let opts = IoOptions {
            offset: self.offset,
            length: self.length,
            jobs: self.jobs,
            block_size: usize::try_from(self.block_size).unwrap_or(usize::MAX),
            iodepth: self.iodepth,
            direct: self.direct,
            ..IoOptions::default()
        };
        opts.validate().map_err(|e| Failure::usage(storage_message(&e, self)))?;
        Ok(opts)
    }

    /// [`options`](Self::options) narrowed to `--part`, when given, of a
    /// dataset of `size` bytes.
    fn options_for(&self, size: u64) -> Result<IoOptions, Failure> {
        let opts = self.options()?;
        let Some(text) = &self.part else { return Ok(opts) };
        let part_error = |e: StorageError| {
            Failure::usage(match e.message.strip_prefix("part ") {
                Some(rest) if rest.starts_with(text.trim()) || rest.starts_with('"') => format!("--part {rest}"),
                _ if e.kind == StorageErrorKind::OutOfRange => storage_message(&e, self),
                _ => format!("--part {text}: {}", e.message),
            })
        };
        let part = storage::Part::parse(text).map_err(part_error)?;
        opts.for_part(part, size).map_err(part_error)
    }
}

/// One line when `--jobs` or `--iodepth` asked for parallel I/O on a
/// stream, which is read or written in order by one worker.
fn stream_note(io: &IoArgs, shown: &str, verb: &str) {
    let mut ignored = Vec::new();
    if io.jobs > 1 {
        ignored.push(format!("--jobs {}", io.jobs));
    }
    if io.iodepth > 1 {
        ignored.push(format!("--iodepth {}", io.iodepth));
    }
    if !ignored.is_empty() {
        let does = if ignored.len() > 1 { "do" } else { "does" };
        eprintln!(
            "dgen: {shown} is a stream, {verb} in order by one worker: {} {does} not apply",
            ignored.join(" and ")
        );
    }
}

/// The options that set the range, as the user gave them: `--offset` and
/// `--length` when given, `--size` when the range runs to the dataset's end.
fn range_options(io: &IoArgs) -> String {
    let mut given = Vec::new();
    if io.offset != 0 {
        given.push("--offset");
    }
    match io.length {
        Some(_) => given.push("--length"),
        None => given.push("--size"),
    }
    given.join("/")
}

/// A storage error with the option that carries a bad field named.
fn storage_message(e: &StorageError, io: &IoArgs) -> String {
    if e.kind == StorageErrorKind::InvalidOption {
        if e.message.starts_with("jobs x iodepth x block_size") {
            return format!("--jobs x --iodepth x --block-size: {}", e.message);
        }
        if let Some(field) = e.field {
            return format!("{}: {}", flag(field), e.message);
        }
    }
    if e.kind == StorageErrorKind::OutOfRange {
        return format!("{}: {}", range_options(io), e.message);
    }
    crate::in_flags(&e.message)
}

/// A progress bar on stderr when stderr is a terminal, hidden otherwise.
pub fn progress(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// The line of figures every run ends with.
fn figures(r: &Report) -> String {
    let l = &r.latency;
    format!(
        "dgen: {} with {} x {} KiB blocks, {} job(s), iodepth {}{}: {:.0} IOPS, latency p50 {} p99 {} max {}; {}",
        r.engine,
        r.ios,
        r.block_size / 1024,
        r.jobs,
        r.iodepth,
        if r.direct { ", O_DIRECT" } else { "" },
        r.iops(),
        us(l.p50),
        us(l.p99),
        us(l.max),
        r.bottleneck()
    )
}

fn print_json(r: &Report, data_on_stdout: bool) {
    if data_on_stdout {
        eprintln!("{}", r.to_json());
    } else {
        crate::out::outln!("{}", r.to_json());
    }
}

/// `--json` with the report on standard output needs it open: refused
/// before any I/O rather than found out after the run.
pub(crate) fn check_report_output(json: bool) -> Result<(), Failure> {
    if json && crate::out::was_closed() {
        return Err(Failure::usage("--json: standard output is closed, so the report would be lost; redirect it"));
    }
    Ok(())
}

/// Runs `f` with a progress bar and the signal flag hooked in; `start` is
/// called when the target is open, before the first I/O.
fn with_control<T>(
    total: u64,
    what: &str,
    start: &mut dyn FnMut(&Report),
    state: Option<&dgen::state::WriteState>,
    f: impl FnOnce(Control<'_>) -> T,
) -> T {
    let bar = progress(total, what);
    let mut tick = |p: Progress| {
        bar.set_position(p.bytes);
        true
    };
    let control = Control {
        cancel: Some(&crate::INTERRUPTED),
        progress: Some(&mut tick),
        interval: std::time::Duration::from_millis(100),
        started: Some(start),
        state,
    };
    let r = f(control);
    bar.finish_and_clear();
    r
}

/// Standard output must be open, and not a terminal, before anything runs.
fn check_stdout() -> Result<(), Failure> {
    if crate::out::was_closed() {
        return Err(Failure::usage("standard output is closed; give -o PATH or redirect it"));
    }
    if std::io::stdout().is_terminal() {
        return Err(Failure::usage(
            "standard output is a terminal: binary data would garble it; give -o PATH or redirect it",
        ));
    }
    Ok(())
}

pub fn generate(args: &GenerateArgs) -> Outcome {
    let to_stdout = args.output == "-";
    refuse_generate(args, to_stdout)?;
    let gen = args.data.generator(args.size)?;
    let seed = gen.seed();
    // Checked here too so a bad range is refused before the seed line.
    let end = args.io.length.map_or(args.size, |l| args.io.offset.saturating_add(l));
    if args.size != 0 && (args.io.offset > args.size || end > args.size) {
        return Err(Failure::usage(format!(
            "{}: the range [{}, {end}) passes the dataset size {}",
            range_options(&args.io),
            args.io.offset,
            args.size
        )));
    }
    let opts = args.io.options_for(args.size)?;
    let total = opts.length.map_or(end - opts.offset, |l| l);
    let shown = if to_stdout { "standard output" } else { args.output.as_str() };
    // The seed first, so that a run that fails or is stopped can be
    // repeated: once the target is open and the range checked (a refused
    // run stays one line), or before the open where the open itself may
    // wait, as a FIFO's waits for its reader. Looking at the path does not
    // block.
    let may_block = !to_stdout && std::fs::metadata(&args.output).is_ok_and(|m| m.file_type().is_fifo());
    let seed_line = |length: u64, offset: u64, kind: &str| {
        eprintln!("dgen: seed {seed}: writing {length} bytes at offset {offset} to {shown} ({kind})");
    };
    if may_block {
        seed_line(total, args.io.offset, "stream");
    }
    let mut opened = false;
    let mut start = |r: &Report| {
        opened = true;
        if !may_block {
            let kind = match r.target {
                TargetKind::File => "file",
                TargetKind::BlockDevice => "block device",
                TargetKind::Stream => "stream",
            };
            seed_line(r.length, r.offset, kind);
        }
        if r.target == TargetKind::Stream {
            stream_note(&args.io, shown, "written");
        }
    };
    let state = match &args.io.state {
        Some(path) => Some(open_state(path, &gen, true)?),
        None => None,
    };
    crate::catch_signals();
    let result = with_control(total, "generate", &mut start, state.as_ref(), |c| {
        storage::write_file_with(&gen, &args.output, &opts, c)
    });
    if let Some(st) = &state {
        state_summary(st);
    }
    match result {
        Ok(r) => {
            if args.io.json {
                print_json(&r, to_stdout);
            }
            if r.target != TargetKind::Stream {
                eprintln!("{}", figures(&r));
            }
            eprintln!("dgen: wrote {} bytes in {:.2} s ({:.2} GB/s), seed {seed}", r.bytes, r.seconds, r.gbps());
            Ok(())
        }
        Err(e) => {
            if args.io.json && e.report.seconds > 0.0 {
                print_json(&e.report, to_stdout);
            }
            write_failed(args, &e, Written { shown, opened, seed })
        }
    }
}

/// What `generate` refuses before it looks at the range: bad options, the
/// endless stream without a length, and an output or report that could not
/// be written.
fn refuse_generate(args: &GenerateArgs, to_stdout: bool) -> Result<(), Failure> {
    // Bad options are refused first, before the range is looked at.
    args.io.options()?;
    if args.size == 0 && args.io.length.is_none() {
        return Err(Failure::usage("--size 0 is the endless stream: give --length to say how much of it to write"));
    }
    if to_stdout {
        if args.io.direct {
            return Err(Failure::usage("--direct needs an output file or block device (-o PATH)"));
        }
        check_stdout()
    } else {
        check_report_output(args.io.json)
    }
}

/// The line a write with `--state` ends with.
fn state_summary(st: &dgen::state::WriteState) {
    let s = st.summary();
    eprintln!(
        "dgen: state {}: {} of {} units written, {} overwritten, latest version {}{}",
        st.path(),
        s.written,
        s.units,
        s.overwritten,
        s.max_version,
        if s.in_flight > 0 { format!(", {} in flight", s.in_flight) } else { String::new() }
    );
}

/// Where a failed write went: the output as messages show it, whether it
/// was open yet, and the seed that repeats it.
struct Written<'a> {
    shown: &'a str,
    opened: bool,
    seed: u64,
}

/// A write that stopped early, in one line saying how far it got.
fn write_failed(args: &GenerateArgs, e: &StorageError, w: Written<'_>) -> Outcome {
    let (r, shown, seed) = (&e.report, w.shown, w.seed);
    match e.kind {
        StorageErrorKind::Interrupted => {
            let mut text = format!("interrupted: wrote {} bytes to {shown}", r.bytes);
            if !w.opened {
                text += " (it was still being opened: a FIFO waits for a reader)";
            } else if r.target == TargetKind::Stream {
                text += &format!(" (offsets {} to {})", r.offset, r.offset + r.prefix);
            } else {
                text += &format!("; the range from offset {} is complete for its first {} bytes", r.offset, r.prefix);
            }
            text += &format!(", seed {seed}");
            Err(Failure::interrupted(text))
        }
        // A reader that stops early (`| head -c`) is not an error.
        StorageErrorKind::Io if r.target == TargetKind::Stream && e.os_error == Some(libc::EPIPE) => {
            eprintln!("dgen: the reader of {shown} closed it after {} bytes, seed {seed}", r.bytes);
            Ok(())
        }
        StorageErrorKind::Io | StorageErrorKind::Threads => {
            let mut text = format!("{}; {} bytes were written", e.message, r.bytes);
            let complete = r.offset + r.prefix;
            if r.target == TargetKind::File && r.bytes > r.prefix {
                // Blocks past a gap were written too; what is left of them
                // depends on whether the file was cut.
                let len = std::fs::metadata(&args.output).map(|m| m.len()).ok();
                if len == Some(complete) {
                    text += &format!(
                        ", but {shown} was cut to {complete} bytes, where the part written without a gap ends"
                    );
                } else {
                    text += &format!(
                        "; the range from offset {} is complete for its first {} bytes only",
                        r.offset, r.prefix
                    );
                }
            }
            Err(Failure::runtime(format!("{text}, seed {seed}")))
        }
        _ => Err(Failure::usage(storage_message(e, &args.io))),
    }
}

/// Whether the data that failed a sized verification is the endless stream
/// (size 0) of the same options instead, at the range's first 4 KiB and
/// around the first wrong byte: what fio's engine writes, verified with the
/// size of the file.
fn matches_endless_stream(args: &VerifyArgs, r: &Report) -> bool {
    let Some(first) = r.first_mismatch else { return false };
    let Ok(endless) = args.data.generator(0) else { return false };
    let Ok(file) = std::fs::File::open(&args.path) else { return false };
    let g = dgen::GRANULE as u64;
    let mut probes = vec![r.offset, first.offset / g * g];
    probes.dedup();
    probes.iter().all(|&at| {
        let mut got = vec![0u8; 4096];
        let mut want = vec![0u8; 4096];
        let Ok(n) = storage::read_at_full(&file, &mut got, at) else { return false };
        n > 0 && endless.fill_at(at, &mut want[..n]).is_ok() && got[..n] == want[..n]
    })
}

/// What a verification against a state found: units checked and not, and
/// the first offsets of each class of wrong unit.
fn state_lines(st: &dgen::state::StateCheck) {
    use dgen::state::Class;
    eprintln!(
        "dgen: state: {} units right, {} wrong, {} never written, {} in doubt (a first write in flight when its \
         writer died)",
        st.ok,
        st.wrong(),
        st.unwritten,
        st.in_doubt
    );
    for class in Class::ALL {
        let n = st.count(class);
        if n == 0 {
            continue;
        }
        let firsts: Vec<String> = st
            .first(class)
            .map(|f| match (f.found_version, f.from_unit) {
                (Some(v), _) => format!("{} (version {v} of {})", f.offset, f.expected_version),
                (_, Some(u)) => format!("{} (unit {u}'s data)", f.offset),
                _ => f.offset.to_string(),
            })
            .collect();
        eprintln!(
            "dgen: state: {n} {}: {}{}",
            class.name(),
            firsts.join(", "),
            if n as usize > firsts.len() { ", ..." } else { "" }
        );
    }
}

/// Opens `--state` for a writer (created when missing) or a verifier.
fn open_state(path: &std::path::Path, gen: &dgen::Generator, write: bool) -> Result<dgen::state::WriteState, Failure> {
    let opened = if write {
        dgen::state::WriteState::open_or_create(path, gen)
    } else {
        dgen::state::WriteState::open(path, gen)
    };
    opened.map_err(|e| Failure::of_kind(e.kind.into(), format!("--state: {}", e.message)))
}

pub fn verify(args: &VerifyArgs) -> Outcome {
    if let Some(url) = args.path.to_str().filter(|p| p.starts_with("s3://")) {
        return crate::object::verify(url, &args.object, &args.data, args.io.jobs, args.io.json);
    }
    if args.object.any() {
        return Err(Failure::usage(
            "--objects, --object-size, --sizes, --name, --endpoint and the other object options need an \
             s3://BUCKET/PREFIX to verify",
        ));
    }
    let path = args.path.display().to_string();
    let Some(seed) = args.data.seed else {
        return Err(Failure::usage("verify needs --seed (generate prints the seed it used)"));
    };
    let Some(size) = args.size else {
        return Err(Failure::usage(
            "verify needs --size: the size the dataset was generated with (0 for the endless stream)",
        ));
    };
    let opts = args.io.options_for(size)?;
    check_report_output(args.io.json)?;
    let gen = args.data.generator(size)?;
    let total = opts.length.unwrap_or(size.saturating_sub(opts.offset));
    crate::catch_signals();
    let mut opened = false;
    let mut start = |r: &Report| {
        opened = true;
        if r.target == TargetKind::Stream {
            stream_note(&args.io, &path, "read");
        }
    };
    let state = match &args.io.state {
        Some(path) => Some(open_state(path, &gen, false)?),
        None => None,
    };
    let result = with_control(total, "verify", &mut start, state.as_ref(), |c| {
        storage::verify_file_with(&gen, &args.path, &opts, c)
    });
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            let r = &e.report;
            if args.io.json && r.seconds > 0.0 {
                print_json(r, false);
            }
            return Err(match e.kind {
                StorageErrorKind::Interrupted => {
                    let mut text = format!("interrupted: checked {} bytes of {path}", r.bytes);
                    if !opened {
                        text += " (it was still being opened: a FIFO waits for a writer)";
                    } else if let Some(p) = r.problem() {
                        text += &format!(" ({p})");
                    }
                    Failure::interrupted(format!("{text}, seed {seed}"))
                }
                StorageErrorKind::Io | StorageErrorKind::Threads => {
                    Failure::runtime(format!("{}; {} bytes were checked", e.message, r.bytes))
                }
                _ => Failure::usage(storage_message(&e, &args.io)),
            });
        }
    };
    if args.io.json {
        print_json(&r, false);
    }
    if r.target != TargetKind::Stream {
        eprintln!("{}", figures(&r));
    }
    if let Some(st) = &r.state {
        state_lines(st);
    }
    if let Some(problem) = r.problem() {
        let mut text = format!("{path}: {problem}");
        if size != 0 && r.target != TargetKind::Stream && matches_endless_stream(args, &r) {
            text += "; it holds the endless stream of these options (as fio's engine writes it): \
                     verify it with --size 0";
        }
        return Err(Failure::runtime(text));
    }
    eprintln!("dgen: {path}: all {} bytes match (seed {seed}), {:.2} s ({:.2} GB/s)", r.bytes, r.seconds, r.gbps());
    Ok(())
}
