//! Eight-lane f32 vectors for the neighbour kernel, behind one trait with two
//! implementations: `wide::f32x8` (two SSE registers, the portable build) and [`Avx`]
//! (one AVX register), picked at run time by the caller. The kernel and [`exp`] are
//! written once against the trait. Every operation is a correctly rounded IEEE one (no
//! fused multiply-add), an x86 `min`/`max`, a truncating conversion or a bitwise one,
//! and SSE and AVX compute those identically lane by lane: both give bit-identical
//! results (tested).

use std::ops::{Add, BitAnd, Div, Mul, Sub};

use wide::{CmpGe, CmpGt, CmpLe, CmpLt, f32x8};

/// Lanes per vector.
pub const LANES: usize = 8;

/// What the kernel needs of an 8-lane f32 vector. Masks are vectors with all bits set
/// (true) or clear (false) per lane.
pub trait Simd:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + BitAnd<Output = Self>
{
    fn splat(v: f32) -> Self;
    fn from_array(a: [f32; LANES]) -> Self;
    fn to_array(self) -> [f32; LANES];
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    /// x86 `minps`/`maxps` (no NaN reaches the kernel).
    fn min(self, o: Self) -> Self;
    fn max(self, o: Self) -> Self;
    fn lt(self, o: Self) -> Self;
    fn le(self, o: Self) -> Self;
    fn gt(self, o: Self) -> Self;
    fn ge(self, o: Self) -> Self;
    /// `t` where `self` (a mask) is set, else `f`.
    fn select(self, t: Self, f: Self) -> Self;
    /// Whether any lane of the mask is set.
    fn any(self) -> bool;
    /// Truncate to i32 and reinterpret the bits as f32.
    fn trunc_bits(self) -> Self;

    /// `v[k..k + 8]`, the lanes past the end of `v` set to `fill`.
    #[inline(always)]
    fn load(v: &[f32], k: usize, fill: f32) -> Self {
        match v
            .get(k..k + LANES)
            .and_then(|s| <&[f32; LANES]>::try_from(s).ok())
        {
            Some(s) => Self::from_array(*s),
            None => {
                let mut a = [fill; LANES];
                let tail = &v[k.min(v.len())..];
                a[..tail.len()].copy_from_slice(tail);
                Self::from_array(a)
            }
        }
    }
    /// Lanes 0, 1, …, 7.
    #[inline(always)]
    fn index() -> Self {
        Self::from_array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    }
    /// Sum of the lanes in lane order (a fixed order: deterministic).
    #[inline(always)]
    fn sum_lanes(self) -> f32 {
        self.to_array().into_iter().fold(0.0, |s, v| s + v)
    }
    /// Smallest lane.
    #[inline(always)]
    fn min_lane(self) -> f32 {
        self.to_array().into_iter().fold(f32::INFINITY, f32::min)
    }
}

/// eˣ lane by lane by the Cephes `expf` scheme: x = n ln 2 + r with n the nearest
/// integer to x / ln 2 (Cody–Waite split of ln 2 in two constants), eʳ by a degree-6
/// polynomial, 2ⁿ built in the exponent bits. Relative error below 10⁻⁶ (tested
/// against the library `exp`); x is clamped to [−87, 88].
#[inline(always)]
pub fn exp<V: Simd>(x: V) -> V {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2²³: adding it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ];
    let s = V::splat;
    let x = x.max(s(-87.0)).min(s(88.0));
    let n = (x * s(LOG2E) + s(ROUND)) - s(ROUND);
    let r = x - n * s(LN2_HI) - n * s(LN2_LO);
    let mut p = s(P[0]);
    for c in &P[1..] {
        p = p * r + s(*c);
    }
    let y = p * (r * r) + r + s(1.0);
    // 2ⁿ: the exponent field n + 127, i.e. the integer (n + 127)·2²³ (exact in f32).
    y * ((n + s(127.0)) * s(8_388_608.0)).trunc_bits()
}

impl Simd for f32x8 {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        f32x8::splat(v)
    }
    #[inline(always)]
    fn from_array(a: [f32; LANES]) -> Self {
        f32x8::new(a)
    }
    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        f32x8::to_array(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32x8::sqrt(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f32x8::abs(self)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self.fast_min(o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self.fast_max(o)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> Self {
        self.cmp_lt(o)
    }
    #[inline(always)]
    fn le(self, o: Self) -> Self {
        self.cmp_le(o)
    }
    #[inline(always)]
    fn gt(self, o: Self) -> Self {
        self.cmp_gt(o)
    }
    #[inline(always)]
    fn ge(self, o: Self) -> Self {
        self.cmp_ge(o)
    }
    #[inline(always)]
    fn select(self, t: Self, f: Self) -> Self {
        self.blend(t, f)
    }
    #[inline(always)]
    fn any(self) -> bool {
        f32x8::any(self)
    }
    #[inline(always)]
    fn trunc_bits(self) -> Self {
        bytemuck::cast(self.fast_trunc_int())
    }
}

#[cfg(target_arch = "x86_64")]
pub use avx::Avx;

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{LANES, Simd};
    use std::arch::x86_64::*;
    use std::ops::{Add, BitAnd, Div, Mul, Sub};

    /// One AVX register of 8 f32.
    ///
    /// Only ever used inside functions compiled with `#[target_feature(enable = "avx2")]`
    /// after a run-time check that the CPU has AVX2: the intrinsics below are inlined
    /// there. Every `unsafe` block in this module relies on that.
    #[derive(Clone, Copy, Debug)]
    pub struct Avx(__m256);

    macro_rules! binop {
        ($tr:ident, $f:ident, $intr:ident) => {
            impl $tr for Avx {
                type Output = Avx;
                #[inline(always)]
                fn $f(self, o: Avx) -> Avx {
                    // SAFETY: see the type's documentation.
                    Avx(unsafe { $intr(self.0, o.0) })
                }
            }
        };
    }
    binop!(Add, add, _mm256_add_ps);
    binop!(Sub, sub, _mm256_sub_ps);
    binop!(Mul, mul, _mm256_mul_ps);
    binop!(Div, div, _mm256_div_ps);
    binop!(BitAnd, bitand, _mm256_and_ps);

    macro_rules! cmp {
        ($f:ident, $pred:ident) => {
            #[inline(always)]
            fn $f(self, o: Avx) -> Avx {
                // SAFETY: see the type's documentation.
                Avx(unsafe { _mm256_cmp_ps::<$pred>(self.0, o.0) })
            }
        };
    }

    impl Simd for Avx {
        #[inline(always)]
        fn splat(v: f32) -> Self {
            // SAFETY: see the type's documentation.
            Avx(unsafe { _mm256_set1_ps(v) })
        }
        #[inline(always)]
        fn from_array(a: [f32; LANES]) -> Self {
            // SAFETY: see the type's documentation; `a` holds 8 f32.
            Avx(unsafe { _mm256_loadu_ps(a.as_ptr()) })
        }
        #[inline(always)]
        fn to_array(self) -> [f32; LANES] {
            let mut a = [0.0f32; LANES];
            // SAFETY: see the type's documentation; `a` holds 8 f32.
            unsafe { _mm256_storeu_ps(a.as_mut_ptr(), self.0) };
            a
        }
        #[inline(always)]
        fn load(v: &[f32], k: usize, fill: f32) -> Self {
            match v.get(k..k + LANES) {
                // SAFETY: see the type's documentation; the slice holds 8 f32.
                Some(s) => Avx(unsafe { _mm256_loadu_ps(s.as_ptr()) }),
                None => {
                    let mut a = [fill; LANES];
                    let tail = &v[k.min(v.len())..];
                    a[..tail.len()].copy_from_slice(tail);
                    Self::from_array(a)
                }
            }
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            // SAFETY: see the type's documentation.
            Avx(unsafe { _mm256_sqrt_ps(self.0) })
        }
        #[inline(always)]
        fn abs(self) -> Self {
            // SAFETY: see the type's documentation.
            Avx(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
        }
        #[inline(always)]
        fn min(self, o: Avx) -> Avx {
            // SAFETY: see the type's documentation.
            Avx(unsafe { _mm256_min_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn max(self, o: Avx) -> Avx {
            // SAFETY: see the type's documentation.
            Avx(unsafe { _mm256_max_ps(self.0, o.0) })
        }
        cmp!(lt, _CMP_LT_OQ);
        cmp!(le, _CMP_LE_OQ);
        cmp!(gt, _CMP_GT_OQ);
        cmp!(ge, _CMP_GE_OQ);
        #[inline(always)]
        fn select(self, t: Avx, f: Avx) -> Avx {
            // SAFETY: see the type's documentation.
            Avx(unsafe { _mm256_blendv_ps(f.0, t.0, self.0) })
        }
        #[inline(always)]
        fn any(self) -> bool {
            // SAFETY: see the type's documentation.
            unsafe { _mm256_movemask_ps(self.0) != 0 }
        }
        #[inline(always)]
        fn trunc_bits(self) -> Self {
            // SAFETY: see the type's documentation.
            Avx(unsafe { _mm256_castsi256_ps(_mm256_cvttps_epi32(self.0)) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp_error<V: Simd>() -> f64 {
        let mut worst = 0.0f64;
        let mut x = -80.0f32;
        while x < 80.0 {
            let got = exp(V::splat(x)).to_array()[3];
            let want = f64::from(x).exp();
            worst = worst.max((f64::from(got) - want).abs() / want);
            x += 0.0007;
        }
        worst
    }

    #[test]
    fn exp_matches_the_library_exp() {
        let worst = exp_error::<f32x8>();
        assert!(worst < 1e-6, "relative error {worst}");
        let e = |x: f32| exp(f32x8::splat(x)).to_array()[0];
        assert_eq!(e(0.0), 1.0);
        assert_eq!(e(-200.0), e(-87.0));
        assert!(e(-87.0) > 0.0 && e(88.0).is_finite());
    }

    /// Every operation of the kernel on both implementations, on the same inputs.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx_and_sse_agree_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        #[target_feature(enable = "avx2")]
        fn both() -> Vec<(String, [f32; LANES], [f32; LANES])> {
            fn ops<V: Simd>(a: [f32; LANES], b: [f32; LANES]) -> Vec<(&'static str, [f32; 8])> {
                let (x, y) = (V::from_array(a), V::from_array(b));
                vec![
                    ("add", (x + y).to_array()),
                    ("sub", (x - y).to_array()),
                    ("mul", (x * y).to_array()),
                    ("div", (x / y).to_array()),
                    ("sqrt", x.abs().sqrt().to_array()),
                    ("min", x.min(y).to_array()),
                    ("max", x.max(y).to_array()),
                    ("select", x.lt(y).select(x, y).to_array()),
                    ("le&ge", (x.le(y) & y.ge(x)).select(x, y).to_array()),
                    ("gt", x.gt(y).select(x, y).to_array()),
                    ("exp", exp(x).to_array()),
                    ("load", V::load(&a[..5], 2, 9.0).to_array()),
                ]
            }
            let mut out = Vec::new();
            let mut seed = 1u32;
            for _ in 0..2000 {
                let mut a = [0.0f32; LANES];
                let mut b = [0.0f32; LANES];
                for v in a.iter_mut().chain(b.iter_mut()) {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *v = (seed >> 8) as f32 / (1u32 << 24) as f32 * 60.0 - 30.0;
                }
                for ((name, s), (_, v)) in ops::<f32x8>(a, b).into_iter().zip(ops::<Avx>(a, b)) {
                    out.push((name.to_string(), s, v));
                }
            }
            out
        }
        // SAFETY: the CPU has AVX2, checked above.
        for (name, s, v) in unsafe { both() } {
            assert_eq!(s.map(f32::to_bits), v.map(f32::to_bits), "{name}");
        }
        let m = f32x8::splat(1.0).lt(f32x8::index());
        assert!(m.any() && !f32x8::splat(9.0).lt(f32x8::index()).any());
    }
}
