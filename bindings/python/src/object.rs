//! `put_objects`, `get_objects` and `verify_objects`: the library's object
//! runner (`dgen::object`) on S3, for Python.
//!
//! A run goes on a thread of its own with the GIL released, while the
//! calling thread takes the GIL back about every [`INTERVAL`] to let Python
//! run its signal handlers: Ctrl-C sets the run's cancel flag (requests in
//! flight finish, unfinished multipart uploads are aborted) and is raised as
//! KeyboardInterrupt once the run has stopped, with the partial report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dgen::object::{
    self, Layout, Naming, ObjectControl, ObjectError, ObjectErrorKind, ObjectOptions, ObjectReport, ObjectUrl,
    SizeDist, Store,
};
use pyo3::exceptions::{PyConnectionError, PyFileNotFoundError, PyKeyboardInterrupt, PyPermissionError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::args::{self, arg_struct, py_fn};
use crate::config::{given, Args};
use crate::errors::{lib_error, MismatchError};
use crate::storage;

/// Time between two signal checks while a run goes on.
const INTERVAL: Duration = Duration::from_millis(100);

#[derive(Clone, Copy)]
enum Op {
    Put,
    Get,
    Verify,
}

arg_struct! {
    /// The optional keywords every object function takes but the config
    /// ones, as passed.
    struct ObjectArgs {
        object_size, sizes, name, jobs, part_size, create_bucket, endpoint, region, addressing, access_key,
        secret_key, profile,
    }
}

fn opt_string(v: Option<&Bound<'_, PyAny>>, field: &str) -> PyResult<Option<String>> {
    given(v).map(|v| args::string(v, field)).transpose()
}

fn invalid(e: ObjectError) -> PyErr {
    PyValueError::new_err(match e.field {
        Some(f) => format!("{f}: {}", e.message),
        None => e.message,
    })
}

/// Bytes as an integer, or a size with a unit as the CLI takes them
/// (`1MiB`, `64KiB`, `10GB`).
fn size_text(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{text:?} is not a size (examples: 4096, 64KiB, 1MiB, 10GB)"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        "TiB" | "T" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => return Err(format!("{text:?}: unknown unit {other:?} (use KiB, MiB, GiB, TiB, KB, MB, GB, TB)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{text:?} is larger than 2**64-1 bytes"))
}

/// Everything a run needs, checked before any request.
struct Plan {
    url: ObjectUrl,
    store: Store,
    layout: Layout,
    opts: ObjectOptions,
    gen: dgen::Generator,
}

fn plan(
    py: Python<'_>,
    op: Op,
    url_obj: &Bound<'_, PyAny>,
    objects: &Bound<'_, PyAny>,
    a: &ObjectArgs<'_, '_>,
    config: Args<'_, '_>,
) -> PyResult<Plan> {
    let url =
        ObjectUrl::parse(&args::string(url_obj, "url")?).map_err(|m| PyValueError::new_err(format!("url: {m}")))?;
    let count: u64 = args::uint(objects, "objects", "must be an integer from 1 to 2**64-1")?;
    let sizes = match (given(a.object_size), given(a.sizes)) {
        (Some(s), None) => SizeDist::Fixed(args::uint(s, "object_size", "must be an integer from 1 to 5 TiB")?),
        (None, Some(d)) => SizeDist::parse(&args::string(d, "sizes")?, size_text)
            .map_err(|m| PyValueError::new_err(format!("sizes: {m}")))?,
        (Some(_), Some(_)) => return Err(PyValueError::new_err("object_size and sizes: give one of them")),
        (None, None) => return Err(PyValueError::new_err("object_size (or sizes) is needed")),
    };
    let naming = opt_string(a.name, "name")?.map_or(Naming::Padded, Naming::Template);
    let mut opts = ObjectOptions::default();
    if let Some(v) = given(a.jobs) {
        opts.jobs = args::uint(v, "jobs", "must be an integer from 0 (8) to 4096")?;
    }
    if let Some(v) = given(a.part_size) {
        opts.part_size = args::uint(v, "part_size", "must be an integer from 5 MiB to 5 GiB")?;
    }
    if let Some(v) = given(a.create_bucket) {
        opts.create_bucket = v.is_truthy()?;
    }
    let addressing = opt_string(a.addressing, "addressing")?;
    let path_style = match addressing.as_deref() {
        None => None,
        Some("path") => Some(true),
        Some("virtual") => Some(false),
        Some(_) => {
            return Err(args::invalid("addressing", "must be 'path' or 'virtual'", a.addressing.unwrap_or(url_obj)))
        }
    };
    let store = Store {
        endpoint: opt_string(a.endpoint, "endpoint")?,
        region: opt_string(a.region, "region")?,
        path_style,
        access_key: opt_string(a.access_key, "access_key")?,
        secret_key: opt_string(a.secret_key, "secret_key")?,
        session_token: None,
        profile: opt_string(a.profile, "profile")?,
    };
    store.validate().map_err(invalid)?;
    let mut cfg = config.config()?;
    if cfg.seed.is_none() {
        if !matches!(op, Op::Put) {
            return Err(PyValueError::new_err(
                "seed must be the seed the objects were put with (put_objects' report has it), got None",
            ));
        }
        // The sizes follow from the seed, so it is drawn first.
        let draw = dgen::Generator::new(dgen::Config { size: 0, ..cfg.clone() }).map_err(|e| lib_error(py, e))?;
        cfg.seed = Some(draw.seed());
    }
    let layout = Layout { prefix: url.prefix.clone(), naming, count, sizes, seed: cfg.seed.unwrap_or(0) };
    opts.validate(&layout).map_err(invalid)?;
    cfg.size = layout.total().ok_or_else(|| PyValueError::new_err("the objects add up to more than 2**64-1 bytes"))?;
    let gen = dgen::Generator::new(cfg).map_err(|e| lib_error(py, e))?;
    Ok(Plan { url, store, layout, opts, gen })
}

/// The report as a dict: the keys of the CLI's JSON report, `problems` a
/// list of dicts for a verification.
fn report_dict<'py>(py: Python<'py>, r: &ObjectReport) -> PyResult<Bound<'py, PyDict>> {
    let d = storage::entries(py, &r.entries())?;
    if r.operation == object::ObjectOp::Verify {
        let list = PyList::empty(py);
        for p in &r.problems {
            let item = PyDict::new(py);
            item.set_item("kind", p.kind.name())?;
            item.set_item("key", &p.key)?;
            item.set_item("offset", p.offset)?;
            item.set_item("expected_size", p.expected_size)?;
            item.set_item("size", p.size)?;
            list.append(item)?;
        }
        d.set_item("problems", list)?;
    }
    Ok(d)
}

fn with_report(py: Python<'_>, err: PyErr, r: &ObjectReport) -> PyErr {
    if let Ok(d) = report_dict(py, r) {
        let _ = err.value(py).setattr("report", d);
    }
    err
}

fn object_error(py: Python<'_>, e: ObjectError) -> PyErr {
    let err = match e.kind {
        ObjectErrorKind::InvalidOption => invalid(e.clone()),
        ObjectErrorKind::Auth => PyPermissionError::new_err(e.message.clone()),
        ObjectErrorKind::NoBucket => PyFileNotFoundError::new_err(e.message.clone()),
        ObjectErrorKind::Io => PyConnectionError::new_err(e.message.clone()),
        ObjectErrorKind::Interrupted => PyKeyboardInterrupt::new_err(e.message.clone()),
    };
    with_report(py, err, &e.report)
}

fn run<'py>(
    py: Python<'py>,
    op: Op,
    url: &Bound<'py, PyAny>,
    objects: &Bound<'py, PyAny>,
    a: ObjectArgs<'_, 'py>,
    config: Args<'_, 'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = plan(py, op, url, objects, &a, config)?;
    let cancel = AtomicBool::new(false);
    let mut pending: Option<PyErr> = None;
    let result = py.detach(|| {
        std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let control = ObjectControl { cancel: Some(&cancel), started: None };
                match op {
                    Op::Put => object::put_objects(&p.gen, &p.store, &p.url, &p.layout, &p.opts, &control),
                    Op::Get => object::get_objects(&p.gen, &p.store, &p.url, &p.layout, &p.opts, &control),
                    Op::Verify => object::verify_objects(&p.gen, &p.store, &p.url, &p.layout, &p.opts, &control),
                }
            });
            while !worker.is_finished() {
                std::thread::sleep(INTERVAL);
                if pending.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        pending = Some(e);
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
            }
            worker.join()
        })
    });
    let outcome = result.map_err(|_| PyConnectionError::new_err("internal error in libdgen's object runner"))?;
    match (outcome, pending) {
        (Ok(r), Some(err)) => Err(with_report(py, err, &r)),
        (Err(e), Some(err)) => Err(with_report(py, err, &e.report)),
        (Err(e), None) => Err(object_error(py, e)),
        (Ok(r), None) => match r.problem() {
            Some(problem) => Err(with_report(py, MismatchError::new_err(format!("{}: {problem}", r.url)), &r)),
            None => report_dict(py, &r),
        },
    }
}

/// `put_objects`, `get_objects` and `verify_objects`: one signature, one
/// body, three operations.
// rustfmt moves the continuation lines of the signature string further
// left on every run inside a macro definition; this one stays as written.
#[rustfmt::skip]
macro_rules! object_fn {
    ($name:ident, $op:expr, $doc:literal) => {
        py_fn! {
            #[doc = $doc]
            pub fn $name<'py>(
                py; url, objects; object_size;
                *, sizes, name, dedup_ratio, compress_ratio, dedup_unit, seed, threads, compressor, jobs, part_size,
                create_bucket, endpoint, region, addressing, access_key, secret_key, profile
            ) -> PyResult<Bound<'py, PyDict>>,
            text_signature = "(url, objects, object_size=None, *, sizes=None, name=None, dedup_ratio=1.0, \
                              compress_ratio=1.0, dedup_unit=4096, seed=None, threads=0, compressor='auto', \
                              jobs=8, part_size=8388608, create_bucket=False, endpoint=None, region=None, \
                              addressing=None, access_key=None, secret_key=None, profile=None)",
            {
                let config =
                    Args { dedup_ratio, compress_ratio, dedup_unit, seed, threads, compressor, ..Args::default() };
                let a = ObjectArgs {
                    object_size,
                    sizes,
                    name,
                    jobs,
                    part_size,
                    create_bucket,
                    endpoint,
                    region,
                    addressing,
                    access_key,
                    secret_key,
                    profile,
                };
                run(py, $op, url, objects, a, config)
            }
        }
    };
}

object_fn!(
    put_objects,
    Op::Put,
    "Puts `objects` objects on S3 under `url` (`s3://BUCKET/PREFIX`): object i is the stream's range after \
     objects 0..i, so the bucket has the dataset's ratios. Returns the report as a dict (the keys of \
     `dgen put --json`). With `seed=None` a seed is drawn: the report's `seed` has it."
);
object_fn!(
    get_objects,
    Op::Get,
    "Gets the objects `put_objects` put (same options, `seed` required) and discards them; returns the report \
     with the GET latency and time to first byte."
);
object_fn!(
    verify_objects,
    Op::Verify,
    "Checks every object `put_objects` put (same options, `seed` required) against the stream, and the prefix \
     for extra keys; returns the report, or raises `MismatchError` with the report (its `problems` name each \
     missing, short, wrong or extra key with the first wrong offset)."
);
