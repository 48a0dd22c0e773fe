//! Datasets on object storage: put, get and verify them on S3.
//!
//! Object `i` of a dataset is a range of the stream ([`layout`]), so a bucket
//! of N objects has the dataset's dedup and compression ratios, and every
//! object can be generated again and checked on GET. Bodies are generated in
//! parts of [`ObjectOptions::part_size`] bytes, never whole: an object up to
//! the part size goes up in one PUT, a larger one as a multipart upload whose
//! parts are spread over the workers as independent work, so `jobs` counts
//! requests in flight whether the objects are many and small or few and
//! large. Memory stays at about `jobs` part buffers.
//!
//! The layout, the URL and the report are plain data and always built; the
//! runner (`put_objects`, `get_objects`, `verify_objects`) needs the
//! cargo feature `s3`, which brings the S3 client (`rust-s3`, blocking, over
//! rustls).
//!
//! ```no_run
//! # #[cfg(feature = "s3")] {
//! use dgen::object::{self, Layout, Naming, ObjectOptions, ObjectUrl, SizeDist, Store};
//! use dgen::{Config, Generator};
//!
//! let url = ObjectUrl::parse("s3://bench/data/")?;
//! let layout = Layout { prefix: url.prefix.clone(), naming: Naming::Padded, count: 64,
//!                       sizes: SizeDist::Fixed(1 << 20), seed: 42 };
//! let gen = Generator::new(Config { size: layout.total().unwrap(), dedup_ratio: 2.0,
//!                                   compress_ratio: 3.0, seed: Some(42), ..Config::default() })?;
//! let store = Store { endpoint: Some("http://127.0.0.1:7070".into()), ..Store::default() };
//! let opts = ObjectOptions { jobs: 8, ..ObjectOptions::default() };
//! let put = object::put_objects(&gen, &store, &url, &layout, &opts, &Default::default())?;
//! println!("{:.2} GB/s, PUT p99 {} us", put.gbps(), put.request_latency.p99);
//! let checked = object::verify_objects(&gen, &store, &url, &layout, &opts, &Default::default())?;
//! assert!(checked.passed());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod layout;
#[cfg(feature = "s3")]
mod put;
mod report;
#[cfg(feature = "s3")]
mod run;
#[cfg(feature = "s3")]
mod store;

use std::fmt;
use std::sync::atomic::AtomicBool;

pub use layout::{Layout, Naming, ObjectSpec, SizeDist, INDEX_DIGITS, MAX_OBJECT_SIZE};
pub use report::{ObjectOp, ObjectProblem, ObjectReport, ProblemKind, MAX_PROBLEMS_LISTED};
#[cfg(feature = "s3")]
pub use run::{get_objects, put_objects, verify_objects};

/// Smallest part of a multipart upload that S3 accepts (the last part may be
/// smaller).
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// Largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 << 30;
/// Most parts of one multipart upload.
pub const MAX_PARTS: u64 = 10_000;
/// The default part size: 8 MiB.
pub const DEFAULT_PART_SIZE: u64 = 8 << 20;

/// A bucket and a key prefix: `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix, possibly empty, used as given.
    pub prefix: String,
}

impl ObjectUrl {
    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`. The bucket name must
    /// follow S3's rules: 3 to 63 lowercase letters, digits, dots and
    /// hyphens, starting and ending with a letter or digit.
    pub fn parse(text: &str) -> Result<ObjectUrl, String> {
        let Some(rest) = text.strip_prefix("s3://") else {
            return Err(format!("{text:?} is not an S3 URL (s3://BUCKET/PREFIX)"));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let ok_chars = bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let ends_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !(3..=63).contains(&bucket.len())
            || !ok_chars
            || !ends_ok(bucket.as_bytes().first())
            || !ends_ok(bucket.as_bytes().last())
        {
            return Err(format!(
                "{text:?}: bucket {bucket:?} is not a valid bucket name (3 to 63 lowercase letters, digits, dots and \
                 hyphens)"
            ));
        }
        if prefix.len() > 900 {
            return Err(format!("{text:?}: the prefix is longer than 900 bytes"));
        }
        Ok(ObjectUrl { bucket: bucket.to_string(), prefix: prefix.to_string() })
    }
}

impl fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Where the objects are and who asks: the S3 endpoint, region, addressing
/// and credentials. Fields left `None` come from the standard chain: the
/// environment (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_PROFILE`) and then the
/// profile in `~/.aws/credentials`. No instance-metadata or STS lookups are
/// made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Store {
    /// `http://HOST:PORT` or `https://...`; `None`: `AWS_ENDPOINT_URL`, else
    /// AWS itself.
    pub endpoint: Option<String>,
    /// Region; `None`: `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`); `None`: path style with
    /// an explicit endpoint (as local servers want), virtual-hosted on AWS.
    pub path_style: Option<bool>,
    /// Access key id; `None`: the chain.
    pub access_key: Option<String>,
    /// Secret key (with `access_key`).
    pub secret_key: Option<String>,
    /// Session token (with `access_key`).
    pub session_token: Option<String>,
    /// Profile of `~/.aws/credentials`; `None`: `AWS_PROFILE`, else
    /// `default`.
    pub profile: Option<String>,
}

impl Store {
    /// Checks the endpoint's form (`http://HOST[:PORT]` or `https://...`).
    pub fn validate(&self) -> Result<(), ObjectError> {
        if let Some(e) = &self.endpoint {
            let rest = e.strip_prefix("http://").or_else(|| e.strip_prefix("https://"));
            if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                return Err(ObjectError::invalid(
                    "endpoint",
                    format!("endpoint {e:?} is not a URL (http://HOST:PORT or https://HOST)"),
                ));
            }
        }
        Ok(())
    }
}

/// How a put, get or verify runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectOptions {
    /// Requests in flight (objects or parts of them); 0 = 8.
    pub jobs: usize,
    /// Bytes per part: objects above it go up as multipart uploads. At
    /// least [`MIN_PART_SIZE`], at most [`MAX_PART_SIZE`].
    pub part_size: u64,
    /// A put creates the bucket when it does not exist.
    pub create_bucket: bool,
}

impl Default for ObjectOptions {
    fn default() -> Self {
        ObjectOptions { jobs: 0, part_size: DEFAULT_PART_SIZE, create_bucket: false }
    }
}

impl ObjectOptions {
    /// Workers that run: `jobs`, or 8 for 0.
    pub fn workers(&self) -> usize {
        if self.jobs == 0 {
            8
        } else {
            self.jobs
        }
    }

    /// Checks the part size and the jobs, and that no object of `layout`
    /// needs more than [`MAX_PARTS`] parts.
    pub fn validate(&self, layout: &Layout) -> Result<(), ObjectError> {
        let bad = |field: &'static str, message: String| ObjectError::invalid(field, message);
        if self.part_size < MIN_PART_SIZE || self.part_size > MAX_PART_SIZE {
            return Err(bad(
                "part_size",
                format!(
                    "part_size must be from 5 MiB ({MIN_PART_SIZE}, S3's smallest part) to 5 GiB, got {}",
                    self.part_size
                ),
            ));
        }
        if self.jobs > 4096 {
            return Err(bad("jobs", format!("jobs must be at most 4096, got {}", self.jobs)));
        }
        layout.validate().map_err(|m| {
            let field = if m.starts_with("objects") {
                "objects"
            } else if m.contains("template") {
                "template"
            } else {
                "sizes"
            };
            bad(field, m)
        })?;
        let largest = match layout.sizes {
            SizeDist::Fixed(s) => s,
            SizeDist::Uniform { max, .. } => max,
            SizeDist::Lognormal { .. } => MAX_OBJECT_SIZE,
        };
        if largest.div_ceil(self.part_size) > MAX_PARTS && !matches!(layout.sizes, SizeDist::Lognormal { .. }) {
            return Err(bad(
                "part_size",
                format!(
                    "part_size {} makes more than {MAX_PARTS} parts of a {largest}-byte object; give a larger one",
                    self.part_size
                ),
            ));
        }
        Ok(())
    }
}

/// How a caller stops a running put, get or verify.
#[derive(Default)]
pub struct ObjectControl<'a> {
    /// Stops the run soon after it becomes true: requests in flight finish,
    /// no new ones start, and unfinished multipart uploads are aborted.
    pub cancel: Option<&'a AtomicBool>,
    /// Called once on the calling thread when the bucket has answered (and
    /// was created, if asked), before the first object: the moment to say
    /// what is about to happen. A run refused before that never calls it.
    pub started: Option<&'a dyn Fn(&ObjectReport)>,
}

/// Why a put, get or verify stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectErrorKind {
    /// An option or the layout holds a value that cannot be used.
    InvalidOption,
    /// The credentials are missing or refused (HTTP 401 or 403).
    Auth,
    /// The bucket does not exist.
    NoBucket,
    /// The server could not be reached, or a request failed.
    Io,
    /// Stopped by the cancel flag.
    Interrupted,
}

impl ObjectErrorKind {
    /// `"invalid_option"`, `"auth"`, `"no_bucket"`, `"io"` or `"interrupted"`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectErrorKind::InvalidOption => "invalid_option",
            ObjectErrorKind::Auth => "auth",
            ObjectErrorKind::NoBucket => "no_bucket",
            ObjectErrorKind::Io => "io",
            ObjectErrorKind::Interrupted => "interrupted",
        }
    }
}

/// A put, get or verify that could not run or did not finish, with the
/// report of what was done.
#[derive(Debug, Clone)]
pub struct ObjectError {
    /// What went wrong.
    pub kind: ObjectErrorKind,
    /// The option at fault, for [`ObjectErrorKind::InvalidOption`]
    /// (`part_size`, `objects`, `sizes`, `template`, `jobs`, `endpoint`).
    pub field: Option<&'static str>,
    /// One line for a person.
    pub message: String,
    /// What was done before the stop.
    pub report: Box<ObjectReport>,
}

impl ObjectError {
    pub(crate) fn invalid(field: &'static str, message: String) -> ObjectError {
        ObjectError {
            kind: ObjectErrorKind::InvalidOption,
            field: Some(field),
            message,
            report: Box::new(ObjectReport::new(ObjectOp::Put, "", 0)),
        }
    }
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ObjectError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = ObjectUrl::parse("s3://bench/data/").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("bench", "data/"));
        assert_eq!(ObjectUrl::parse("s3://bench").unwrap().prefix, "");
        for bad in ["bench/data", "s3://", "s3://Bench/x", "s3://ab/x", "http://bench/x", "s3://-bench/x"] {
            assert!(ObjectUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn part_sizes() {
        let layout =
            Layout { prefix: String::new(), naming: Naming::Padded, count: 1, sizes: SizeDist::Fixed(1), seed: 0 };
        assert!(ObjectOptions { part_size: 4 << 20, ..Default::default() }.validate(&layout).is_err());
        assert!(ObjectOptions::default().validate(&layout).is_ok());
        let huge = Layout { sizes: SizeDist::Fixed(MAX_OBJECT_SIZE), ..layout };
        let e = ObjectOptions::default().validate(&huge).unwrap_err();
        assert_eq!(e.field, Some("part_size"));
    }
}
