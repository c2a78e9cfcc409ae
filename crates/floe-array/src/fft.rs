//! Discrete Fourier transforms (NumPy's `numpy.fft`) along axes held in one block.
//!
//! A transform along an axis needs the whole axis at once, so, as in Dask, each transformed
//! axis must be one block (rechunk it with `-1` first); the other axes keep their blocks,
//! and each block is transformed on its own, lane by lane, with `rustfft`. Results follow
//! NumPy 2: `complex64` for `float32` and `complex64` inputs, `complex128` otherwise.

use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, Axis, IxDyn, Zip};
use rustfft::{FftNum, FftPlanner};

use crate::block::BlockInfo;
use crate::error::normalize_axis;
use crate::slicing::Idx;
use crate::{Array, ArrayError, ChunkSpec, Complex, DType, DynArray, Result};

/// How a transform is scaled: NumPy's `norm` argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FftNorm {
    /// The forward transform unscaled, the inverse scaled by `1/n` (NumPy's default).
    #[default]
    Backward,
    /// Both scaled by `1/√n`: the transforms are unitary.
    Ortho,
    /// The forward transform scaled by `1/n`, the inverse unscaled.
    Forward,
}

impl FftNorm {
    /// The normalization NumPy names `name` (`"backward"`, `"ortho"`, `"forward"`).
    ///
    /// ```
    /// use floe_array::FftNorm;
    /// assert_eq!(FftNorm::from_name("ortho"), Some(FftNorm::Ortho));
    /// assert_eq!(FftNorm::from_name("unitary"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<FftNorm> {
        match name {
            "backward" => Some(FftNorm::Backward),
            "ortho" => Some(FftNorm::Ortho),
            "forward" => Some(FftNorm::Forward),
            _ => None,
        }
    }

    fn scale(self, n: usize, inverse: bool) -> f64 {
        let n = n as f64;
        match (self, inverse) {
            (FftNorm::Ortho, _) => 1.0 / n.sqrt(),
            (FftNorm::Backward, true) | (FftNorm::Forward, false) => 1.0 / n,
            _ => 1.0,
        }
    }
}

/// One transform along one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transform {
    /// Complex to complex, forward or inverse.
    Complex { inverse: bool },
    /// Real to the `n/2 + 1` non-negative frequencies.
    Real,
    /// The non-negative frequencies of a Hermitian spectrum back to `n` reals.
    RealInverse,
}

impl Transform {
    fn name(self) -> &'static str {
        match self {
            Transform::Complex { inverse: false } => "fft",
            Transform::Complex { inverse: true } => "ifft",
            Transform::Real => "rfft",
            Transform::RealInverse => "irfft",
        }
    }

    /// The output's length along the axis for an input of length `len` and NumPy's `n`.
    fn out_len(self, len: usize, n: Option<usize>) -> usize {
        match (self, n) {
            (Transform::Real, n) => n.unwrap_or(len) / 2 + 1,
            (Transform::RealInverse, Some(n)) => n,
            (Transform::RealInverse, None) => 2 * len.saturating_sub(1),
            (Transform::Complex { .. }, n) => n.unwrap_or(len),
        }
    }

    fn dtype(self, input: DType) -> DType {
        let single = matches!(input, DType::F32 | DType::C64);
        match (self, single) {
            (Transform::RealInverse, true) => DType::F32,
            (Transform::RealInverse, false) => DType::F64,
            (_, true) => DType::C64,
            (_, false) => DType::C128,
        }
    }
}

impl Array {
    /// The one-dimensional discrete Fourier transform along `axis` (NumPy's `fft.fft`),
    /// of length `n` (the input cropped or zero-padded; default: the axis' length).
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if `axis` spans several blocks (rechunk it to one
    /// first, e.g. `x.rechunk` with `-1` there) or `n` is 0; [`ArrayError::AxisOutOfRange`].
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{DType, FftNorm};
    ///
    /// let x = floe_array::ones(&[3, 8], [1_usize, 8], DType::F64)?;
    /// let f = x.fft(None, -1, FftNorm::Backward)?;
    /// assert_eq!((f.shape(), f.dtype()), (&[3_usize, 8][..], DType::C128));
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn fft(&self, n: Option<usize>, axis: isize, norm: FftNorm) -> Result<Array> {
        self.transform(Transform::Complex { inverse: false }, n, axis, norm)
    }

    /// The inverse of [`Array::fft`] (NumPy's `fft.ifft`).
    ///
    /// # Errors
    ///
    /// As [`Array::fft`].
    pub fn ifft(&self, n: Option<usize>, axis: isize, norm: FftNorm) -> Result<Array> {
        self.transform(Transform::Complex { inverse: true }, n, axis, norm)
    }

    /// The transform of real input along `axis`: its `n/2 + 1` non-negative frequencies
    /// (NumPy's `fft.rfft`).
    ///
    /// # Errors
    ///
    /// As [`Array::fft`]; [`ArrayError::UnsupportedDType`] for complex input.
    pub fn rfft(&self, n: Option<usize>, axis: isize, norm: FftNorm) -> Result<Array> {
        self.transform(Transform::Real, n, axis, norm)
    }

    /// The inverse of [`Array::rfft`]: `n` real values (default `2·(len - 1)`) from the
    /// non-negative frequencies of a Hermitian spectrum (NumPy's `fft.irfft`).
    ///
    /// # Errors
    ///
    /// As [`Array::fft`].
    pub fn irfft(&self, n: Option<usize>, axis: isize, norm: FftNorm) -> Result<Array> {
        self.transform(Transform::RealInverse, n, axis, norm)
    }

    /// The n-dimensional transform over `axes` (default: every axis, or the last
    /// `s.len()`), with lengths `s` (NumPy's `fft.fftn`; `fft2` is `axes = [-2, -1]`).
    ///
    /// # Errors
    ///
    /// As [`Array::fft`], for each axis; `s` and `axes` of different lengths, or a
    /// repeated axis.
    pub fn fftn(
        &self,
        s: Option<&[usize]>,
        axes: Option<&[isize]>,
        norm: FftNorm,
    ) -> Result<Array> {
        self.transform_n("fftn", Transform::Complex { inverse: false }, s, axes, norm)
    }

    /// The inverse of [`Array::fftn`] (NumPy's `fft.ifftn`).
    ///
    /// # Errors
    ///
    /// As [`Array::fftn`].
    pub fn ifftn(
        &self,
        s: Option<&[usize]>,
        axes: Option<&[isize]>,
        norm: FftNorm,
    ) -> Result<Array> {
        self.transform_n("ifftn", Transform::Complex { inverse: true }, s, axes, norm)
    }

    /// The n-dimensional transform of real input: [`Array::rfft`] along the last of `axes`,
    /// then [`Array::fft`] along the others (NumPy's `fft.rfftn`).
    ///
    /// # Errors
    ///
    /// As [`Array::fftn`].
    pub fn rfftn(
        &self,
        s: Option<&[usize]>,
        axes: Option<&[isize]>,
        norm: FftNorm,
    ) -> Result<Array> {
        self.transform_n("rfftn", Transform::Real, s, axes, norm)
    }

    /// The inverse of [`Array::rfftn`]: [`Array::ifft`] along all but the last of `axes`,
    /// then [`Array::irfft`] along the last (NumPy's `fft.irfftn`).
    ///
    /// # Errors
    ///
    /// As [`Array::fftn`].
    pub fn irfftn(
        &self,
        s: Option<&[usize]>,
        axes: Option<&[isize]>,
        norm: FftNorm,
    ) -> Result<Array> {
        self.transform_n("irfftn", Transform::RealInverse, s, axes, norm)
    }

    fn transform_n(
        &self,
        op: &'static str,
        t: Transform,
        s: Option<&[usize]>,
        axes: Option<&[isize]>,
        norm: FftNorm,
    ) -> Result<Array> {
        let nd = self.ndim() as isize;
        let axes: Vec<isize> = match (axes, s) {
            (Some(a), _) => a.to_vec(),
            (None, Some(s)) => (nd - s.len() as isize..nd).collect(),
            (None, None) => (0..nd).collect(),
        };
        if let Some(s) = s
            && s.len() != axes.len()
        {
            return Err(ArrayError::invalid(
                op,
                format!("{} lengths for {} axes", s.len(), axes.len()),
            ));
        }
        let norm_axes = axes
            .iter()
            .map(|&a| normalize_axis(op, a, self.ndim()))
            .collect::<Result<Vec<_>>>()?;
        for (i, a) in norm_axes.iter().enumerate() {
            if norm_axes[..i].contains(a) {
                return Err(ArrayError::invalid(op, format!("axis {a} is repeated")));
            }
        }
        let Some(last) = axes.len().checked_sub(1) else {
            return Ok(self.clone());
        };
        let len = |i: usize| s.map(|s| s[i]);
        let complex = match t {
            Transform::RealInverse => Transform::Complex { inverse: true },
            Transform::Real => Transform::Complex { inverse: false },
            c => c,
        };
        // Real transforms: the real one on the last axis is the first forward and the last
        // inverse step; complex ones run along the other axes.
        let mut out = self.clone();
        if t == Transform::Real {
            out = out.transform(Transform::Real, len(last), axes[last], norm)?;
        }
        for i in (0..axes.len()).filter(|&i| t == complex || i != last) {
            out = out.transform(complex, len(i), axes[i], norm)?;
        }
        if t == Transform::RealInverse {
            out = out.transform(Transform::RealInverse, len(last), axes[last], norm)?;
        }
        Ok(out)
    }

    fn transform(
        &self,
        t: Transform,
        n: Option<usize>,
        axis: isize,
        norm: FftNorm,
    ) -> Result<Array> {
        let op = t.name();
        let axis = normalize_axis(op, axis, self.ndim())?;
        if t == Transform::Real {
            self.dtype().require_real(op)?;
        }
        self.require_known(op)?;
        if self.numblocks()[axis] > 1 {
            return Err(ArrayError::invalid(
                op,
                format!(
                    "transforms along an axis held in one block; axis {axis} has blocks {:?} (rechunk it with -1 there first)",
                    self.chunks().axis(axis)
                ),
            ));
        }
        let len = self.shape()[axis];
        let out_len = t.out_len(len, n);
        // The transform's own length: the input's span for complex and real-forward
        // transforms, the output's for the real inverse.
        let size = match t {
            Transform::RealInverse => out_len,
            _ => n.unwrap_or(len),
        };
        if size == 0 {
            return Err(ArrayError::invalid(
                op,
                format!("invalid number of data points ({size}) specified"),
            ));
        }
        let dtype = t.dtype(self.dtype());
        let mut shape = self.shape().to_vec();
        shape[axis] = out_len;
        let mut sizes = self.chunks().axes().to_vec();
        sizes[axis] = vec![out_len];
        let inverse = matches!(
            t,
            Transform::Complex { inverse: true } | Transform::RealInverse
        );
        let scale = norm.scale(size, inverse);
        let single = matches!(self.dtype(), DType::F32 | DType::C64);
        crate::from_blocks_op(
            op,
            &shape,
            ChunkSpec::Axes(sizes.into_iter().map(crate::AxisChunks::Sizes).collect()),
            dtype,
            &[self],
            Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
            crate::BlockOp::new(
                FFT,
                serde_json::json!({
                    "transform": t.name(), "axis": axis, "size": size, "out_len": out_len,
                    "scale": crate::spec::float_text(scale), "single": single,
                    "dtype": dtype.name(),
                }),
            ),
        )
    }
}

/// The transforms' block function, one of floe-array's own (see [`crate::BlockOp`]).
pub(crate) const FFT: &str = "array.fft";

/// Every lane of a block transformed (see [`Array::fft`] and the others).
pub(crate) fn open_fft(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(FFT, params);
    let t = match p.str("transform")? {
        "fft" => Transform::Complex { inverse: false },
        "ifft" => Transform::Complex { inverse: true },
        "rfft" => Transform::Real,
        "irfft" => Transform::RealInverse,
        _ => return Err(p.bad("transform")),
    };
    let (axis, size, out_len) = (p.usize("axis")?, p.usize("size")?, p.usize("out_len")?);
    let (scale, single, dtype) = (p.f64("scale")?, p.bool("single")?, p.dtype("dtype")?);
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        let [x] = b else {
            return Err(TaskError::msg(format!(
                "{}: reads one block, given {}",
                t.name(),
                b.len()
            )));
        };
        // The transform's length follows the output block (checked against the largest
        // block a task may describe) before anything is allocated for it.
        if info.shape.get(axis) != Some(&out_len) || size > 2 * out_len.max(1) {
            return Err(TaskError::msg(format!(
                "{}: a transform of {size} points into {out_len} for a block of shape {:?}",
                t.name(),
                info.shape
            )));
        }
        if axis >= x.shape().len() {
            return Err(TaskError::msg(format!(
                "{}: no axis {axis} in a block of {} axes",
                t.name(),
                x.shape().len()
            )));
        }
        let out = if single {
            lanes::<f32>(t, x, axis, size, out_len, scale as f32)?
        } else {
            lanes::<f64>(t, x, axis, size, out_len, scale)?
        };
        Ok(out.astype(dtype))
    }))
}

/// Transforms every lane of `block` along `axis` into a block of `out_len` along it.
fn lanes<T>(
    t: Transform,
    block: &DynArray,
    axis: usize,
    size: usize,
    out_len: usize,
    scale: T,
) -> Result<DynArray, TaskError>
where
    T: FftNum + num_traits::Float + crate::ArrayElement,
    Complex<T>: crate::ArrayElement,
{
    let mut shape = block.shape().to_vec();
    shape[axis] = out_len;
    let zero = <T as num_traits::Zero>::zero();
    let c0 = Complex::new(zero, zero);
    // Each lane is copied into a contiguous buffer (cropped or zero-padded to the transform's
    // length), transformed in place and written out scaled.
    let fail =
        |e: realfft::FftError| TaskError::msg(format!("internal error in the transform: {e}"));
    Ok(match t {
        Transform::Complex { inverse } => {
            let mut planner = FftPlanner::<T>::new();
            let fft = if inverse {
                planner.plan_fft_inverse(size)
            } else {
                planner.plan_fft_forward(size)
            };
            let mut out = ArrayD::from_elem(IxDyn(&shape), c0);
            // Real lanes are read as they are: no complex copy of the whole block first.
            if block.dtype().is_complex() {
                let input = crate::BlockRef::new(block).typed::<Complex<T>>();
                complex_lanes(&*fft, input.view(), out.view_mut(), axis, scale, |z| z.nc());
            } else {
                let input = crate::BlockRef::new(block).typed::<T>();
                complex_lanes(&*fft, input.view(), out.view_mut(), axis, scale, |v| {
                    num_complex::Complex::new(v, zero)
                });
            }
            <Complex<T> as crate::ArrayElement>::wrap(out)
        }
        Transform::Real => {
            let input = crate::BlockRef::new(block).typed::<T>();
            let r2c = realfft::RealFftPlanner::<T>::new().plan_fft_forward(size);
            let mut buf = r2c.make_input_vec();
            let mut spectrum = r2c.make_output_vec();
            let mut scratch = r2c.make_scratch_vec();
            let mut out = ArrayD::from_elem(IxDyn(&shape), c0);
            let mut status = Ok(());
            Zip::from(input.lanes(Axis(axis)))
                .and(out.lanes_mut(Axis(axis)))
                .for_each(|x, mut y| {
                    for (k, v) in buf.iter_mut().enumerate() {
                        *v = x.get(k).copied().unwrap_or(zero);
                    }
                    if let Err(e) = r2c.process_with_scratch(&mut buf, &mut spectrum, &mut scratch)
                    {
                        status = Err(e);
                    }
                    for (v, z) in y.iter_mut().zip(&spectrum) {
                        *v = Complex::new(z.re * scale, z.im * scale);
                    }
                });
            status.map_err(fail)?;
            <Complex<T> as crate::ArrayElement>::wrap(out)
        }
        Transform::RealInverse => {
            let input = crate::BlockRef::new(block).typed::<Complex<T>>();
            let c2r = realfft::RealFftPlanner::<T>::new().plan_fft_inverse(size);
            let mut spectrum = c2r.make_input_vec();
            let mut buf = c2r.make_output_vec();
            let mut scratch = c2r.make_scratch_vec();
            let mut out = ArrayD::from_elem(IxDyn(&shape), zero);
            let mut status = Ok(());
            Zip::from(input.lanes(Axis(axis)))
                .and(out.lanes_mut(Axis(axis)))
                .for_each(|x, mut y| {
                    for (k, v) in spectrum.iter_mut().enumerate() {
                        *v = x.get(k).map_or(c0, |z| *z).nc();
                    }
                    // A real signal's spectrum has real zero (and Nyquist) frequencies: their
                    // imaginary parts are ignored, as NumPy ignores them.
                    spectrum[0].im = zero;
                    if size.is_multiple_of(2) {
                        spectrum[size / 2].im = zero;
                    }
                    if let Err(e) = c2r.process_with_scratch(&mut spectrum, &mut buf, &mut scratch)
                    {
                        status = Err(e);
                    }
                    for (v, r) in y.iter_mut().zip(&buf) {
                        *v = *r * scale;
                    }
                });
            status.map_err(fail)?;
            <T as crate::ArrayElement>::wrap(out)
        }
    })
}

/// Complex transforms of the lanes of `input` along `axis` into `out`, each lane converted
/// by `to`, cropped or zero-padded to the transform's length.
fn complex_lanes<T, E: Copy>(
    fft: &dyn rustfft::Fft<T>,
    input: ndarray::ArrayViewD<'_, E>,
    mut out: ndarray::ArrayViewMutD<'_, Complex<T>>,
    axis: usize,
    scale: T,
    to: impl Fn(E) -> num_complex::Complex<T>,
) where
    T: FftNum + num_traits::Float,
{
    let zero = num_complex::Complex::new(
        <T as num_traits::Zero>::zero(),
        <T as num_traits::Zero>::zero(),
    );
    let mut buf = vec![zero; fft.len()];
    let mut scratch = vec![zero; fft.get_inplace_scratch_len()];
    Zip::from(input.lanes(Axis(axis)))
        .and(out.lanes_mut(Axis(axis)))
        .for_each(|x, mut y| {
            for (k, v) in buf.iter_mut().enumerate() {
                *v = x.get(k).map_or(zero, |e| to(*e));
            }
            fft.process_with_scratch(&mut buf, &mut scratch);
            for (v, z) in y.iter_mut().zip(&buf) {
                *v = Complex::new(z.re * scale, z.im * scale);
            }
        });
}

/// The sample frequencies of an `n`-point transform with sample spacing `d` (NumPy's
/// `fft.fftfreq`): `[0, 1, …, ⌈n/2⌉ - 1, -⌊n/2⌋, …, -1] / (d·n)`, `float64`.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] if `n` is 0 or `d` is 0 or not finite; bad `chunks`.
///
/// # Examples
///
/// ```
/// let f = floe_array::fftfreq(4, 0.5, 2)?;
/// assert_eq!(f.shape(), &[4]); // [0, 0.5, -1, -0.5] once computed
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn fftfreq(n: usize, d: f64, chunks: impl Into<ChunkSpec>) -> Result<Array> {
    freq("fftfreq", n, true, d, chunks)
}

/// The non-negative sample frequencies of an `n`-point real transform (NumPy's
/// `fft.rfftfreq`): `[0, 1, …, ⌊n/2⌋] / (d·n)`, `float64`.
///
/// # Errors
///
/// As [`fftfreq`].
pub fn rfftfreq(n: usize, d: f64, chunks: impl Into<ChunkSpec>) -> Result<Array> {
    freq("rfftfreq", n, false, d, chunks)
}

fn freq(
    op: &'static str,
    n: usize,
    full: bool,
    d: f64,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array> {
    if n == 0 {
        return Err(ArrayError::invalid(op, "n must be positive"));
    }
    if d == 0.0 || !d.is_finite() {
        return Err(ArrayError::invalid(
            op,
            format!("the sample spacing d must be a finite non-zero number, got {d}"),
        ));
    }
    let step = 1.0 / (d * n as f64);
    let len = if full { n } else { n / 2 + 1 };
    crate::from_blocks_op(
        op,
        &[len],
        chunks,
        DType::F64,
        &[],
        Arc::new(|_: &[usize]| Vec::new()),
        crate::BlockOp::new(
            FREQ,
            serde_json::json!({"n": n, "step": crate::spec::float_text(step), "full": full}),
        ),
    )
}

/// `fftfreq`'s and `rfftfreq`'s block function, one of floe-array's own (see
/// [`crate::BlockOp`]): a block of the sample frequencies, from its offset.
pub(crate) const FREQ: &str = "array.fftfreq";

pub(crate) fn open_freq(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(FREQ, params);
    let (n, step, full) = (p.usize("n")?, p.f64("step")?, p.bool("full")?);
    Ok(Arc::new(move |_: &[&DynArray], b: &BlockInfo| {
        let (Some(&offset), 1) = (b.offset.first(), b.shape.len()) else {
            return Err(TaskError::msg(format!(
                "{FREQ}: a block of shape {:?}",
                b.shape
            )));
        };
        Ok(DynArray::from(ArrayD::from_shape_fn(
            IxDyn(&b.shape),
            |i| {
                let k = offset + i[0];
                // Past the middle, a full spectrum's frequencies are negative.
                let k = if !full || k < n.div_ceil(2) {
                    k as f64
                } else {
                    k as f64 - n as f64
                };
                k * step
            },
        )))
    }))
}

impl Array {
    /// The zero frequency moved to the middle of `axes` (default: every axis): each axis
    /// rolled by half its length (NumPy's `fft.fftshift`).
    ///
    /// # Errors
    ///
    /// [`ArrayError::AxisOutOfRange`].
    pub fn fftshift(&self, axes: Option<&[isize]>) -> Result<Array> {
        self.shift_half("fftshift", axes, false)
    }

    /// The inverse of [`Array::fftshift`] (they differ for odd lengths).
    ///
    /// # Errors
    ///
    /// As [`Array::fftshift`].
    pub fn ifftshift(&self, axes: Option<&[isize]>) -> Result<Array> {
        self.shift_half("ifftshift", axes, true)
    }

    fn shift_half(&self, op: &'static str, axes: Option<&[isize]>, inverse: bool) -> Result<Array> {
        let axes: Vec<isize> =
            axes.map_or_else(|| (0..self.ndim() as isize).collect(), <[isize]>::to_vec);
        let mut out = self.clone();
        for a in axes {
            let a = normalize_axis(op, a, self.ndim())?;
            let n = self.shape()[a];
            // Rolling right by s: the last s elements come first.
            let s = if inverse { n - n / 2 } else { n / 2 };
            if s == 0 || s == n {
                continue;
            }
            let cut = (n - s) as isize;
            let take = |start: Option<isize>, stop: Option<isize>| {
                let mut idx = vec![
                    Idx::Slice {
                        start: None,
                        stop: None,
                        step: 1
                    };
                    self.ndim()
                ];
                idx[a] = Idx::Slice {
                    start,
                    stop,
                    step: 1,
                };
                out.slice(&idx)
            };
            out = crate::concatenate(
                &[take(Some(cut), None)?, take(None, Some(cut))?],
                a as isize,
            )?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use num_complex::Complex as Nc;

    use super::*;

    fn naive_dft(x: &[Nc<f64>], inverse: bool) -> Vec<Nc<f64>> {
        let n = x.len();
        let sign = if inverse { 1.0 } else { -1.0 };
        (0..n)
            .map(|k| {
                x.iter()
                    .enumerate()
                    .fold(Nc::new(0.0, 0.0), |acc, (j, &v)| {
                        let angle = sign * 2.0 * std::f64::consts::PI * (j * k) as f64 / n as f64;
                        acc + v * Nc::new(angle.cos(), angle.sin())
                    })
            })
            .collect()
    }

    #[test]
    fn lanes_match_a_naive_transform() {
        let x: Vec<Complex<f64>> = (0..7)
            .map(|i| Complex::new(i as f64 * 0.5 - 1.0, (i * i) as f64 % 3.0))
            .collect();
        let block = DynArray::from(ArrayD::from_shape_vec(IxDyn(&[7]), x.clone()).unwrap());
        let out =
            lanes::<f64>(Transform::Complex { inverse: false }, &block, 0, 7, 7, 1.0).unwrap();
        let want = naive_dft(&x.iter().map(|z| z.nc()).collect::<Vec<_>>(), false);
        for (a, b) in out.into_c128().unwrap().iter().zip(want) {
            assert!((a.re - b.re).abs() < 1e-12 && (a.im - b.im).abs() < 1e-12);
        }
    }

    #[test]
    fn real_inverse_rebuilds_the_signal() {
        let x: Vec<f64> = (0..6).map(|i| (i as f64).sin()).collect();
        let block = DynArray::from(ArrayD::from_shape_vec(IxDyn(&[6]), x.clone()).unwrap());
        let spec = lanes::<f64>(Transform::Real, &block, 0, 6, 4, 1.0).unwrap();
        let back = lanes::<f64>(Transform::RealInverse, &spec, 0, 6, 6, 1.0 / 6.0).unwrap();
        for (a, b) in back.into_f64().unwrap().iter().zip(&x) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}
