//! `write_file` and `verify_file`: the library's parallel writer and verifier
//! of files and block devices (`dgen::storage`), for Python.
//!
//! A run goes with the GIL released. The library calls its progress callback
//! on the calling thread about every [`INTERVAL`]; there the GIL is taken back
//! for a moment, to let Python run its signal handlers (Ctrl-C raises
//! KeyboardInterrupt there) and to call the caller's own `progress`. An
//! exception from either stops the run: the workers finish the block each
//! holds, and the exception is raised with the partial report as its
//! `report` attribute.

use std::cell::Cell;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::Duration;

use dgen::storage::{
    self, Control, IoEngine, IoOptions, Operation, Part, Progress, Report, StorageError, StorageErrorKind, Value,
};
use dgen::Field;
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyString};

use crate::args::{self, arg_struct, py_fn};
use crate::config::{given, set_given, Args};
use crate::errors::{guarded, lib_error, MismatchError};
use crate::generator::Generator;
use crate::state::WriteState;

/// Time between two signal checks (and calls of `progress`) during a run:
/// how long Ctrl-C may wait before the run starts to stop.
const INTERVAL: Duration = Duration::from_millis(100);

thread_local! {
    /// The `Generator` and the `WriteState` (their addresses, or 0) of the
    /// run that is calling back into Python on this thread. Their `close`
    /// would wait for that run, which waits for the callback: `close`
    /// refuses instead (see [`in_callback_of`]).
    static CALLBACK_OF: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// True when this thread is inside a progress callback (or signal handler)
/// of a `write_file` or `verify_file` on `gen`.
pub fn in_callback_of(gen: &Generator) -> bool {
    CALLBACK_OF.with(|c| c.get().0 == gen as *const Generator as usize)
}

/// True when this thread is inside a progress callback (or signal handler)
/// of a `write_file` or `verify_file` that uses `state`.
pub fn in_callback_with_state(state: &WriteState) -> bool {
    CALLBACK_OF.with(|c| c.get().1 == state as *const WriteState as usize)
}

/// Sets [`CALLBACK_OF`] for the life of a callback.
struct CallbackMark((usize, usize));

impl CallbackMark {
    fn enter(owner: (usize, usize)) -> CallbackMark {
        CallbackMark(CALLBACK_OF.with(|c| c.replace(owner)))
    }
}

impl Drop for CallbackMark {
    fn drop(&mut self) {
        CALLBACK_OF.with(|c| c.set(self.0));
    }
}

arg_struct! {
    /// The I/O keyword arguments of `write_file` and `verify_file`, as passed;
    /// `None` stands for "not given".
    pub struct IoArgs {
        offset, length, jobs, block_size, iodepth, direct, engine, sync, truncate, part, progress, state,
    }
}

impl<'a> IoArgs<'a, '_> {
    /// The options these arguments ask for, checked by the library (whose
    /// messages name the field and the value, as in every other face).
    fn options(&self) -> PyResult<IoOptions> {
        let mut o = IoOptions::default();
        if let Some(v) = given(self.offset) {
            o.offset = args::uint(v, "offset", "must be an integer from 0 to 2**64-1")?;
        }
        o.length = args::opt_uint(self.length, "length", "must be None or an integer from 0 to 2**64-1")?;
        set_given(&mut o.jobs, Field::Jobs, self.jobs, args::uint)?;
        set_given(&mut o.block_size, Field::BlockSize, self.block_size, args::uint)?;
        set_given(&mut o.iodepth, Field::Iodepth, self.iodepth, args::uint)?;
        if let Some(v) = given(self.direct) {
            o.direct = flag(v, "direct")?;
        }
        if let Some(v) = given(self.engine) {
            let name = args::string(v, "engine")?;
            o.engine =
                IoEngine::from_name(&name).ok_or_else(|| args::invalid("engine", Field::Engine.expected(), v))?;
        }
        if let Some(v) = given(self.sync) {
            o.sync = flag(v, "sync")?;
        }
        if let Some(v) = given(self.truncate) {
            o.truncate = flag(v, "truncate")?;
        }
        o.validate().map_err(|e| PyValueError::new_err(e.message))?;
        Ok(o)
    }

    /// `part`: None or `(index, count)`, part `index` (from 0) of `count`
    /// (see `dgen::storage::Part`).
    fn part(&self) -> PyResult<Option<Part>> {
        let Some(v) = given(self.part) else { return Ok(None) };
        let (index, count) = v
            .extract::<(u64, u64)>()
            .map_err(|_| args::wrong_type("part", "None or a tuple (index, count) of integers from 0", v))?;
        Part::new(index, count).map(Some).map_err(|e| PyValueError::new_err(e.message))
    }

    /// `state`: None or a `dgen.WriteState`.
    fn state(&self) -> PyResult<Option<&'a WriteState>> {
        match given(self.state) {
            None => Ok(None),
            Some(v) => match v.cast::<WriteState>() {
                Ok(st) => Ok(Some(st.get())),
                Err(_) => Err(args::wrong_type("state", "None or a dgen.WriteState", v)),
            },
        }
    }

    /// `progress`: None or a callable.
    fn progress(&self) -> PyResult<Option<Py<PyAny>>> {
        match given(self.progress) {
            None => Ok(None),
            Some(v) if v.is_callable() => Ok(Some(v.clone().unbind())),
            Some(v) => Err(args::wrong_type("progress", "None or a callable", v)),
        }
    }
}

/// A flag: `True` or `False` (numpy's bool too, as PyO3 converts it),
/// nothing else, so that a misplaced argument is not taken for one.
fn flag(value: &Bound<'_, PyAny>, field: &str) -> PyResult<bool> {
    value.extract::<bool>().map_err(|_| args::wrong_type(field, "a bool", value))
}

/// A path: str, bytes or os.PathLike, as `open` takes it.
pub fn path(value: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let py = value.py();
    let encoded = match py.import("os")?.call_method1("fsencode", (value,)) {
        Ok(b) => b,
        Err(e) if e.is_instance_of::<PyTypeError>(py) => {
            return Err(args::wrong_type("path", "a str, bytes or os.PathLike", value))
        }
        Err(e) => return Err(e),
    };
    let bytes = encoded.cast::<PyBytes>()?.as_bytes();
    if bytes.is_empty() {
        return Err(args::invalid("path", "must not be empty", value));
    }
    if bytes.contains(&0) {
        return Err(args::invalid("path", "must not contain a NUL byte", value));
    }
    Ok(PathBuf::from(OsString::from_vec(bytes.to_vec())))
}

/// The generator a run reads its bytes from.
pub enum Source<'a> {
    /// A `dgen.Generator`, in use (and so not closed) for the whole run.
    Shared(&'a Generator),
    /// One made for a single call of the module's `write_file` or
    /// `verify_file`.
    Owned(Box<dgen::Generator>),
}

/// Runs a write or verification and returns its report as a dict; see the
/// module documentation for how it stops and what it raises.
pub fn run<'py>(
    py: Python<'py>,
    op: Operation,
    source: Source<'_>,
    path_obj: &Bound<'py, PyAny>,
    io: IoArgs<'_, 'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let path = path(path_obj)?;
    let opts = io.options()?;
    let part = io.part()?;
    let progress = io.progress()?;
    let state = io.state()?;
    let owner = (
        match &source {
            Source::Shared(g) => *g as *const Generator as usize,
            Source::Owned(_) => 0,
        },
        state.map_or(0, |s| s as *const WriteState as usize),
    );
    let (result, pending) = py.detach(move || {
        // The first exception raised by a signal handler or by `progress`.
        let mut pending: Option<PyErr> = None;
        let result = guarded(|| {
            // The state stays open (a `close` waits) until the run is over.
            let held = state.map(WriteState::live).transpose()?;
            let mut tick = |p: Progress| -> bool {
                if pending.is_some() {
                    return false;
                }
                Python::attach(|py| {
                    let _mark = CallbackMark::enter(owner);
                    let r = py.check_signals().and_then(|()| match &progress {
                        Some(cb) => cb.call1(py, (p.bytes, p.total)).map(drop),
                        None => Ok(()),
                    });
                    match r {
                        Ok(()) => true,
                        Err(e) => {
                            pending = Some(e);
                            false
                        }
                    }
                })
            };
            let go = |gen: &dgen::Generator, tick: &mut dyn FnMut(Progress) -> bool| {
                let control = Control {
                    cancel: None,
                    progress: Some(tick),
                    interval: INTERVAL,
                    state: held.as_deref(),
                    ..Control::default()
                };
                // A part of the range needs the dataset's size to find its end.
                let opts = match part {
                    Some(p) => opts.for_part(p, gen.size())?,
                    None => opts.clone(),
                };
                match op {
                    Operation::Write => storage::write_file_with(gen, &path, &opts, control),
                    Operation::Verify => storage::verify_file_with(gen, &path, &opts, control),
                }
            };
            match source {
                Source::Shared(obj) => obj.with_live(|gen| go(gen, &mut tick)),
                Source::Owned(gen) => {
                    let r = go(&gen, &mut tick);
                    // Joins the generator's worker threads, if it started any.
                    drop(gen);
                    Ok(r)
                }
            }
        });
        (result, pending)
    });
    let outcome = result.map_err(|f| f.into_pyerr(py))?;
    match (outcome, pending) {
        // A Ctrl-C (or any exception from a handler or from `progress`) wins
        // over the outcome, even when the run ended before it could stop:
        // it must not be lost.
        (Ok(report), Some(err)) => Err(with_report(py, err, &report)),
        (Err(e), Some(err)) => {
            // A failure of the run itself (say a write error in another
            // worker) stays visible as the exception's context.
            if e.kind != StorageErrorKind::Interrupted {
                let failure = storage_error(py, e.clone(), path_obj);
                let _ = err.value(py).setattr("__context__", failure.value(py));
            }
            Err(with_report(py, err, &e.report))
        }
        (Err(e), None) => Err(storage_error(py, e, path_obj)),
        (Ok(report), None) => {
            if report.passed() {
                report_dict(py, &report)
            } else {
                Err(mismatch_error(py, &report))
            }
        }
    }
}

/// The report as a dict, with the keys of `Report::entries` (those of the
/// command line's JSON report).
pub fn report_dict<'py>(py: Python<'py>, report: &Report) -> PyResult<Bound<'py, PyDict>> {
    let dict = entries(py, &report.entries())?;
    // The first offsets of each class of a state verification, which the
    // JSON report writes as one string of numbers, as lists of ints.
    if let Some(state) = dict.get_item("state")? {
        let state = state.cast_into::<PyDict>()?;
        for key in ["first_stale", "first_misplaced", "first_zero", "first_corrupt"] {
            let Some(v) = state.get_item(key)? else { continue };
            let text: String = v.extract()?;
            let offsets: Vec<u64> = text.split_whitespace().filter_map(|o| o.parse().ok()).collect();
            state.set_item(key, offsets)?;
        }
    }
    Ok(dict)
}

/// A report's entries (`Report::entries`, `ObjectReport::entries`) as a
/// dict, each `Value::Map` as a dict of its own.
pub fn entries<'py>(py: Python<'py>, list: &[(&'static str, Value)]) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in list {
        let v: Bound<'py, PyAny> = match value {
            Value::U64(n) => n.into_pyobject(py)?.into_any(),
            Value::F64(x) => PyFloat::new(py, *x).into_any(),
            Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
            Value::Str(s) => PyString::new(py, s).into_any(),
            Value::Null => py.None().into_bound(py),
            Value::Map(inner) => entries(py, inner)?.into_any(),
        };
        dict.set_item(*key, v)?;
    }
    Ok(dict)
}

/// `err` with `report` set on its value (where the exception type allows
/// attributes; one that does not is raised as it is).
fn with_report(py: Python<'_>, err: PyErr, report: &Report) -> PyErr {
    if let Ok(dict) = report_dict(py, report) {
        let _ = err.value(py).setattr("report", dict);
    }
    err
}

/// The library's error as the Python exception for its kind: ValueError
/// for a bad option or range, OSError (with `errno` and `filename` where the
/// system gave a reason; its subclass follows the errno, as for `open`) for
/// a target that cannot be opened, written, read or synced,
/// KeyboardInterrupt for a run stopped without a Python exception. Each
/// carries the report of what was done.
fn storage_error(py: Python<'_>, e: StorageError, path_obj: &Bound<'_, PyAny>) -> PyErr {
    use crate::errors::{class, Class};
    let err = match class(e.kind) {
        Class::Value | Class::Mismatch => PyValueError::new_err(e.message),
        Class::Interrupt => PyKeyboardInterrupt::new_err(e.message),
        Class::Runtime => PyRuntimeError::new_err(e.message),
        Class::Os => match e.os_error {
            // The library's message says what was done where ("cannot
            // write x at offset 4096: ..."); OSError adds "[Errno n]" and
            // the file name itself, so the "(os error n)" that Rust's
            // text ends with goes.
            Some(n) => {
                let text = e.message.replace(&format!(" (os error {n})"), "");
                PyOSError::new_err((n, text, path_obj.clone().unbind()))
            }
            None => PyOSError::new_err(e.message),
        },
    };
    with_report(py, err, &e.report)
}

/// `MismatchError` for a verification that found the data wrong, short or
/// too long: `offset` is the first wrong byte, or where the data ends early,
/// or the end of the dataset where it goes on past it; `expected` and `actual`
/// (also `found`, its first name) are the bytes at a wrong byte (None
/// otherwise).
fn mismatch_error(py: Python<'_>, report: &Report) -> PyErr {
    let problem = report.problem().unwrap_or_else(|| "the data differs from the stream".into());
    let err = MismatchError::new_err(format!("{}: {problem}", report.path));
    let (offset, expected, actual) = match report.first_mismatch {
        Some(m) => (m.offset, Some(m.expected), Some(m.actual)),
        None => (report.data_end.unwrap_or_else(|| report.end()), None, None),
    };
    let value = err.value(py);
    let set = value
        .setattr("offset", offset)
        .and_then(|_| value.setattr("expected", expected))
        .and_then(|_| value.setattr("actual", actual))
        .and_then(|_| value.setattr("found", actual))
        .and_then(|_| value.setattr("wrong_blocks", report.wrong_blocks))
        .and_then(|_| value.setattr("missing_blocks", report.missing_blocks));
    match set {
        Ok(()) => with_report(py, err, report),
        Err(other) => other,
    }
}

/// Which generator the module functions use: the `Generator` passed as
/// `size`, or a new one from the config keywords.
fn source<'a>(py: Python<'_>, size: &'a Bound<'_, PyAny>, config: Args<'_, '_>) -> PyResult<Source<'a>> {
    if let Ok(g) = size.cast::<Generator>() {
        let given_keys: Vec<&str> = [
            ("dedup_ratio", config.dedup_ratio),
            ("compress_ratio", config.compress_ratio),
            ("dedup_unit", config.dedup_unit),
            ("seed", config.seed),
            ("threads", config.threads),
            ("numa_mode", config.numa_mode),
            ("numa_node", config.numa_node),
            ("compressor", config.compressor),
        ]
        .into_iter()
        .filter(|(_, v)| given(*v).is_some())
        .map(|(k, _)| k)
        .collect();
        if !given_keys.is_empty() {
            return Err(PyTypeError::new_err(format!(
                "{} cannot be given with a Generator, which has its own config",
                given_keys.join(", ")
            )));
        }
        return Ok(Source::Shared(g.get()));
    }
    let config = Args { size: Some(size), ..config }.config()?;
    let gen = dgen::Generator::new(config).map_err(|e| lib_error(py, e))?;
    Ok(Source::Owned(Box::new(gen)))
}

/// The module's `write_file` and `verify_file`: the config keywords of
/// `Generator` (or a `Generator` as `size`), then the keyword-only I/O
/// keywords `$io` (those of the method of the same name). `$check`, where
/// given, runs once the I/O options are checked, on `size` and `seed`,
/// before a generator is made.
macro_rules! file_fn {
    ($(#[doc = $doc:literal])* $name:ident, $op:expr, io($($io:ident),*), $(check($check:path),)?
     text_signature = $sig:literal) => {
        py_fn! {
            $(#[doc = $doc])*
            pub fn $name<'py>(
                py; path, size;
                dedup_ratio, compress_ratio, dedup_unit, seed, threads, numa_mode, numa_node, compressor;
                *, $($io),*
            ) -> PyResult<Bound<'py, PyDict>>,
            text_signature = $sig,
            {
                let config = Args {
                    size: None,
                    dedup_ratio, compress_ratio, dedup_unit, seed, threads, numa_mode, numa_node, compressor,
                };
                let mut io = IoArgs::default();
                $(io.$io = $io;)*
                // Options are checked before a generator is made for them.
                io.options()?;
                $($check(size, seed)?;)?
                let source = source(py, size, config)?;
                run(py, $op, source, path, io)
            }
        }
    };
}

file_fn!(
    /// Writes a dataset to a file or block device with the library's parallel
    /// writer and returns the report as a dict.
    ///
    /// `size` is the dataset's size (0: the endless stream, which needs a
    /// `length`) with the config keywords of `Generator`, or a `Generator`
    /// (then no config keywords): `write_file(path, g, ...)` is
    /// `g.write_file(path, ...)`, and `write_file(path, size, **config, ...)` is
    /// `Generator(size, **config).write_file(path, ...)`; see there for the I/O
    /// keywords, the report and the errors. With `seed=None` a seed is drawn:
    /// the report's `seed` has it.
    write_file,
    Operation::Write,
    io(offset, length, jobs, block_size, iodepth, direct, engine, sync, truncate, part, progress, state),
    text_signature = "(path, size, dedup_ratio=1.0, compress_ratio=1.0, dedup_unit=4096, seed=None, threads=0, \
                      numa_mode='auto', numa_node=None, compressor='auto', *, offset=0, length=None, jobs=0, \
                      block_size=1048576, iodepth=1, direct=False, engine='auto', sync=True, truncate=True, \
                      part=None, progress=None, state=None)"
);

file_fn!(
    /// Reads a file or block device back with the library's parallel verifier
    /// and checks every byte against the dataset; returns the report as a dict.
    ///
    /// `size` is the size the dataset was written with (0: the endless stream)
    /// with its config keywords, `seed` included (it is required: the one the
    /// data was written with, as the write's report gives it), or a `Generator`
    /// (then no config keywords): `verify_file(path, g, ...)` is
    /// `g.verify_file(path, ...)`; see there for the I/O keywords, the report
    /// and the errors (`MismatchError` when the data is wrong, short or long).
    verify_file,
    Operation::Verify,
    io(offset, length, jobs, block_size, iodepth, direct, engine, part, progress, state),
    check(seed_given),
    text_signature = "(path, size, dedup_ratio=1.0, compress_ratio=1.0, dedup_unit=4096, seed=None, threads=0, \
                      numa_mode='auto', numa_node=None, compressor='auto', *, offset=0, length=None, jobs=0, \
                      block_size=1048576, iodepth=1, direct=False, engine='auto', part=None, progress=None, \
                      state=None)"
);

/// `verify_file` needs the seed the data was written with, unless `size` is
/// a `Generator` (which has its own).
fn seed_given(size: &Bound<'_, PyAny>, seed: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    if size.cast::<Generator>().is_err() && given(seed).is_none() {
        return Err(PyValueError::new_err(
            "seed must be the seed the data was written with (write_file's report has it), got None",
        ));
    }
    Ok(())
}
