//! What a write or a verification did: throughput, latency percentiles, where
//! the workers spent their time, and for a verification what was wrong.
//!
//! A report is plain data. [`Report::entries`] lists it as named values, the
//! one form every face converts from (JSON here, a dict in Python, the C
//! struct), so that the faces cannot drift apart.

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

impl Latency {
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
    fn opt(v: Option<u64>) -> Value {
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

fn json_object(entries: &[(&'static str, Value)], out: &mut String) {
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
}

impl Report {
    pub(crate) fn new(operation: Operation, path: &str, target: TargetKind, seed: u64) -> Report {
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
        }
    }

    /// Throughput in GB/s (10^9 bytes per second).
    pub fn gbps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.bytes as f64 / self.seconds / 1e9
        } else {
            0.0
        }
    }

    /// I/Os per second.
    pub fn iops(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ios as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Share of worker time spent generating (and comparing), 0 to 1.
    pub fn generation_share(&self) -> f64 {
        if self.worker_seconds > 0.0 {
            (self.generate_seconds / self.worker_seconds).clamp(0.0, 1.0)
        } else {
            0.0
        }
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
        let limit = if self.generation_bound() {
            "generation-bound"
        } else if self.target == TargetKind::Stream {
            "I/O-bound"
        } else {
            "storage-bound"
        };
        format!("{limit}: {what} took {:.0}% of worker time", self.generation_share() * 100.0)
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
        if self.wrong_blocks > 1 && self.wrong_blocks + self.missing_blocks == self.blocks {
            parts.push(
                "every block is wrong: the data was likely written with another seed, size, dedup ratio, \
                 compress ratio, dedup unit or compressor"
                    .into(),
            );
        }
        if parts.is_empty() {
            None
        } else {
            Some(parts.join("; "))
        }
    }

    /// Every field as a named value, in a fixed order: the form the JSON,
    /// Python and C reports are made from. The keys `bytes`, `seconds`, `gbps`,
    /// `iops`, `latency_us` (`p50`, `p90`, `p99`, `p999`, `max`, `mean`),
    /// `generate_seconds`, `io_seconds` and `bottleneck` are always present.
    pub fn entries(&self) -> Vec<(&'static str, Value)> {
        let l = &self.latency;
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
            (
                "latency_us",
                Value::Map(vec![
                    ("p50", Value::F64(l.p50)),
                    ("p90", Value::F64(l.p90)),
                    ("p99", Value::F64(l.p99)),
                    ("p999", Value::F64(l.p999)),
                    ("max", Value::F64(l.max)),
                    ("mean", Value::F64(l.mean)),
                ]),
            ),
            ("generate_seconds", Value::F64(self.generate_seconds)),
            ("io_seconds", Value::F64(self.io_seconds)),
            ("worker_seconds", Value::F64(self.worker_seconds)),
            ("generation_share", Value::F64(self.generation_share())),
            ("bottleneck", Value::Str(self.bottleneck())),
            ("jobs", Value::U64(self.jobs as u64)),
            ("block_size", Value::U64(self.block_size as u64)),
            ("iodepth", Value::U64(self.iodepth as u64)),
            ("direct", Value::Bool(self.direct)),
            ("interrupted", Value::Bool(self.interrupted)),
        ];
        if self.operation == Operation::Verify {
            let m = self.first_mismatch;
            v.extend([
                ("ok", Value::Bool(self.passed())),
                ("first_mismatch", Value::opt(m.map(|m| m.offset))),
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
        for key in ["\"bytes\": 4096", "\"gbps\": ", "\"latency_us\": {\"p50\": 0", "\"first_mismatch\": 9"] {
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
    fn the_verdict_follows_the_larger_share() {
        let mut r = Report::new(Operation::Write, "x", TargetKind::File, 1);
        r.worker_seconds = 10.0;
        r.generate_seconds = 0.6;
        assert_eq!(r.bottleneck(), "storage-bound: generation took 6% of worker time");
        r.generate_seconds = 7.0;
        assert_eq!(r.bottleneck(), "generation-bound: generation took 70% of worker time");
    }
}
