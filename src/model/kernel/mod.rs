//! The writers of granules, one build per instruction set, and the choice
//! between them.
//!
//! A *granule* is the model's unit of bytes: 4 KiB that are a pure function
//! of (content id, granule index in its dedup unit). Its random part comes
//! from eight xoshiro256++ lanes ([`lanes`](super::lanes)), skewed in byte
//! value when the stream is compressible ([`skew`](super::skew)), and its
//! layout of random runs and copies comes from a plan
//! ([`compress`](super::compress)). The portable writer (`portable`) is
//! the definition; `avx2` and `avx512` write the same bytes with
//! intrinsics, because the compiler does not vectorize the portable loops
//! once they are inlined into larger functions. All three run the model's
//! granule body with their own lanes, and share the moves of `blocks`.
//! Tests check that every kernel gives every granule the same bytes.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod blocks;
pub(crate) mod portable;

/// Which build of the granule writer runs; chosen once from the CPU's features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Plain code; the compiler's baseline vector width.
    Portable,
    /// x86-64 with AVX2.
    Avx2,
    /// x86-64 with AVX-512 F/VL/DQ/BW (native 64-bit rotates and
    /// multiplies, byte shuffles of whole registers).
    Avx512,
}

impl Kernel {
    /// Whether this CPU has every feature the kernel's code is compiled for.
    pub fn runs_here(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx2")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every kernel this CPU runs, slowest (portable) first.
    pub fn available() -> Vec<Kernel> {
        [Kernel::Portable, Kernel::Avx2, Kernel::Avx512].into_iter().filter(|k| k.runs_here()).collect()
    }

    /// The kernel's name as reports print it: `portable`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// The fastest kernel this CPU runs.
    pub fn detect() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2].into_iter().find(|k| k.runs_here()).unwrap_or(Kernel::Portable)
    }
}
