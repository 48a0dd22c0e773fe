//! `dgen.WriteState`: a write state file (`dgen::state::WriteState`) for
//! Python.
//!
//! A state records which write of each dedup unit a target holds, so that
//! each write of a unit carries its next version (new bytes, the same
//! ratios) and a verification catches lost writes. The object holds the
//! mapped state and the `Generator` it was opened for: `fill` claims and
//! fills a buffer for a write the caller makes, `complete` records that the
//! write is over, and `Generator.write_file(..., state=ws)` and
//! `verify_file(..., state=ws)` hand it to the library's runner.
//!
//! The class is frozen and shared freely between threads: fills and
//! completes change each unit's entry by compare-and-swap, with the GIL
//! released. `close` takes the state out under a write lock, so it waits
//! for calls and runs in flight, and later calls see that it is closed.

use std::sync::{RwLock, RwLockReadGuard};

use dgen::state::{Header, Summary};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::args;
use crate::buffer::{self, Access};
use crate::config::given;
use crate::errors::{guarded, state_closed_error, Failure};
use crate::generator::Generator;
use crate::storage;

/// A write state file, open for the dataset of one `Generator`.
#[pyclass(module = "dgen", name = "WriteState", frozen)]
pub struct WriteState {
    inner: RwLock<Option<dgen::state::WriteState>>,
    generator: Py<Generator>,
    header: Header,
    /// The state file's path, as given.
    #[pyo3(get)]
    path: String,
    /// True when opened with `write=True`: `fill` and `complete` record
    /// writes. A state opened with `write=False` refuses them.
    #[pyo3(get)]
    writable: bool,
}

/// The open state, borrowed for one call (a `close` waits for it).
pub struct Live<'a>(RwLockReadGuard<'a, Option<dgen::state::WriteState>>);

impl std::ops::Deref for Live<'_> {
    type Target = dgen::state::WriteState;

    fn deref(&self) -> &dgen::state::WriteState {
        self.0.as_ref().expect("checked open in WriteState::live")
    }
}

impl WriteState {
    /// The open state, or `Failure::StateClosed`. Taken with the GIL
    /// released: a `close` in progress may hold the write lock.
    pub fn live(&self) -> Result<Live<'_>, Failure> {
        // `close` only takes the Option out, so a poisoned lock still holds
        // a usable value.
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            return Err(Failure::StateClosed);
        }
        Ok(Live(guard))
    }

    fn is_closed(&self) -> bool {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).is_none()
    }

    fn check_open(&self) -> PyResult<()> {
        if self.is_closed() {
            return Err(state_closed_error());
        }
        Ok(())
    }

    /// Takes the state out, waiting for calls in flight without the GIL
    /// (they may need it to return).
    fn take(&self, py: Python<'_>) -> PyResult<Option<dgen::state::WriteState>> {
        // From a progress callback of a run that uses this state, the write
        // lock would wait for that run, which waits for the callback.
        if storage::in_callback_with_state(self) {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "a write state cannot be closed inside a progress callback of a write_file or verify_file that \
                 uses it (it would wait for that call forever); close it after the call returns",
            ));
        }
        Ok(py.detach(|| self.inner.write().unwrap_or_else(|e| e.into_inner()).take()))
    }
}

/// Sets `dict[key]` to `from.key` for each key, or to `from.field` for a
/// `key = field` whose field has another name: the keys of `dgen state
/// show --json` are the field names of `Header` and `Summary`, but for
/// `dedup_unit`.
macro_rules! set_fields {
    (@field $from:expr, $key:ident) => { $from.$key };
    (@field $from:expr, $key:ident $field:ident) => { $from.$field };
    ($dict:expr, $from:expr; $($key:ident $(= $field:ident)?),+) => {
        $($dict.set_item(stringify!($key), &set_fields!(@field $from, $key $($field)?))?;)+
    };
}

/// The dataset a state describes, with the keys of `dgen state show --json`.
fn header_items(path: &str, h: &Header, dict: &Bound<'_, PyDict>) -> PyResult<()> {
    dict.set_item("path", path)?;
    set_fields!(dict, h; format, size, dedup_unit = unit_bytes, seed, dedup_ratio, compress_ratio, compressor);
    Ok(())
}

/// What a state holds, with the keys of `dgen state show --json`.
fn summary_items(s: &Summary, dict: &Bound<'_, PyDict>) -> PyResult<()> {
    set_fields!(dict, s; units, written, first_pass, overwritten, max_version, writes_claimed, writes_completed,
                in_flight, ambiguous, in_doubt);
    Ok(())
}

/// A length argument: a byte count from 0 to 2**64-1.
fn length(value: &Bound<'_, PyAny>) -> PyResult<u64> {
    args::uint(value, "length", "must be an integer from 0 to 2**64-1")
}

#[pymethods]
impl WriteState {
    /// Opens the write state at `path` (str, bytes or path-like) for the
    /// dataset of `generator`, a sized `dgen.Generator`.
    ///
    /// With `write=True` the file is created when missing (every unit
    /// unwritten) and writes are recorded in it; with `write=False` it must
    /// exist and is only read (to verify against, or to show). A state of
    /// another dataset (size, dedup unit, seed, ratios, compressor), a
    /// damaged or cut-short file, or one of a newer format raises ValueError
    /// naming the difference, and the file is left as it was; a file that
    /// cannot be opened, created or mapped raises OSError.
    #[new]
    #[pyo3(signature = (path, generator, write=None), text_signature = "(path, generator, write=True)")]
    fn new(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        generator: &Bound<'_, PyAny>,
        write: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<WriteState> {
        let file = storage::path(path)?;
        let gen =
            generator.cast::<Generator>().map_err(|_| args::wrong_type("generator", "a dgen.Generator", generator))?;
        let write = match given(write) {
            None => true,
            Some(v) => v.extract::<bool>().map_err(|_| args::wrong_type("write", "a bool", v))?,
        };
        let obj = gen.get();
        let opened = py.detach(|| {
            guarded(|| {
                obj.with_live(|g| {
                    if write {
                        dgen::state::WriteState::open_or_create(&file, g)
                    } else {
                        dgen::state::WriteState::open(&file, g)
                    }
                })?
                .map_err(Failure::State)
            })
        });
        let st = opened.map_err(|f| f.into_pyerr(py))?;
        Ok(WriteState {
            header: st.header().clone(),
            path: st.path().to_string(),
            writable: st.writable(),
            inner: RwLock::new(Some(st)),
            generator: gen.clone().unbind(),
        })
    }

    /// Prepares a write of `buf` (any writable, C-contiguous buffer) at
    /// `offset` of the target: claims the next version of every dedup unit
    /// of `[offset, offset + len(buf))` and fills `buf` with it. The range
    /// must be whole dedup units (the last may end at the end of the
    /// dataset). Call `complete(offset, len(buf))` once the write is over,
    /// done or failed; until then each unit accepts its old and its new
    /// content. The first write of a unit is the dataset's own bytes (what
    /// `fill_at` gives), every later one new bytes with the same ratios.
    /// Safe to call from many threads at once; the GIL is released.
    fn fill(&self, py: Python<'_>, offset: &Bound<'_, PyAny>, buf: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = args::offset(offset)?;
        let gen = self.generator.get();
        buffer::detached(py, buf, Access::Write, |raw| {
            let st = self.live()?;
            // SAFETY: `raw` is a writable view held until this returns.
            let buf = unsafe { raw.as_mut() };
            // The claim's versions were only needed for the fill; the range
            // is what `complete` takes.
            gen.with_live(|g| st.claim_and_fill(g, offset, buf).map(drop))?.map_err(Failure::State)
        })
    }

    /// Records that the write of `[offset, offset + length)` prepared with
    /// `fill` is over (done or failed). Call it once per `fill`, never for a
    /// range that was not filled.
    fn complete(&self, py: Python<'_>, offset: &Bound<'_, PyAny>, length: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = args::offset(offset)?;
        let len = self::length(length)?;
        py.detach(|| guarded(|| self.live()?.complete_range(offset, len).map_err(Failure::State)))
            .map_err(|f| f.into_pyerr(py))
    }

    /// What the state holds now, as a dict: `units`, `written`,
    /// `first_pass` (written once), `overwritten`, `max_version`,
    /// `writes_claimed`, `writes_completed`, `in_flight` (units with writes
    /// in flight), `ambiguous` (units that may hold one of several
    /// versions) and `in_doubt` (units that may never have been written).
    /// A pass over every unit, with the GIL released.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = py.detach(|| guarded(|| Ok(self.live()?.summary()))).map_err(|f| f.into_pyerr(py))?;
        let dict = PyDict::new(py);
        summary_items(&s, &dict)?;
        Ok(dict)
    }

    /// The header and summary of the state file at `path`, with no
    /// generator: a dict with the keys of `dgen state show --json` (`path`,
    /// `format`, `size`, `dedup_unit`, `seed`, `dedup_ratio`,
    /// `compress_ratio`, `compressor`, `file_bytes`, and the keys of
    /// `summary()`). Never changes the file. ValueError for a file that is
    /// not a state this library reads, OSError for one that cannot be read.
    #[staticmethod]
    fn inspect<'py>(py: Python<'py>, path: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let file = storage::path(path)?;
        let (h, s, bytes) = py
            .detach(|| {
                guarded(|| {
                    let (h, s) = dgen::state::WriteState::inspect(&file).map_err(Failure::State)?;
                    let bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
                    Ok((h, s, bytes))
                })
            })
            .map_err(|f| f.into_pyerr(py))?;
        let dict = PyDict::new(py);
        header_items(&file.display().to_string(), &h, &dict)?;
        dict.set_item("file_bytes", bytes)?;
        summary_items(&s, &dict)?;
        Ok(dict)
    }

    /// The dataset the state describes, as a dict: `path`, `format`,
    /// `size`, `dedup_unit`, `seed`, `dedup_ratio`, `compress_ratio`,
    /// `compressor` (the keys of `dgen state show --json`).
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        header_items(&self.path, &self.header, &dict)?;
        Ok(dict)
    }

    /// The `Generator` the state was opened for.
    #[getter]
    fn generator(&self, py: Python<'_>) -> Py<Generator> {
        self.generator.clone_ref(py)
    }

    /// Dedup units of the dataset: one entry each.
    #[getter]
    fn units(&self) -> u64 {
        self.header.units
    }

    /// True once `close` or `close_remove` has been called.
    #[getter]
    fn closed(&self) -> bool {
        self.is_closed()
    }

    /// Unmaps the state and closes its file, after calls in flight on other
    /// threads finish. Later calls raise ValueError; closing twice is fine.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.take(py)?;
        drop(taken);
        Ok(())
    }

    /// Closes the state, as `close`, and removes its file when no other
    /// process has it open; returns whether it removed it. For a state made
    /// for one run and shared by its processes: the last to close removes
    /// it. False when the state was already closed.
    fn close_remove(&self, py: Python<'_>) -> PyResult<bool> {
        let taken = self.take(py)?;
        Ok(taken.is_some_and(|st| st.close_and_remove_if_last()))
    }

    /// A closed state cannot be used again, in a `with` block or not.
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().check_open()?;
        Ok(slf)
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let h = &self.header;
        format!(
            "dgen.WriteState(path={:?}, size={}, dedup_unit={}, seed={}, write={}{})",
            self.path,
            h.size,
            h.unit_bytes,
            h.seed,
            if self.writable { "True" } else { "False" },
            if self.is_closed() { ", closed" } else { "" }
        )
    }
}
