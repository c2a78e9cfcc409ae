//! Which vector instructions the running processor has.
//!
//! Builds target the x86-64 baseline (SSE2), so one binary or wheel runs on any x86-64
//! machine. Hot loops are written so the compiler vectorises them, then compiled twice:
//! once for the baseline and once with AVX2 and FMA enabled (`#[target_feature]`), and
//! [`avx2`] picks one at run time, as NumPy's dispatch does. A kernel that does this:
//!
//! ```text
//! #[inline(always)]
//! fn kernel<T>(…) { … }                     // the loop, written once
//!
//! fn run<T>(…) {
//!     #[cfg(target_arch = "x86_64")]
//!     if simd::avx2() {
//!         #[target_feature(enable = "avx2,fma")]
//!         fn wide<T>(…) { kernel(…) }       // the same loop, compiled for AVX2
//!         // SAFETY: the processor has AVX2 and FMA (checked just above).
//!         #[allow(unsafe_code)]
//!         return unsafe { wide(…) };
//!     }
//!     kernel(…)
//! }
//! ```
//!
//! The tests run both versions where the processor has AVX2 (see each kernel's tests), and
//! `scripts/check-portable.sh` runs the test binaries on an emulated baseline processor.

/// Whether the processor has AVX2 and FMA (detected once, then a load). Setting the
/// environment variable `FLOE_NO_AVX2` (to anything) at start-up forces the baseline
/// paths, to test or compare them.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx2() -> bool {
    use std::sync::OnceLock;
    static AVX2: OnceLock<bool> = OnceLock::new();
    *AVX2.get_or_init(|| {
        std::env::var_os("FLOE_NO_AVX2").is_none()
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
    })
}

/// Whether the processor has AVX-512 (foundation, double- and quad-word, vector lengths:
/// 64-bit multiplications in one instruction) besides AVX2 and FMA. `FLOE_NO_AVX2`
/// turns this off too.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx512() -> bool {
    use std::sync::OnceLock;
    static AVX512: OnceLock<bool> = OnceLock::new();
    *AVX512.get_or_init(|| {
        avx2()
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512vl")
    })
}

/// No x86 vector extensions off x86-64: the portable loops only.
#[cfg(not(target_arch = "x86_64"))]
#[allow(dead_code)]
pub(crate) fn avx2() -> bool {
    false
}
