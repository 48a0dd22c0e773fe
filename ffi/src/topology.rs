//! The machine's CPUs and NUMA nodes, as the generator sees them.

use std::ffi::c_char;

use crate::*;
use libdgen::Topology;

/// Describes this machine and where a generator built from `cfg` would run
/// its workers, as JSON text: `{"source", "nodes": [{"node", "cpus"}],
/// "allowed_cpus", "cores", "placement": {"threads", "numa_node", "pinned"}}`.
///
/// Writes at most `len` bytes including the terminating NUL into `buf` and the
/// size the whole text needs (with its NUL) into `*needed`. When `len` is too
/// small nothing is written to `buf` and `DGEN_STATUS_OUT_OF_RANGE` is
/// returned, so a caller can ask with `len` 0, allocate `*needed` and ask
/// again. A bad `cfg` gives the same status and message as `dgen_create`.
///
/// # Safety
/// `cfg` is NULL or a readable `dgen_config`; `buf` is NULL (only with `len`
/// 0) or writable for `len` bytes; `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_topology(
    cfg: *const dgen_config,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> dgen_status {
    guard_status("dgen_topology", |func| {
        non_null!(func; cfg, needed, buf if len != 0)?;
        // SAFETY: `cfg` is not NULL and the caller guarantees it is readable.
        let config = unsafe { read_config(cfg) }?;
        let topology = Topology::current();
        let placement = topology.plan(config.threads, config.numa_mode, config.numa_node).map_err(fail)?;
        let text = topology.to_json(&placement);
        let need = text.len() + 1;
        // SAFETY: `needed` is not NULL and the caller guarantees it is writable.
        unsafe { needed.write(need) };
        if len < need {
            return Err(refuse(
                dgen_status::OutOfRange,
                format!("{func}: buf holds {len} bytes, the text needs {need}"),
            ));
        }
        // SAFETY: `buf` is writable for `len >= need` bytes (checked above);
        // the text and its NUL fill exactly `need` of them.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
            buf.add(text.len()).write(0);
        }
        Ok(())
    })
}
