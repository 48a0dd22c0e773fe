//! What a put, get or verify did: the storage report's figures (bytes, GB/s,
//! latency percentiles, generation's share of worker time) counted in
//! objects and requests, and for a verification every wrong object by key.

use crate::storage::{per_second, share, verdict, Latency, Value};

/// Which operation a report describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectOp {
    /// Objects generated and uploaded.
    Put,
    /// Objects downloaded and discarded.
    Get,
    /// Objects downloaded and compared with the stream, and the prefix
    /// listed for missing and extra keys.
    Verify,
}

impl ObjectOp {
    /// `"put"`, `"get"` or `"verify"`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectOp::Put => "put",
            ObjectOp::Get => "get",
            ObjectOp::Verify => "verify",
        }
    }
}

/// What is wrong with one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The key is not there.
    Missing,
    /// The object ends before its size: `offset` is where it ends (or the
    /// first wrong byte before that).
    Short,
    /// The object holds a wrong byte at `offset`, or more bytes than its
    /// size (then `offset` is the size).
    Wrong,
    /// A key under the prefix that the dataset does not have.
    Extra,
}

impl ProblemKind {
    /// `"missing"`, `"short"`, `"wrong"` or `"extra"`.
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Missing => "missing",
            ProblemKind::Short => "short",
            ProblemKind::Wrong => "wrong",
            ProblemKind::Extra => "extra",
        }
    }
}

/// One wrong object found by a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectProblem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The object's key.
    pub key: String,
    /// First wrong byte, counted from the object's start (none for missing
    /// and extra objects).
    pub offset: Option<u64>,
    /// Bytes the object should have (none for an extra object).
    pub expected_size: Option<u64>,
    /// Bytes found (none for a missing object).
    pub size: Option<u64>,
}

impl std::fmt::Display for ObjectProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.key)?;
        match (self.kind, self.offset, self.size, self.expected_size) {
            (ProblemKind::Short, Some(o), Some(s), Some(e)) => {
                write!(f, ": {s} of {e} bytes, first wrong offset {o}")
            }
            (ProblemKind::Wrong, Some(o), Some(s), Some(e)) if s > e && o == e => {
                write!(f, ": {s} bytes instead of {e}, first wrong offset {o}")
            }
            (ProblemKind::Wrong, Some(o), _, _) => write!(f, ": first wrong offset {o}"),
            (ProblemKind::Extra, _, Some(s), _) => write!(f, ": {s} bytes not in the dataset"),
            _ => Ok(()),
        }
    }
}

/// Problems a report lists one by one; past this only the counts grow.
pub const MAX_PROBLEMS_LISTED: usize = 1000;

/// What a put, get or verify did. A failed or interrupted run hands back the
/// same report inside its [`ObjectError`](super::ObjectError).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectReport {
    /// Put, get or verify.
    pub operation: ObjectOp,
    /// `s3://BUCKET/PREFIX`.
    pub url: String,
    /// The dataset's seed.
    pub seed: u64,
    /// Objects in the dataset.
    pub objects_total: u64,
    /// Bytes in the dataset.
    pub bytes_total: u64,
    /// Objects done: uploaded whole, or downloaded to their end.
    pub objects: u64,
    /// Body bytes sent or received.
    pub bytes: u64,
    /// Requests that carried a body and completed: PUTs, part uploads, GETs.
    pub requests: u64,
    /// Objects uploaded as multipart uploads.
    pub multipart_objects: u64,
    /// Unfinished multipart uploads aborted at the end (after an error or an
    /// interruption); any that could not be aborted are in `abort_failed`.
    pub aborted_uploads: u64,
    /// Unfinished multipart uploads whose abort failed (the server was gone).
    pub abort_failed: u64,
    /// Wall time of the run.
    pub seconds: f64,
    /// Latency of each body request (a PUT, a part upload or a whole GET),
    /// in microseconds.
    pub request_latency: Latency,
    /// Latency of whole objects, first request to completion, in
    /// microseconds.
    pub object_latency: Latency,
    /// GET: time to the first byte of the body, in microseconds.
    pub first_byte: Latency,
    /// Worker time spent generating data (put) or generating and comparing it
    /// (verify), summed over workers.
    pub generate_seconds: f64,
    /// Worker time spent in requests, summed over workers.
    pub io_seconds: f64,
    /// Wall time of every worker, summed: the denominator of the shares.
    pub worker_seconds: f64,
    /// Workers that ran (requests in flight).
    pub jobs: usize,
    /// Bytes per part.
    pub part_size: u64,
    /// True when the run was stopped by its cancel flag.
    pub interrupted: bool,
    /// Wall-clock time of the start, in seconds since the Unix epoch.
    pub start_time: f64,
    /// Wall-clock time of the end, in seconds since the Unix epoch.
    pub end_time: f64,
    /// Verify: objects missing.
    pub missing: u64,
    /// Verify: objects shorter than their size.
    pub short: u64,
    /// Verify: objects with a wrong byte or too long.
    pub wrong: u64,
    /// Verify: keys under the prefix that the dataset lacks.
    pub extra: u64,
    /// Verify: the first [`MAX_PROBLEMS_LISTED`] problems, in key order.
    pub problems: Vec<ObjectProblem>,
}

impl ObjectReport {
    /// An empty report: nothing done yet.
    pub fn new(operation: ObjectOp, url: &str, seed: u64) -> ObjectReport {
        ObjectReport {
            operation,
            url: url.to_string(),
            seed,
            objects_total: 0,
            bytes_total: 0,
            objects: 0,
            bytes: 0,
            requests: 0,
            multipart_objects: 0,
            aborted_uploads: 0,
            abort_failed: 0,
            seconds: 0.0,
            request_latency: Latency::default(),
            object_latency: Latency::default(),
            first_byte: Latency::default(),
            generate_seconds: 0.0,
            io_seconds: 0.0,
            worker_seconds: 0.0,
            jobs: 0,
            part_size: 0,
            interrupted: false,
            start_time: 0.0,
            end_time: 0.0,
            missing: 0,
            short: 0,
            wrong: 0,
            extra: 0,
            problems: Vec::new(),
        }
    }

    /// Body bytes per second, in GB/s (10^9).
    pub fn gbps(&self) -> f64 {
        per_second(self.bytes as f64, self.seconds) / 1e9
    }

    /// Objects per second.
    pub fn objects_per_second(&self) -> f64 {
        per_second(self.objects as f64, self.seconds)
    }

    /// Share of worker time spent generating (and comparing), 0 to 1.
    pub fn generation_share(&self) -> f64 {
        share(self.generate_seconds, self.worker_seconds)
    }

    /// The verdict in words, e.g. "server-bound: generation took 3% of
    /// worker time".
    pub fn bottleneck(&self) -> String {
        let what = match self.operation {
            ObjectOp::Put => "generation",
            ObjectOp::Get => "discarding",
            ObjectOp::Verify => "generating and comparing",
        };
        verdict(self.generation_share(), what, "server-bound")
    }

    /// True for a verification that found every object right and no extra
    /// one, and for any put or get that finished.
    pub fn passed(&self) -> bool {
        self.missing + self.short + self.wrong + self.extra == 0 && !self.interrupted
    }

    /// A verification's problems in one line: the counts and the first
    /// objects by key; `None` when it passed.
    pub fn problem(&self) -> Option<String> {
        if self.missing + self.short + self.wrong + self.extra == 0 {
            return None;
        }
        let mut counts = Vec::new();
        for (n, what) in
            [(self.missing, "missing"), (self.short, "short"), (self.wrong, "wrong"), (self.extra, "extra")]
        {
            if n > 0 {
                counts.push(format!("{n} {what}"));
            }
        }
        let first: Vec<String> = self.problems.iter().take(3).map(|p| p.to_string()).collect();
        let total = self.missing + self.short + self.wrong + self.extra;
        Some(format!(
            "{} object(s) wrong ({}): {}{}",
            total,
            counts.join(", "),
            first.join("; "),
            if total > 3 { "; ..." } else { "" }
        ))
    }

    /// Every figure as a named value, in a fixed order: the form the JSON
    /// and Python reports are made from. The problems are in
    /// [`problems`](Self::problems).
    pub fn entries(&self) -> Vec<(&'static str, Value)> {
        let mut v = vec![
            ("operation", Value::Str(self.operation.name().into())),
            ("url", Value::Str(self.url.clone())),
            ("seed", Value::U64(self.seed)),
            ("objects_total", Value::U64(self.objects_total)),
            ("bytes_total", Value::U64(self.bytes_total)),
            ("objects", Value::U64(self.objects)),
            ("bytes", Value::U64(self.bytes)),
            ("requests", Value::U64(self.requests)),
            ("multipart_objects", Value::U64(self.multipart_objects)),
            ("aborted_uploads", Value::U64(self.aborted_uploads)),
            ("abort_failed", Value::U64(self.abort_failed)),
            ("seconds", Value::F64(self.seconds)),
            ("gbps", Value::F64(self.gbps())),
            ("objects_per_second", Value::F64(self.objects_per_second())),
            ("request_latency_us", self.request_latency.value()),
            ("object_latency_us", self.object_latency.value()),
            ("first_byte_us", self.first_byte.value()),
            ("generate_seconds", Value::F64(self.generate_seconds)),
            ("io_seconds", Value::F64(self.io_seconds)),
            ("worker_seconds", Value::F64(self.worker_seconds)),
            ("generation_share", Value::F64(self.generation_share())),
            ("bottleneck", Value::Str(self.bottleneck())),
            ("jobs", Value::U64(self.jobs as u64)),
            ("part_size", Value::U64(self.part_size)),
            ("interrupted", Value::Bool(self.interrupted)),
            ("start_time", Value::F64(self.start_time)),
            ("end_time", Value::F64(self.end_time)),
        ];
        if self.operation == ObjectOp::Verify {
            v.extend([
                ("passed", Value::Bool(self.passed())),
                ("missing", Value::U64(self.missing)),
                ("short", Value::U64(self.short)),
                ("wrong", Value::U64(self.wrong)),
                ("extra", Value::U64(self.extra)),
                ("problem", self.problem().map_or(Value::Null, Value::Str)),
            ]);
        }
        v
    }

    /// The report as one JSON object: the keys of
    /// [`entries`](Self::entries), and for a verification `problems`, a list
    /// of `{"kind", "key", "offset", "expected_size", "size"}`.
    pub fn to_json(&self) -> String {
        let mut entries = self.entries();
        let mut out = String::new();
        if self.operation != ObjectOp::Verify {
            crate::storage::json_object(&entries, &mut out);
            return out;
        }
        entries.push(("problems", Value::Null));
        crate::storage::json_object(&entries, &mut out);
        // The list goes where the placeholder is, at the end.
        out.truncate(out.len() - "null}".len());
        out.push('[');
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            crate::storage::json_object(
                &[
                    ("kind", Value::Str(p.kind.name().into())),
                    ("key", Value::Str(p.key.clone())),
                    ("offset", Value::opt(p.offset)),
                    ("expected_size", Value::opt(p.expected_size)),
                    ("size", Value::opt(p.size)),
                ],
                &mut out,
            );
        }
        out.push_str("]}");
        out
    }
}
