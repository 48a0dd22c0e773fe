//! The keyword arguments shared by `Generator`, `generate` and `topology`,
//! turned into a `dgen::Config`. Types are checked here; value ranges are the
//! library's to check (`dgen::Generator::new`), so the messages match every
//! other face.

use dgen::Field;
use pyo3::prelude::*;

use crate::args::{self, arg_struct};

/// `numa_mode` values, as the other faces name them.
pub const NUMA_MODES: &str = "must be one of auto, off, force";

/// Parses a `numa_mode` name (any letter case).
pub fn numa_mode(value: &Bound<'_, PyAny>) -> PyResult<dgen::NumaMode> {
    let text = args::string(value, "numa_mode")?;
    match text.trim().to_ascii_lowercase().as_str() {
        "auto" => Ok(dgen::NumaMode::Auto),
        "off" => Ok(dgen::NumaMode::Off),
        "force" => Ok(dgen::NumaMode::Force),
        _ => Err(args::invalid("numa_mode", NUMA_MODES, value)),
    }
}

/// The name of a `NumaMode`, as `numa_mode` accepts it.
pub fn numa_mode_name(mode: dgen::NumaMode) -> &'static str {
    match mode {
        dgen::NumaMode::Auto => "auto",
        dgen::NumaMode::Off => "off",
        dgen::NumaMode::Force => "force",
    }
}

arg_struct! {
    /// Keyword arguments as passed; `None` stands for "not given".
    pub struct Args {
        size, dedup_ratio, compress_ratio, dedup_unit, seed, threads, numa_mode, numa_node, compressor,
    }
}

/// The argument, unless it was left out or passed as None.
pub fn given<'a, 'py>(v: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    v.filter(|v| !v.is_none())
}

impl Args<'_, '_> {
    /// The config these arguments ask for (not yet validated by the library).
    pub fn config(&self) -> PyResult<dgen::Config> {
        let mut c = dgen::Config::default();
        // Not `given`: size=None is a TypeError here as in generate(), so
        // that a missing size never quietly makes an endless stream; leaving
        // size out (or size=0) asks for one.
        if let Some(v) = self.size {
            c.size = args::uint(v, "size", "must be an integer from 0 (endless) to 2**64-1")?;
        }
        if let Some(v) = given(self.dedup_ratio) {
            c.dedup_ratio = args::ratio(v, "dedup_ratio", Field::DedupRatio.expected())?;
        }
        if let Some(v) = given(self.compress_ratio) {
            c.compress_ratio = args::ratio(v, "compress_ratio", Field::CompressRatio.expected())?;
        }
        if let Some(v) = given(self.dedup_unit) {
            c.dedup_unit = args::uint(v, "dedup_unit", Field::DedupUnit.expected())?;
        }
        c.seed = args::opt_uint(self.seed, "seed", "must be None or an integer from 0 to 2**64-1")?;
        if let Some(v) = given(self.threads) {
            c.threads = args::uint(v, "threads", Field::Threads.expected())?;
        }
        if let Some(v) = given(self.numa_mode) {
            c.numa_mode = numa_mode(v)?;
        }
        c.numa_node = args::opt_uint(self.numa_node, "numa_node", "must be None or a NUMA node of this machine")?;
        if let Some(v) = given(self.compressor) {
            let name = args::string(v, "compressor")?;
            c.compressor = name.parse::<dgen::Compressor>().map_err(|e| crate::errors::lib_error(v.py(), e))?;
        }
        Ok(c)
    }
}
