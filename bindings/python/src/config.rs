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

/// Parses the argument for `field` into `slot` when it was given, and
/// leaves the default there when not. `parse` (such as `args::uint`) gets
/// the field's name and the words of its range from the library's `Field`,
/// so that the two cannot disagree.
pub fn set_given<'py, T>(
    slot: &mut T,
    field: Field,
    value: Option<&Bound<'py, PyAny>>,
    parse: impl FnOnce(&Bound<'py, PyAny>, &str, &str) -> PyResult<T>,
) -> PyResult<()> {
    if let Some(v) = given(value) {
        *slot = parse(v, field.name(), field.expected())?;
    }
    Ok(())
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
        set_given(&mut c.dedup_ratio, Field::DedupRatio, self.dedup_ratio, args::ratio)?;
        set_given(&mut c.compress_ratio, Field::CompressRatio, self.compress_ratio, args::ratio)?;
        set_given(&mut c.dedup_unit, Field::DedupUnit, self.dedup_unit, args::uint)?;
        c.seed = args::opt_uint(self.seed, "seed", "must be None or an integer from 0 to 2**64-1")?;
        set_given(&mut c.threads, Field::Threads, self.threads, args::uint)?;
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
