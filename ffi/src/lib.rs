//! The C ABI: one opaque handle, plain functions and status codes.
//!
//! Every exported function runs its body inside `guard` (status.rs), which
//! catches any panic so that none unwinds into C: functions that return a
//! status return `DGEN_STATUS_PANIC`, the others a harmless default, and the
//! thread-local message says what happened. Those that return a status do so
//! through `guard_status`, whose body returns a `Result` so that a refusal
//! leaves it with `?`. Every pointer is checked before use (`non_null!`).
//! The header `include/dgen.h` is generated from these files by cbindgen, so
//! their doc comments are the C user's manual.
//!
//! One file per concept: status.rs (statuses, messages, the guard),
//! config.rs (`dgen_config`, its checks and bounds), generator.rs (the
//! handle), alloc.rs, topology.rs, vectors.rs, storage.rs (files and
//! devices), state.rs (write states) and part.rs (parts of a range).

// The C names are the Rust names, so the header and this file read alike.
#![allow(non_camel_case_types)]

/// Refuses the first NULL among the pointer arguments named, in the order
/// given, as `null` does: `Err(DGEN_STATUS_NULL_POINTER)` and "FUNC: ARG
/// must not be NULL". The message names each argument as the signature
/// does, since the name is the parameter's own. `buf if len != 0` refuses
/// `buf` only when the condition holds (a NULL buffer of length 0 is an
/// empty one).
macro_rules! non_null {
    ($func:expr; $($arg:ident $(if $cond:expr)?),+ $(,)?) => {
        $crate::status::first_null($func, &[$(($arg.is_null() $(&& $cond)?, stringify!($arg))),+])
    };
}

/// Asserts the size of the C struct `$t` and the offsets of the fields
/// named, the numbers the C tests assert from their side, so that the header
/// and the Rust definitions cannot drift apart unnoticed.
#[cfg(test)]
macro_rules! assert_layout {
    ($t:ty, $size:expr, { $($field:ident: $offset:expr),* $(,)? }) => {{
        assert_eq!(std::mem::size_of::<$t>(), $size, "size of {}", stringify!($t));
        $(assert_eq!(std::mem::offset_of!($t, $field), $offset, "offset of {}.{}", stringify!($t), stringify!($field));)*
    }};
}

mod alloc;
mod config;
mod generator;
mod status;
mod topology;
mod vectors;

pub use alloc::*;
pub use config::*;
pub use generator::*;
pub use status::*;
pub use topology::*;
pub use vectors::*;

#[cfg(unix)]
mod part;
#[cfg(unix)]
pub use part::*;
#[cfg(unix)]
mod state;
#[cfg(unix)]
mod storage;

#[cfg(test)]
mod unit {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: dgen_last_error never returns NULL and its text is
        // NUL-terminated.
        unsafe { CStr::from_ptr(dgen_last_error()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let s = guard("dgen_test", Message::Reset, dgen_status::Panic, || -> dgen_status { panic!("boom {}", 7) });
        assert_eq!(s, dgen_status::Panic);
        assert_eq!(last(), "dgen_test: internal error: boom 7");
        let v = guard("dgen_test", Message::Reset, 0u64, || -> u64 { panic!("static text") });
        assert_eq!(v, 0);
        assert_eq!(last(), "dgen_test: internal error: static text");
    }

    #[test]
    fn a_successful_call_clears_the_message() {
        set_error("old".into());
        assert_eq!(last(), "old");
        assert_eq!(guard("dgen_test", Message::Reset, 1, || 2), 2);
        assert_eq!(last(), "");
    }

    #[test]
    fn reading_functions_keep_the_message() {
        set_error("kept".into());
        assert_eq!(guard("dgen_test", Message::Keep, 1, || 2), 2);
        let _ = dgen_status_str(dgen_status_arg(3));
        let _ = dgen_version();
        assert_eq!(last(), "kept");
        // A panic in a Keep function still reports itself.
        assert_eq!(guard("dgen_test", Message::Keep, 0, || -> i32 { panic!("late") }), 0);
        assert_eq!(last(), "dgen_test: internal error: late");
    }

    #[test]
    fn every_error_maps_to_its_status() {
        use libdgen::{Error, Field};
        let inv =
            |name| Error::InvalidConfig { field: Field::from_name(name).unwrap(), value: "x".into(), expected: "y" };
        assert_eq!(dgen_status::from_error(&inv("dedup_ratio")), dgen_status::InvalidDedupRatio);
        assert_eq!(dgen_status::from_error(&inv("compress_ratio")), dgen_status::InvalidCompressRatio);
        assert_eq!(dgen_status::from_error(&inv("dedup_unit")), dgen_status::InvalidDedupUnit);
        assert_eq!(dgen_status::from_error(&inv("threads")), dgen_status::InvalidThreads);
        assert_eq!(dgen_status::from_error(&inv("size")), dgen_status::InvalidConfig);
        assert_eq!(dgen_status::from_error(&Error::OutOfRange { offset: 1, len: 2, size: 3 }), dgen_status::OutOfRange);
        assert_eq!(
            dgen_status::from_error(&Error::Mismatch { offset: 1, expected: 2, actual: 3 }),
            dgen_status::Mismatch
        );
        assert_eq!(dgen_status::from_error(&inv("compressor")), dgen_status::InvalidCompressor);
        assert_eq!(dgen_status::from_error(&inv("numa_mode")), dgen_status::InvalidConfig);
    }

    #[test]
    fn status_numbers_are_their_positions() {
        for (i, s) in ALL_STATUSES.iter().enumerate() {
            assert_eq!(*s as usize, i);
            assert_eq!(dgen_status::from_code(i as u32), Some(*s));
        }
        assert_eq!(dgen_status::from_code(ALL_STATUSES.len() as u32), None);
    }
}

#[cfg(test)]
mod tests;
