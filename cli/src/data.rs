//! `dgen generate` and `dgen verify`: the library's stream to and from files.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::size::parse_size;
use crate::{Failure, Outcome, PlacementArgs};

/// Bytes generated and written per step.
const STEP: usize = 8 << 20;
/// Alignment of buffers for O_DIRECT.
const ALIGN: usize = 4096;

fn size_arg(s: &str) -> Result<u64, String> {
    parse_size(s)
}

/// A ratio option: a number, checked by the library for its range.
fn ratio_arg(s: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().map_err(|_| format!("{s:?} is not a number"))
}

/// A `--compressor` name.
pub fn compressor_arg(s: &str) -> Result<dgen::Compressor, String> {
    s.parse::<dgen::Compressor>().map_err(|_| format!("{s:?} is not a compressor: {}", &dgen::COMPRESSOR_EXPECTED[8..]))
}

/// What the dataset is: the options `generate` and `verify` share.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// Dedup ratio: total / distinct dedup units (1.0 to 1024).
    #[arg(long, default_value = "1", value_parser = ratio_arg, value_name = "R", allow_negative_numbers = true)]
    pub dedup: f64,
    /// Compression ratio: input / compressed bytes (1.0 to 32).
    #[arg(long, default_value = "1", value_parser = ratio_arg, value_name = "R", allow_negative_numbers = true)]
    pub compress: f64,
    /// Dedup unit: a multiple of 4 KiB, up to 64 MiB.
    #[arg(long, default_value = "4KiB", value_parser = size_arg, value_name = "SIZE")]
    pub dedup_unit: u64,
    /// The compressor the ratio is calibrated for: auto (every LZ compressor
    /// lands near it), zstd, lz4, gzip, snappy, lzo or lzjb.
    #[arg(long, default_value = "auto", value_parser = compressor_arg, value_name = "NAME")]
    pub compressor: dgen::Compressor,
    /// Seed; without one, generate draws a seed and prints it.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub placement: PlacementArgs,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Bytes to write (e.g. 1GiB).
    #[arg(long, value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub size: u64,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output file; `-` (the default) is standard output.
    #[arg(short = 'o', long = "output", default_value = "-", value_name = "PATH")]
    pub output: String,
    /// Write the file with O_DIRECT (bypassing the page cache).
    #[arg(long)]
    pub direct: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// File to check.
    pub path: PathBuf,
    /// Size of the dataset the file should hold; default: the file's length.
    #[arg(long, value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub size: Option<u64>,
    #[command(flatten)]
    pub data: DataArgs,
}

/// The library's error in the words of the command line: the option that
/// carries the bad field.
pub fn option_error(e: &dgen::Error) -> String {
    match e {
        dgen::Error::InvalidConfig { field, .. } => {
            let option = match *field {
                "dedup_ratio" => "--dedup",
                "compress_ratio" => "--compress",
                "dedup_unit" => "--dedup-unit",
                "threads" => "--threads",
                "numa_node" => "--numa-node",
                "compressor" => "--compressor",
                _ => "option",
            };
            format!("{option}: {e}")
        }
        other => other.to_string(),
    }
}

impl DataArgs {
    fn generator(&self, size: u64) -> Result<dgen::Generator, Failure> {
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

/// A zeroed buffer of `len` bytes starting at an address aligned to `ALIGN`.
struct AlignedBuf {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(len: usize) -> AlignedBuf {
        let storage = vec![0u8; len + ALIGN];
        let start = storage.as_ptr().align_offset(ALIGN);
        AlignedBuf { storage, start, len }
    }
    fn get(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

fn open_output(path: &str, direct: bool) -> Result<File, Failure> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    if direct {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_DIRECT);
    }
    opts.open(path).map_err(|e| Failure::usage(format!("cannot write {path}: {e}")))
}

pub fn generate(args: &GenerateArgs) -> Outcome {
    if args.size == 0 {
        return Err(Failure::usage("--size: must be more than 0 bytes"));
    }
    let to_stdout = args.output == "-";
    if args.direct && to_stdout {
        return Err(Failure::usage("--direct needs an output file (-o PATH)"));
    }
    let mut gen = args.data.generator(args.size)?;
    let mut file = if to_stdout { None } else { Some(open_output(&args.output, args.direct)?) };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = AlignedBuf::new(STEP);
    let bar = progress(args.size, "generate");
    let start = Instant::now();
    let mut written = 0u64;
    loop {
        let n = gen.fill(buf.get()).map_err(|e| Failure::runtime(e.to_string()))?;
        if n == 0 {
            break;
        }
        let data = &buf.get()[..n];
        let result = match file.as_mut() {
            None => out.write_all(data),
            Some(f) if args.direct && n % ALIGN != 0 => {
                // O_DIRECT writes whole blocks; the unaligned tail of the last
                // step goes through an ordinary descriptor.
                let whole = n - n % ALIGN;
                f.write_all(&data[..whole]).and_then(|_| {
                    let mut tail = OpenOptions::new().append(true).open(&args.output)?;
                    tail.write_all(&data[whole..])
                })
            }
            Some(f) => f.write_all(data),
        };
        match result {
            Ok(()) => {}
            // A reader that stops early (`| head -c`) is not an error.
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => {
                return Err(Failure::runtime(format!(
                    "cannot write {}: {e}",
                    if to_stdout { "standard output" } else { &args.output }
                )))
            }
        }
        written += n as u64;
        bar.set_position(written);
    }
    match file.as_mut() {
        None => match out.flush() {
            Err(e) if e.kind() != ErrorKind::BrokenPipe => {
                return Err(Failure::runtime(format!("cannot write standard output: {e}")))
            }
            _ => {}
        },
        Some(f) => f.sync_all().map_err(|e| Failure::runtime(format!("cannot write {}: {e}", args.output)))?,
    }
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "dgen: wrote {written} bytes in {secs:.2} s ({:.2} GB/s), seed {}",
        written as f64 / secs.max(1e-9) / 1e9,
        gen.seed()
    );
    Ok(())
}

pub fn verify(args: &VerifyArgs) -> Outcome {
    let path = args.path.display().to_string();
    let mut file = File::open(&args.path).map_err(|e| Failure::usage(format!("cannot open {path}: {e}")))?;
    let file_len = file.metadata().map_err(|e| Failure::usage(format!("cannot read {path}: {e}")))?.len();
    let Some(seed) = args.data.seed else {
        return Err(Failure::usage("verify needs --seed (generate prints the seed it used)"));
    };
    let size = args.size.unwrap_or(file_len);
    if size == 0 {
        return Err(Failure::usage(format!("{path} is empty; nothing to verify")));
    }
    let gen = args.data.generator(size)?;
    let check = size.min(file_len);
    let mut got = vec![0u8; STEP];
    let mut want = vec![0u8; STEP];
    let bar = progress(check, "verify");
    let mut first: Option<(u64, u8, u8)> = None;
    let mut wrong_blocks = 0u64;
    let mut off = 0u64;
    while off < check {
        let n = (check - off).min(STEP as u64) as usize;
        file.read_exact(&mut got[..n]).map_err(|e| Failure::runtime(format!("cannot read {path}: {e}")))?;
        gen.fill_at(off, &mut want[..n]).map_err(|e| Failure::runtime(e.to_string()))?;
        if got[..n] != want[..n] {
            for (i, (g, w)) in got[..n].chunks(4096).zip(want[..n].chunks(4096)).enumerate() {
                if g != w {
                    wrong_blocks += 1;
                    if first.is_none() {
                        let k = g.iter().zip(w).position(|(a, b)| a != b).unwrap_or(0);
                        first = Some((off + (i * 4096 + k) as u64, w[k], g[k]));
                    }
                }
            }
        }
        off += n as u64;
        bar.set_position(off);
    }
    bar.finish_and_clear();
    let blocks = size.div_ceil(4096);
    if file_len != size {
        let missing = size.saturating_sub(file_len).div_ceil(4096);
        let mut msg = format!("{path} is {file_len} bytes, the dataset is {size}");
        if let Some((at, _, _)) = first {
            msg += &format!("; first wrong byte at offset {at}");
        }
        msg += &format!("; {} of {blocks} 4 KiB blocks are wrong or missing", wrong_blocks + missing);
        return Err(Failure::runtime(msg));
    }
    if let Some((at, expected, actual)) = first {
        return Err(Failure::runtime(format!(
            "{path} differs: first wrong byte at offset {at} (expected 0x{expected:02x}, found 0x{actual:02x}); {wrong_blocks} of {blocks} 4 KiB blocks are wrong"
        )));
    }
    eprintln!("dgen: {path}: all {size} bytes match (seed {seed})");
    Ok(())
}
