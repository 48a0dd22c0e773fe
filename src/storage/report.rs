//! What a write or a verification did: throughput, latency percentiles, where
//! the workers spent their time, and for a verification what was wrong.
//!
//! A report is plain data. [`Report::fields`] lists it as named values, the
//! one form every face converts from (JSON here, a dict in Python, the C
//! struct, each under the same names), so that the faces cannot drift
//! apart.

use hdrhistogram::Histogram;

/// Latency of single I/Os, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest I/O.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// A histogram of nanoseconds, 3 significant digits, that takes any value.
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid histogram precision")
}

/// Records `ns` nanoseconds (at least 1) in a histogram of
/// [`new_histogram`]'s kind, which resizes itself and so takes any value.
pub(crate) fn record_ns(h: &mut Histogram<u64>, ns: u64) {
    let _ = h.record(ns.max(1));
}

/// `count` per second over `seconds`; 0 when no time passed.
pub(crate) fn per_second(count: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count / seconds
    } else {
        0.0
    }
}

/// `part / whole`, from 0 to 1; 0 when `whole` is 0.
pub(crate) fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The verdict on a run that spent `share` of its worker time generating
/// (`what`): "generation-bound" from one half on, else `otherwise` (the
/// storage, the server, the I/O).
pub(crate) fn verdict(share: f64, what: &str, otherwise: &str) -> String {
    let limit = if share >= 0.5 { "generation-bound" } else { otherwise };
    format!("{limit}: {what} took {:.0}% of worker time", share * 100.0)
}

/// The `(nanoseconds, count)` pairs of `h`'s buckets, lowest first.
pub(crate) fn histogram_pairs(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect()
}

/// `pairs` as the JSON report's `latency_histogram`: `ns:count` pairs
/// separated by spaces (`"51199:3 52223:1"`).
pub fn histogram_text(pairs: &[(u64, u64)]) -> String {
    let items: Vec<String> = pairs.iter().map(|(v, n)| format!("{v}:{n}")).collect();
    items.join(" ")
}

/// The pairs of a `latency_histogram` text, as [`histogram_text`] writes it.
pub fn parse_histogram_text(text: &str) -> Result<Vec<(u64, u64)>, String> {
    text.split_whitespace()
        .map(|item| {
            item.split_once(':')
                .and_then(|(v, n)| Some((v.parse().ok()?, n.parse().ok()?)))
                .ok_or_else(|| format!("latency_histogram: {item:?} is not a nanoseconds:count pair"))
        })
        .collect()
}

impl Latency {
    /// Percentiles of `(nanoseconds, count)` pairs, as
    /// [`Report::latency_histogram`] holds them.
    pub fn from_pairs(pairs: &[(u64, u64)]) -> Latency {
        let mut h = new_histogram();
        for &(v, n) in pairs {
            // An auto-resizing histogram takes any value.
            let _ = h.record_n(v, n);
        }
        Latency::from_histogram(&h)
    }

    /// The percentiles as named values: `p50`, `p90`, `p99`, `p999`, `max`,
    /// `mean`.
    pub fn value(&self) -> Value {
        Value::Map(vec![
            ("p50", Value::F64(self.p50)),
            ("p90", Value::F64(self.p90)),
            ("p99", Value::F64(self.p99)),
            ("p999", Value::F64(self.p999)),
            ("max", Value::F64(self.max)),
            ("mean", Value::F64(self.mean)),
        ])
    }

    /// Percentiles of a histogram of nanoseconds.
    pub(crate) fn from_histogram(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Latency {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// Which operation a report describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Data was generated and written.
    Write,
    /// Data was read and compared with the stream.
    Verify,
}

impl Operation {
    /// `"write"` or `"verify"`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Write => "write",
            Operation::Verify => "verify",
        }
    }
}

/// What kind of file the path named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A regular file: positional I/O, its length is the data's end.
    File,
    /// A block device: positional I/O, its size from `BLKGETSIZE64`.
    BlockDevice,
    /// Anything read or written in order: a pipe, a FIFO, a character device
    /// (`/dev/null`), a socket, standard input or output.
    Stream,
}

impl TargetKind {
    /// `"file"`, `"block_device"` or `"stream"`.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::File => "file",
            TargetKind::BlockDevice => "block_device",
            TargetKind::Stream => "stream",
        }
    }
}

/// The first wrong byte a verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch {
    /// Stream (and file) offset of the byte.
    pub offset: u64,
    /// The byte the stream has there.
    pub expected: u8,
    /// The byte that was read.
    pub actual: u8,
}

/// One value of [`Report::entries`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A count or an offset.
    U64(u64),
    /// A measurement.
    F64(f64),
    /// A flag.
    Bool(bool),
    /// Text.
    Str(String),
    /// Nothing (for example no mismatch).
    Null,
    /// Named values nested under one key.
    Map(Vec<(&'static str, Value)>),
}

impl Value {
    /// The number, or `Null`.
    pub(crate) fn opt(v: Option<u64>) -> Value {
        v.map_or(Value::Null, Value::U64)
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::U64(v) => out.push_str(&v.to_string()),
            Value::F64(v) if v.is_finite() => {
                // Enough digits for microseconds and GB/s, and always a number
                // JSON accepts.
                let text = format!("{v:.6}");
                let text = text.trim_end_matches('0').trim_end_matches('.');
                out.push_str(if text.is_empty() || text == "-" { "0" } else { text });
            }
            Value::F64(_) | Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Str(s) => json_string(s, out),
            Value::Map(entries) => json_object(entries, out),
        }
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `entries` as one JSON object appended to `out`.
pub(crate) fn json_object(entries: &[(&'static str, Value)], out: &mut String) {
    out.push('{');
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        json_string(k, out);
        out.push_str(": ");
        v.write_json(out);
    }
    out.push('}');
}

/// What a [`write_file`](crate::storage::write_file) or
/// [`verify_file`](crate::storage::verify_file) did. A failed or interrupted
/// run hands back the same report inside its
/// [`StorageError`](crate::storage::StorageError), saying how far it got.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Write or verify.
    pub operation: Operation,
    /// The path as given (`-` for standard input or output).
    pub path: String,
    /// Regular file, block device or stream.
    pub target: TargetKind,
    /// How the I/O was done: `pwrite`, `pread`, `io_uring`, `stream`; a
    /// fallback says why (`pwrite (io_uring unavailable: ...)`).
    pub engine: String,
    /// The generator's seed: with the same config it repeats the data.
    pub seed: u64,
    /// First byte of the range.
    pub offset: u64,
    /// Bytes in the range (for a stream read to its end: the bytes there were).
    pub length: u64,
    /// Bytes written, or read and checked.
    pub bytes: u64,
    /// Bytes from `offset` on that are all done: equal to `bytes` unless the
    /// run stopped early while workers were spread over the range.
    pub prefix: u64,
    /// Number of I/O calls (writes or reads) that completed.
    pub ios: u64,
    /// Wall time from the first I/O to the end (sync included).
    pub seconds: f64,
    /// Time spent in the final sync of the data to stable storage.
    pub sync_seconds: f64,
    /// Per-I/O latency, in microseconds.
    pub latency: Latency,
    /// Worker time spent generating data (a write) or generating and
    /// comparing it (a verification), summed over workers.
    pub generate_seconds: f64,
    /// Worker time spent in I/O calls or waiting for their completion,
    /// summed over workers.
    pub io_seconds: f64,
    /// Wall time of every worker, summed: the denominator of the shares.
    pub worker_seconds: f64,
    /// Workers that ran.
    pub jobs: usize,
    /// Bytes per I/O.
    pub block_size: usize,
    /// I/Os in flight per worker.
    pub iodepth: usize,
    /// Whether `O_DIRECT` was used.
    pub direct: bool,
    /// True when the run was stopped by its cancel flag or progress callback.
    pub interrupted: bool,
    /// A verification's first wrong byte.
    pub first_mismatch: Option<Mismatch>,
    /// Aligned 4 KiB blocks of the stream, within the range, that were read
    /// and hold a wrong byte.
    pub wrong_blocks: u64,
    /// Aligned 4 KiB blocks of the range that could not be read because the
    /// data ended.
    pub missing_blocks: u64,
    /// Aligned 4 KiB blocks of the stream that the range touches.
    pub blocks: u64,
    /// Where the data ended, when it ended before the range did.
    pub data_end: Option<u64>,
    /// Size of the file or device, when known.
    pub data_size: Option<u64>,
    /// True when a file or stream holds bytes past the end of the dataset
    /// (checked only when the range runs to the end of a sized dataset).
    pub extra_data: bool,
    /// Wall-clock time of the first I/O, in seconds since the Unix epoch
    /// (0 when nothing ran): with `end_time`, what lets reports of workers
    /// on one clock merge into one throughput.
    pub start_time: f64,
    /// Wall-clock time of the end of the run, in seconds since the Unix epoch.
    pub end_time: f64,
    /// Every I/O's latency as `(nanoseconds, count)` pairs, one per bucket of
    /// a histogram with 3 significant digits (the value is the highest of its
    /// bucket), lowest first: the exact data behind `latency`, so that
    /// reports merge into exact percentiles ([`merge`]).
    pub latency_histogram: Vec<(u64, u64)>,
    /// A verification against a write state: units right, unchecked and
    /// wrong by class, with the first offsets of each class.
    pub state: Option<crate::state::StateCheck>,
}

/// A state verification's counts and first offsets, for [`Report::entries`].
fn state_entries(st: &crate::state::StateCheck) -> Value {
    use crate::state::Class;
    let mut m = vec![
        ("units_ok", Value::U64(st.ok)),
        ("units_unwritten", Value::U64(st.unwritten)),
        ("units_in_doubt", Value::U64(st.in_doubt)),
    ];
    for (class, first) in [
        (Class::Stale, "first_stale"),
        (Class::Misplaced, "first_misplaced"),
        (Class::Zero, "first_zero"),
        (Class::Corrupt, "first_corrupt"),
    ] {
        m.push((class.name(), Value::U64(st.count(class))));
        let offsets: Vec<String> = st.first(class).map(|f| f.offset.to_string()).collect();
        m.push((first, Value::Str(offsets.join(" "))));
    }
    Value::Map(m)
}

impl Report {
    /// An empty report: nothing done yet.
    pub fn new(operation: Operation, path: &str, target: TargetKind, seed: u64) -> Report {
        Report {
            operation,
            path: path.to_string(),
            target,
            engine: String::new(),
            seed,
            offset: 0,
            length: 0,
            bytes: 0,
            prefix: 0,
            ios: 0,
            seconds: 0.0,
            sync_seconds: 0.0,
            latency: Latency::default(),
            generate_seconds: 0.0,
            io_seconds: 0.0,
            worker_seconds: 0.0,
            jobs: 0,
            block_size: 0,
            iodepth: 0,
            direct: false,
            interrupted: false,
            first_mismatch: None,
            wrong_blocks: 0,
            missing_blocks: 0,
            blocks: 0,
            data_end: None,
            data_size: None,
            extra_data: false,
            start_time: 0.0,
            end_time: 0.0,
            latency_histogram: Vec::new(),
            state: None,
        }
    }

    /// Throughput in GB/s (10^9 bytes per second).
    pub fn gbps(&self) -> f64 {
        per_second(self.bytes as f64, self.seconds) / 1e9
    }

    /// I/Os per second.
    pub fn iops(&self) -> f64 {
        per_second(self.ios as f64, self.seconds)
    }

    /// Share of worker time spent generating (and comparing), 0 to 1.
    pub fn generation_share(&self) -> f64 {
        share(self.generate_seconds, self.worker_seconds)
    }

    /// True when generation took most of the workers' time: faster storage
    /// would not make the run faster, more CPUs would.
    pub fn generation_bound(&self) -> bool {
        self.generation_share() >= 0.5
    }

    /// The verdict in words, e.g. "storage-bound: generation took 6% of
    /// worker time".
    pub fn bottleneck(&self) -> String {
        let what = match self.operation {
            Operation::Write => "generation",
            Operation::Verify => "generating and comparing",
        };
        let otherwise = if self.target == TargetKind::Stream { "I/O-bound" } else { "storage-bound" };
        verdict(self.generation_share(), what, otherwise)
    }

    /// End of the range: `offset + length`.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.length)
    }

    /// True when a verification found every byte of the range in place and
    /// nothing else; always true for a write.
    pub fn passed(&self) -> bool {
        self.operation == Operation::Write || (self.problem().is_none() && !self.interrupted)
    }

    /// What a verification found wrong, in one sentence; `None` when nothing.
    pub fn problem(&self) -> Option<String> {
        if self.operation == Operation::Write {
            return None;
        }
        let mut parts = Vec::new();
        if let Some(end) = self.data_end {
            parts.push(format!("data ends at {end}, the dataset is {}", self.end()));
        }
        if self.extra_data {
            match self.data_size {
                Some(size) if self.target != TargetKind::Stream => parts.push(format!(
                    "the data goes on past the end of the dataset: {size} bytes, the dataset is {}",
                    self.end()
                )),
                _ => parts.push(format!("the data goes on past the end of the dataset ({} bytes)", self.end())),
            }
        }
        if let Some(m) = self.first_mismatch {
            parts.push(format!(
                "first wrong byte at offset {} (expected 0x{:02x}, found 0x{:02x})",
                m.offset, m.expected, m.actual
            ));
        }
        if let Some(st) = self.state.as_ref().filter(|st| !st.passed()) {
            use crate::state::Class;
            let classes: Vec<String> = Class::ALL
                .into_iter()
                .filter(|&c| st.count(c) > 0)
                .map(|c| {
                    let first = st.first(c).next().map_or(0, |f| f.offset);
                    let what = match c {
                        Class::Stale => "stale (lost writes)",
                        Class::Misplaced => "misplaced",
                        Class::Zero => "zero",
                        Class::Corrupt => "corrupt",
                    };
                    format!("{} {what} from offset {first}", st.count(c))
                })
                .collect();
            parts.push(format!("{} of {} units checked are wrong: {}", st.wrong(), st.checked(), classes.join(", ")));
        }
        if self.wrong_blocks > 0 || self.missing_blocks > 0 {
            let text = match (self.wrong_blocks, self.missing_blocks) {
                (w, 0) => format!("{w} of {} 4 KiB blocks are wrong", self.blocks),
                (0, m) => format!("{m} of {} 4 KiB blocks are missing", self.blocks),
                (w, m) => format!("{w} of {} 4 KiB blocks are wrong, {m} missing", self.blocks),
            };
            parts.push(text);
        }
        // Not one block right: the data is from another dataset, not a
        // damaged copy of this one.
        if self.wrong_blocks > 1 && self.wrong_blocks + self.missing_blocks == self.blocks && self.state.is_none() {
            parts.push(
                "every block is wrong: the data was likely written with another seed, size, dedup ratio, \
                 compress ratio, dedup unit or compressor, or overwritten with a write state (verify with it)"
                    .into(),
            );
        }
        if parts.is_empty() {
            None
        } else {
            Some(parts.join("; "))
        }
    }

    /// Every field as a named value, in a fixed order, named as the C
    /// struct `dgen_io_report` names it: the one list that the JSON report,
    /// the Python dict ([`entries`](Self::entries)) and the C struct are
    /// made from, so that a field added here shows in each. A write has the
    /// verification's fields too, saying that nothing was found wrong.
    pub fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut v = vec![
            ("operation", Value::Str(self.operation.name().into())),
            ("path", Value::Str(self.path.clone())),
            ("target", Value::Str(self.target.name().into())),
            ("engine", Value::Str(self.engine.clone())),
            ("seed", Value::U64(self.seed)),
            ("offset", Value::U64(self.offset)),
            ("length", Value::U64(self.length)),
            ("bytes", Value::U64(self.bytes)),
            ("prefix", Value::U64(self.prefix)),
            ("ios", Value::U64(self.ios)),
            ("seconds", Value::F64(self.seconds)),
            ("sync_seconds", Value::F64(self.sync_seconds)),
            ("gbps", Value::F64(self.gbps())),
            ("iops", Value::F64(self.iops())),
            ("latency_us", self.latency.value()),
            ("generate_seconds", Value::F64(self.generate_seconds)),
            ("io_seconds", Value::F64(self.io_seconds)),
            ("worker_seconds", Value::F64(self.worker_seconds)),
            ("generation_share", Value::F64(self.generation_share())),
            ("generation_bound", Value::Bool(self.generation_bound())),
            ("bottleneck", Value::Str(self.bottleneck())),
            ("jobs", Value::U64(self.jobs as u64)),
            ("block_size", Value::U64(self.block_size as u64)),
            ("iodepth", Value::U64(self.iodepth as u64)),
            ("direct", Value::Bool(self.direct)),
            ("interrupted", Value::Bool(self.interrupted)),
            ("start_time", Value::F64(self.start_time)),
            ("end_time", Value::F64(self.end_time)),
            ("latency_histogram", Value::Str(histogram_text(&self.latency_histogram))),
        ];
        let m = self.first_mismatch;
        v.extend([
            (Self::FIRST_VERIFY_FIELD, Value::Bool(self.passed())),
            ("mismatch_offset", Value::opt(m.map(|m| m.offset))),
            ("expected", Value::opt(m.map(|m| m.expected as u64))),
            ("actual", Value::opt(m.map(|m| m.actual as u64))),
            ("wrong_blocks", Value::U64(self.wrong_blocks)),
            ("missing_blocks", Value::U64(self.missing_blocks)),
            ("blocks", Value::U64(self.blocks)),
            ("data_end", Value::opt(self.data_end)),
            ("data_size", Value::opt(self.data_size)),
            ("extra_data", Value::Bool(self.extra_data)),
            ("problem", self.problem().map_or(Value::Null, Value::Str)),
        ]);
        if let Some(st) = &self.state {
            v.push(("state", state_entries(st)));
        }
        v
    }

    /// The first of the fields that only a verification's report shows.
    const FIRST_VERIFY_FIELD: &'static str = "passed";

    /// The report as named values, the form the JSON and Python reports are
    /// made from: [`fields`](Self::fields), less a write's verification
    /// fields (from `passed` on). The keys `bytes`, `seconds`, `gbps`,
    /// `iops`, `latency_us` (`p50`, `p90`, `p99`, `p999`, `max`, `mean`),
    /// `generate_seconds`, `io_seconds` and `bottleneck` are always present.
    pub fn entries(&self) -> Vec<(&'static str, Value)> {
        let mut v = self.fields();
        if self.operation == Operation::Write {
            let verify = v.iter().position(|(k, _)| *k == Self::FIRST_VERIFY_FIELD).unwrap_or(v.len());
            v.truncate(verify);
        }
        v
    }

    /// The report as one JSON object (the keys of [`entries`](Self::entries)).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        json_object(&self.entries(), &mut out);
        out
    }
}

/// Why reports cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError(pub String);

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MergeError {}

/// One report for the runs of N workers (each with its `--part`, on one or
/// several hosts): bytes, I/Os, blocks and worker times add up; the run lasts
/// from the first `start_time` to the last `end_time` (the longest run's
/// `seconds` when a report has no times), so GB/s is the aggregate; the
/// latency histograms add up and the percentiles are computed again from the
/// sum, exactly as one histogram fed every I/O would give them; a
/// verification fails when any part failed, with the lowest wrong byte. The
/// range runs from the lowest offset over the sum of the lengths (the parts'
/// ranges tile one range). All reports must be of one operation.
pub fn merge(reports: &[Report]) -> Result<Report, MergeError> {
    let first = reports.first().ok_or_else(|| MergeError("no reports to merge".into()))?;
    if let Some(other) = reports.iter().find(|r| r.operation != first.operation) {
        return Err(MergeError(format!(
            "cannot merge a {} report with a {} report",
            first.operation.name(),
            other.operation.name()
        )));
    }
    let same = |f: &dyn Fn(&Report) -> String| reports.iter().all(|r| f(r) == f(first));
    let mut m = Report::new(first.operation, &first.path, first.target, first.seed);
    if !same(&|r| r.path.clone()) {
        let mut paths: Vec<&str> = Vec::new();
        for r in reports {
            if !paths.contains(&r.path.as_str()) {
                paths.push(&r.path);
            }
        }
        m.path = paths.join(", ");
    }
    m.engine = if same(&|r| r.engine.clone()) { first.engine.clone() } else { "mixed".into() };
    let mut by_offset: Vec<&Report> = reports.iter().collect();
    by_offset.sort_by_key(|r| r.offset);
    m.offset = by_offset[0].offset;
    let mut hist = new_histogram();
    let mut complete = true;
    for r in &by_offset {
        m.length = m.length.saturating_add(r.length);
        m.bytes += r.bytes;
        // The done prefix runs on while each part is whole and meets the next.
        if complete && r.offset == m.offset + m.prefix {
            m.prefix += r.prefix;
            complete = r.prefix == r.length;
        } else {
            complete = false;
        }
        m.ios += r.ios;
        m.sync_seconds = m.sync_seconds.max(r.sync_seconds);
        m.generate_seconds += r.generate_seconds;
        m.io_seconds += r.io_seconds;
        m.worker_seconds += r.worker_seconds;
        m.jobs += r.jobs;
        m.block_size = m.block_size.max(r.block_size);
        m.iodepth = m.iodepth.max(r.iodepth);
        m.interrupted |= r.interrupted;
        if let Some(x) = r.first_mismatch {
            if m.first_mismatch.is_none_or(|f| x.offset < f.offset) {
                m.first_mismatch = Some(x);
            }
        }
        m.wrong_blocks += r.wrong_blocks;
        m.missing_blocks += r.missing_blocks;
        m.blocks += r.blocks;
        if let Some(end) = r.data_end {
            m.data_end = Some(m.data_end.map_or(end, |e| e.min(end)));
        }
        if let Some(size) = r.data_size {
            m.data_size = Some(m.data_size.map_or(size, |s| s.max(size)));
        }
        m.extra_data |= r.extra_data;
        for &(v, n) in &r.latency_histogram {
            let _ = hist.record_n(v, n);
        }
    }
    m.direct = reports.iter().all(|r| r.direct);
    let timed = reports.iter().all(|r| r.start_time > 0.0 && r.end_time >= r.start_time);
    if timed {
        m.start_time = reports.iter().map(|r| r.start_time).fold(f64::INFINITY, f64::min);
        m.end_time = reports.iter().map(|r| r.end_time).fold(0.0, f64::max);
        m.seconds = m.end_time - m.start_time;
    } else {
        m.seconds = reports.iter().map(|r| r.seconds).fold(0.0, f64::max);
    }
    m.latency = Latency::from_histogram(&hist);
    m.latency_histogram = histogram_pairs(&hist);
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_promised_keys_and_valid_numbers() {
        let mut r = Report::new(Operation::Verify, "a \"b\"\n", TargetKind::File, 7);
        r.bytes = 4096;
        r.seconds = 0.5;
        r.ios = 1;
        r.first_mismatch = Some(Mismatch { offset: 9, expected: 1, actual: 2 });
        r.wrong_blocks = 1;
        r.blocks = 1;
        r.length = 4096;
        r.seconds = f64::NAN;
        let j = r.to_json();
        for key in [
            "\"bytes\": 4096",
            "\"gbps\": ",
            "\"latency_us\": {\"p50\": 0",
            "\"mismatch_offset\": 9",
            "\"passed\": false",
        ] {
            assert!(j.contains(key), "{key} in {j}");
        }
        assert!(j.contains("\"seconds\": null"), "{j}");
        assert!(j.contains("\"path\": \"a \\\"b\\\"\\n\""), "{j}");
        assert!(!r.passed());
        assert_eq!(
            r.problem().unwrap(),
            "first wrong byte at offset 9 (expected 0x01, found 0x02); 1 of 1 4 KiB blocks are wrong"
        );
    }

    #[test]
    fn merged_reports_add_up_and_give_the_percentiles_of_all_samples() {
        // Two workers' latencies, in nanoseconds, from 1 us to about 1 s.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut draw = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            1000 + state % 1_000_000_000 / (1 + state % 1000)
        };
        let samples: Vec<Vec<u64>> = vec![(0..5000).map(|_| draw()).collect(), (0..3000).map(|_| draw() * 3).collect()];
        let mut all = new_histogram();
        let mut parts = Vec::new();
        for (i, s) in samples.iter().enumerate() {
            let mut h = new_histogram();
            for &v in s {
                h.record(v).unwrap();
                all.record(v).unwrap();
            }
            let mut r = Report::new(Operation::Verify, "d.bin", TargetKind::File, 5);
            r.offset = [4096, 0][i];
            r.length = [8192, 4096][i];
            r.prefix = r.length;
            r.bytes = r.length;
            r.blocks = r.length / 4096;
            r.ios = s.len() as u64;
            r.jobs = 2;
            r.seconds = 1.0;
            r.start_time = [100.0, 100.5][i];
            r.end_time = [101.0, 101.5][i];
            r.latency = Latency::from_histogram(&h);
            r.latency_histogram = histogram_pairs(&h);
            // The text form round-trips.
            assert_eq!(parse_histogram_text(&histogram_text(&r.latency_histogram)).unwrap(), r.latency_histogram);
            parts.push(r);
        }
        let m = merge(&parts).unwrap();
        assert_eq!(m.latency, Latency::from_histogram(&all));
        assert_ne!(m.latency, parts[0].latency);
        assert_eq!(
            (m.offset, m.length, m.bytes, m.prefix, m.blocks, m.ios, m.jobs),
            (0, 12288, 12288, 12288, 3, 8000, 4)
        );
        assert_eq!(m.seconds, 1.5);
        assert!(m.passed());
        // A failed part fails the merge, at its first wrong byte.
        parts[0].first_mismatch = Some(Mismatch { offset: 5000, expected: 1, actual: 2 });
        parts[0].wrong_blocks = 1;
        let m = merge(&parts).unwrap();
        assert!(!m.passed());
        assert_eq!(m.first_mismatch.unwrap().offset, 5000);
        assert_eq!(m.prefix, 12288);
        assert!(merge(&[]).is_err());
        parts[1].operation = Operation::Write;
        assert_eq!(merge(&parts).unwrap_err().0, "cannot merge a verify report with a write report");
    }

    #[test]
    fn the_verdict_follows_the_larger_share() {
        let mut r = Report::new(Operation::Write, "x", TargetKind::File, 1);
        r.worker_seconds = 10.0;
        r.generate_seconds = 0.6;
        assert_eq!(r.bottleneck(), "storage-bound: generation took 6% of worker time");
        r.generate_seconds = 7.0;
        assert_eq!(r.bottleneck(), "generation-bound: generation took 70% of worker time");
    }
}
