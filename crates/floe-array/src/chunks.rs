//! Block sizes along each axis, and the chunk specifications users write.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{ArrayError, DType, Result};

/// The default block size for `"auto"` chunks (Dask's `array.chunk-size`); see
/// [`auto_chunk_bytes`] for the size in effect.
pub const AUTO_CHUNK_BYTES: usize = 128 << 20;

static AUTO_BYTES: AtomicUsize = AtomicUsize::new(AUTO_CHUNK_BYTES);

/// The block size `"auto"` chunks aim at now: [`AUTO_CHUNK_BYTES`] unless
/// [`set_auto_chunk_bytes`] changed it (`floe::config::set` does, to fit the memory budget).
/// Arrays keep the blocks they were made with; the setting affects arrays made later.
///
/// # Examples
///
/// ```
/// use floe_array::{Chunks, DType, auto_chunk_bytes, set_auto_chunk_bytes};
///
/// set_auto_chunk_bytes(Some(8 << 20));
/// let c = Chunks::from_spec(&[10_000, 10_000], "auto", DType::F64)?;
/// assert!(c.max_block().iter().product::<usize>() * 8 <= auto_chunk_bytes());
/// set_auto_chunk_bytes(None);
/// assert_eq!(auto_chunk_bytes(), floe_array::AUTO_CHUNK_BYTES);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn auto_chunk_bytes() -> usize {
    AUTO_BYTES.load(Ordering::Relaxed)
}

/// Sets the size [`auto_chunk_bytes`] reports (at least one byte); `None` restores
/// [`AUTO_CHUNK_BYTES`].
pub fn set_auto_chunk_bytes(bytes: Option<usize>) {
    AUTO_BYTES.store(bytes.unwrap_or(AUTO_CHUNK_BYTES).max(1), Ordering::Relaxed);
}

/// The block sizes along each axis of an array. Every axis has at least one block; a
/// zero-length axis has one block of size 0.
///
/// # Examples
///
/// ```
/// use floe_array::{Chunks, DType};
///
/// let c = Chunks::from_spec(&[10, 7], 4, DType::F64)?;
/// assert_eq!(c.axis(0), &[4, 4, 2]);
/// assert_eq!(c.axis(1), &[4, 3]);
/// assert_eq!(c.numblocks(), vec![3, 2]);
/// assert_eq!(c.block_shape(&[2, 1]), vec![2, 3]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Chunks(Vec<Vec<usize>>);

impl Chunks {
    /// Explicit block sizes per axis, checked against `shape`.
    ///
    /// # Errors
    ///
    /// [`ArrayError::BadChunks`] if an axis' sizes do not sum to its length, or a block of a
    /// non-empty axis is empty.
    pub fn new(shape: &[usize], sizes: Vec<Vec<usize>>) -> Result<Chunks> {
        let bad = |reason: String| ArrayError::BadChunks {
            spec: format!("{sizes:?}"),
            shape: shape.to_vec(),
            reason,
        };
        if sizes.len() != shape.len() {
            return Err(bad(format!(
                "{} axes of chunks for {} dimensions",
                sizes.len(),
                shape.len()
            )));
        }
        for (axis, (s, &n)) in sizes.iter().zip(shape).enumerate() {
            if s.is_empty() {
                return Err(bad(format!("axis {axis} has no blocks")));
            }
            if s.iter().sum::<usize>() != n {
                return Err(bad(format!(
                    "axis {axis}: blocks sum to {}, not {n}",
                    s.iter().sum::<usize>()
                )));
            }
            if n > 0 && s.contains(&0) {
                return Err(bad(format!("axis {axis} has an empty block")));
            }
            if n == 0 && s.len() != 1 {
                return Err(bad(format!("axis {axis} is empty and must have one block")));
            }
        }
        Ok(Chunks(sizes))
    }

    /// Block sizes as given, unchecked: measured sizes, which may include empty blocks.
    pub(crate) fn unchecked(sizes: Vec<Vec<usize>>) -> Chunks {
        Chunks(sizes)
    }

    /// Resolves a user's chunk specification for an array of `shape` and `dtype`.
    ///
    /// # Errors
    ///
    /// [`ArrayError::BadChunks`] naming the specification and what is wrong with it.
    pub fn from_spec(shape: &[usize], spec: impl Into<ChunkSpec>, dtype: DType) -> Result<Chunks> {
        spec.into().resolve(shape, dtype)
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.0.len()
    }

    /// The block sizes along `axis`.
    ///
    /// # Panics
    ///
    /// If `axis >= ndim`.
    pub fn axis(&self, axis: usize) -> &[usize] {
        &self.0[axis]
    }

    /// The block sizes of every axis.
    pub fn axes(&self) -> &[Vec<usize>] {
        &self.0
    }

    /// The number of blocks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        self.0.iter().map(Vec::len).collect()
    }

    /// The total number of blocks.
    pub fn nblocks(&self) -> usize {
        self.0.iter().map(Vec::len).product()
    }

    /// The shape of the block at `index`.
    pub fn block_shape(&self, index: &[usize]) -> Vec<usize> {
        index.iter().zip(&self.0).map(|(&i, c)| c[i]).collect()
    }

    /// These chunks as explicit per-axis rules, to change some axes and keep the others.
    pub fn rules(&self) -> Vec<AxisChunks> {
        self.0
            .iter()
            .map(|c| AxisChunks::Sizes(c.clone()))
            .collect()
    }

    /// The offset of each block's first element along `axis`, plus the axis' length at
    /// the end (`len + 1` entries).
    pub fn offsets(&self, axis: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.0[axis].len() + 1);
        let mut acc = 0;
        out.push(0);
        for c in &self.0[axis] {
            acc += c;
            out.push(acc);
        }
        out
    }

    /// The largest block along each axis.
    pub fn max_block(&self) -> Vec<usize> {
        self.0
            .iter()
            .map(|c| c.iter().copied().max().unwrap_or(0))
            .collect()
    }

    /// Every block index, in row-major order.
    pub fn block_indices(&self) -> impl Iterator<Item = Vec<usize>> + use<> {
        let nb = self.numblocks();
        let total: usize = nb.iter().product();
        (0..total).map(move |mut flat| {
            let mut idx = vec![0; nb.len()];
            for axis in (0..nb.len()).rev() {
                idx[axis] = flat % nb[axis];
                flat /= nb[axis];
            }
            idx
        })
    }
}

impl fmt::Display for Chunks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, axis) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str("(")?;
            for (j, c) in axis.iter().enumerate() {
                if j > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{c}")?;
            }
            if axis.len() == 1 {
                f.write_str(",")?;
            }
            f.write_str(")")?;
        }
        if self.0.len() == 1 {
            f.write_str(",")?;
        }
        f.write_str(")")
    }
}

/// Splits an axis of length `n` into blocks of `b` (the last may be smaller).
pub(crate) fn split_axis(n: usize, b: usize) -> Vec<usize> {
    if n == 0 {
        return vec![0];
    }
    let mut out = vec![b; n / b];
    if !n.is_multiple_of(b) {
        out.push(n % b);
    }
    out
}

/// How one axis is to be split.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisChunks {
    /// Blocks of this size (the last may be smaller).
    Size(usize),
    /// One block spanning the axis (NumPy users write `-1`).
    Whole,
    /// Chosen with the other `Auto` axes to make near-square blocks of the byte limit.
    Auto,
    /// Explicit sizes.
    Sizes(Vec<usize>),
}

/// A chunk specification as users write it: `4` (every axis), `[4, 200, 200]`,
/// `[-1, 100]` (`-1`: whole axis), `"auto"`, `"64 MiB"`, or explicit sizes.
#[derive(Clone, Debug, PartialEq)]
pub enum ChunkSpec {
    /// Near-square blocks of [`auto_chunk_bytes`].
    Auto,
    /// Near-square blocks of about this many bytes.
    Bytes(usize),
    /// Blocks of this size along every axis.
    Every(usize),
    /// Every axis in one block (Dask's `chunks=-1`).
    Whole,
    /// One rule per axis.
    Axes(Vec<AxisChunks>),
    /// A specification in text (`"auto"`, `"128 MiB"`, `"10MB"`), parsed when resolved.
    Text(String),
}

impl From<usize> for ChunkSpec {
    fn from(b: usize) -> Self {
        ChunkSpec::Every(b)
    }
}

impl From<&[usize]> for ChunkSpec {
    fn from(b: &[usize]) -> Self {
        ChunkSpec::Axes(b.iter().map(|&s| AxisChunks::Size(s)).collect())
    }
}

impl From<Vec<usize>> for ChunkSpec {
    fn from(b: Vec<usize>) -> Self {
        ChunkSpec::from(b.as_slice())
    }
}

impl<const N: usize> From<[usize; N]> for ChunkSpec {
    fn from(b: [usize; N]) -> Self {
        ChunkSpec::from(b.as_slice())
    }
}

impl From<&[isize]> for ChunkSpec {
    fn from(b: &[isize]) -> Self {
        ChunkSpec::Axes(
            b.iter()
                .map(|&s| {
                    if s < 0 {
                        AxisChunks::Whole
                    } else {
                        AxisChunks::Size(s as usize)
                    }
                })
                .collect(),
        )
    }
}

impl<const N: usize> From<[isize; N]> for ChunkSpec {
    fn from(b: [isize; N]) -> Self {
        ChunkSpec::from(b.as_slice())
    }
}

impl From<Vec<Vec<usize>>> for ChunkSpec {
    fn from(sizes: Vec<Vec<usize>>) -> Self {
        ChunkSpec::Axes(sizes.into_iter().map(AxisChunks::Sizes).collect())
    }
}

impl From<Vec<AxisChunks>> for ChunkSpec {
    fn from(rules: Vec<AxisChunks>) -> Self {
        ChunkSpec::Axes(rules)
    }
}

impl From<&Chunks> for ChunkSpec {
    fn from(c: &Chunks) -> Self {
        ChunkSpec::from(c.0.clone())
    }
}

impl From<&str> for ChunkSpec {
    fn from(s: &str) -> Self {
        ChunkSpec::Text(s.to_owned())
    }
}

/// Parses `"128 MiB"`, `"10MB"`, `"1e6"`, `"4096 B"` into bytes.
pub fn parse_bytes(s: &str) -> Option<usize> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.trim().parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0_f64.powi(4),
        _ => return None,
    };
    let bytes = num * mult;
    (bytes.is_finite() && bytes >= 1.0).then_some(bytes as usize)
}

impl ChunkSpec {
    /// Resolves this specification for `shape` and `dtype`.
    ///
    /// # Errors
    ///
    /// [`ArrayError::BadChunks`] naming the specification and the problem.
    pub fn resolve(&self, shape: &[usize], dtype: DType) -> Result<Chunks> {
        self.resolve_with(shape, dtype, None)
    }

    /// Resolves this specification for data stored in chunks of `stored` (a Zarr array's
    /// or a chunked NetCDF variable's grid): the sizes it leaves to floe (`"auto"`, a byte
    /// size, or the axes marked auto in a per-axis specification) are whole multiples of
    /// the stored chunks, at least one, so that no stored chunk — which must be read and
    /// decompressed whole — is split between blocks. Sizes given explicitly are kept.
    ///
    /// # Errors
    ///
    /// As [`ChunkSpec::resolve`]; [`ArrayError::BadChunks`] if `stored` has another length
    /// than `shape` or a zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{ChunkSpec, DType};
    /// // 160 MB stored chunks are read whole even where "auto" (128 MiB) would split them.
    /// let c = ChunkSpec::Auto.resolve_aligned(&[25000, 20000], DType::F64, &[5000, 4000])?;
    /// assert_eq!(c.max_block(), vec![5000, 4000]);
    /// // Small stored chunks (800 KB) are grouped into near-square blocks of about the size
    /// // asked for: 6 × 6 of them, 28.8 MB.
    /// let c = ChunkSpec::from("32MB").resolve_aligned(&[40000, 1000], DType::F64, &[1000, 100])?;
    /// assert_eq!(c.max_block(), vec![6000, 600]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn resolve_aligned(
        &self,
        shape: &[usize],
        dtype: DType,
        stored: &[usize],
    ) -> Result<Chunks> {
        if stored.len() != shape.len() || stored.contains(&0) {
            return Err(ArrayError::BadChunks {
                spec: self.describe(),
                shape: shape.to_vec(),
                reason: format!("stored chunks {stored:?} do not fit the shape"),
            });
        }
        self.resolve_with(shape, dtype, Some(stored))
    }

    fn resolve_with(
        &self,
        shape: &[usize],
        dtype: DType,
        stored: Option<&[usize]>,
    ) -> Result<Chunks> {
        let bad = |reason: &str| ArrayError::BadChunks {
            spec: self.describe(),
            shape: shape.to_vec(),
            reason: reason.to_owned(),
        };
        let rules: Vec<AxisChunks> = match self {
            ChunkSpec::Auto => vec![AxisChunks::Auto; shape.len()],
            ChunkSpec::Bytes(_) => vec![AxisChunks::Auto; shape.len()],
            ChunkSpec::Text(t) => {
                let limit = if t.trim() == "auto" {
                    auto_chunk_bytes()
                } else {
                    parse_bytes(t).ok_or_else(|| {
                        bad("expected \"auto\" or a byte size such as \"128 MiB\"")
                    })?
                };
                return ChunkSpec::Bytes(limit).resolve_with(shape, dtype, stored);
            }
            ChunkSpec::Every(b) => vec![AxisChunks::Size(*b); shape.len()],
            ChunkSpec::Whole => vec![AxisChunks::Whole; shape.len()],
            ChunkSpec::Axes(rules) => rules.clone(),
        };
        if rules.len() != shape.len() {
            return Err(bad(&format!(
                "{} axes given for {} dimensions",
                rules.len(),
                shape.len()
            )));
        }
        let limit = match self {
            ChunkSpec::Bytes(b) => *b,
            _ => auto_chunk_bytes(),
        };
        let auto = match stored {
            None => auto_sizes(shape, &rules, dtype.itemsize(), limit),
            Some(stored) => {
                // Auto sizes on the grid of stored chunks: an axis counts chunks, an element
                // is a whole stored chunk of the auto axes.
                let auto_axes = || (0..shape.len()).filter(|&a| rules[a] == AxisChunks::Auto);
                let grid: Vec<usize> = (0..shape.len())
                    .map(|a| match rules[a] {
                        AxisChunks::Auto => shape[a].div_ceil(stored[a]),
                        _ => shape[a],
                    })
                    .collect();
                let unit = auto_axes().fold(dtype.itemsize(), |u, a| u.saturating_mul(stored[a]));
                let mut sizes = auto_sizes(&grid, &rules, unit, limit);
                for a in auto_axes() {
                    sizes[a] = sizes[a].saturating_mul(stored[a]).min(shape[a].max(1));
                }
                sizes
            }
        };
        let mut sizes = Vec::with_capacity(shape.len());
        for (axis, (rule, &n)) in rules.iter().zip(shape).enumerate() {
            sizes.push(match rule {
                AxisChunks::Size(0) => {
                    return Err(bad(&format!("axis {axis}: block size must be at least 1")));
                }
                AxisChunks::Size(b) => split_axis(n, (*b).min(n.max(1))),
                AxisChunks::Whole => split_axis(n, n.max(1)),
                AxisChunks::Auto => split_axis(n, auto[axis]),
                AxisChunks::Sizes(s) => s.clone(),
            });
        }
        Chunks::new(shape, sizes).map_err(|e| match e {
            ArrayError::BadChunks { reason, .. } => bad(&reason),
            other => other,
        })
    }

    fn describe(&self) -> String {
        match self {
            ChunkSpec::Auto => "\"auto\"".into(),
            ChunkSpec::Bytes(b) => format!("{b} bytes"),
            ChunkSpec::Every(b) => format!("{b}"),
            ChunkSpec::Whole => "-1".into(),
            ChunkSpec::Text(t) => format!("{t:?}"),
            ChunkSpec::Axes(rules) => format!("{rules:?}"),
        }
    }
}

/// Near-square block sizes for the `Auto` axes, the others fixed, about `limit` bytes.
fn auto_sizes(shape: &[usize], rules: &[AxisChunks], itemsize: usize, limit: usize) -> Vec<usize> {
    let mut out: Vec<usize> = shape.iter().map(|&n| n.max(1)).collect();
    let fixed: f64 = rules
        .iter()
        .zip(shape)
        .map(|(r, &n)| match r {
            AxisChunks::Size(b) => (*b).min(n).max(1) as f64,
            AxisChunks::Whole => n.max(1) as f64,
            AxisChunks::Sizes(s) => s.iter().copied().max().unwrap_or(1).max(1) as f64,
            AxisChunks::Auto => 1.0,
        })
        .product();
    let mut budget = ((limit / itemsize.max(1)).max(1) as f64 / fixed).max(1.0);
    let mut open: Vec<usize> = (0..shape.len())
        .filter(|&a| rules[a] == AxisChunks::Auto)
        .collect();
    // Axes shorter than the ideal side take their whole length; the rest share what is left.
    loop {
        if open.is_empty() {
            break;
        }
        let side = budget.powf(1.0 / open.len() as f64);
        let (short, long): (Vec<usize>, Vec<usize>) =
            open.iter().partition(|&&a| (shape[a] as f64) <= side);
        if short.is_empty() {
            for a in long {
                out[a] = (side.floor() as usize).max(1);
            }
            break;
        }
        for a in short {
            out[a] = shape[a].max(1);
            budget = (budget / shape[a].max(1) as f64).max(1.0);
        }
        open = long;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_as_users_write_them() {
        let shape = [1464, 721, 1440];
        let c = Chunks::from_spec(&shape, [4_usize, 200, 200], DType::F32).unwrap();
        assert_eq!(c.numblocks(), vec![366, 4, 8]);
        assert_eq!(c.axis(1), &[200, 200, 200, 121]);
        let c = Chunks::from_spec(&shape, [4_isize, -1, -1], DType::F32).unwrap();
        assert_eq!(c.numblocks(), vec![366, 1, 1]);
        let c = Chunks::from_spec(&[10, 10], vec![vec![3, 7], vec![10]], DType::F64).unwrap();
        assert_eq!(c.axis(0), &[3, 7]);
        assert_eq!(c.to_string(), "((3, 7), (10,))");
        let c = Chunks::from_spec(&shape, ChunkSpec::Whole, DType::F32).unwrap();
        assert_eq!(c.numblocks(), vec![1, 1, 1]);
    }

    #[test]
    fn auto_chunks_are_near_square_and_within_the_limit() {
        let c = Chunks::from_spec(&[20000, 20000], "auto", DType::F64).unwrap();
        let b = c.max_block();
        assert!(b[0] * b[1] * 8 <= AUTO_CHUNK_BYTES);
        assert!(b[0] * b[1] * 8 > AUTO_CHUNK_BYTES / 2, "{b:?}");
        assert_eq!(b[0], b[1]);
        let c = Chunks::from_spec(&[4, 721, 1440], "1 MiB", DType::F32).unwrap();
        let b = c.max_block();
        assert!(b.iter().product::<usize>() * 4 <= 1 << 20, "{b:?}");
        assert_eq!(b[0], 4, "a short axis is taken whole");
    }

    #[test]
    fn bad_specs_name_the_problem() {
        let e = Chunks::from_spec(&[10], vec![vec![3, 3]], DType::F64).unwrap_err();
        assert_eq!(
            e.to_string(),
            "chunks [Sizes([3, 3])] do not fit shape [10]: axis 0: blocks sum to 6, not 10"
        );
        let e = Chunks::from_spec(&[10, 4], [5_usize], DType::F64).unwrap_err();
        assert!(
            e.to_string().contains("1 axes given for 2 dimensions"),
            "{e}"
        );
        let e = Chunks::from_spec(&[10], "lots", DType::F64).unwrap_err();
        assert!(e.to_string().contains("\"lots\""), "{e}");
        let e = Chunks::from_spec(&[10], [0_usize], DType::F64).unwrap_err();
        assert!(e.to_string().contains("at least 1"), "{e}");
    }

    #[test]
    fn empty_axes_have_one_empty_block() {
        let c = Chunks::from_spec(&[0, 5], 2, DType::F64).unwrap();
        assert_eq!(c.axis(0), &[0]);
        assert_eq!(c.nblocks(), 3);
        assert_eq!(parse_bytes("128 MiB"), Some(128 << 20));
        assert_eq!(parse_bytes("10MB"), Some(10_000_000));
    }
}
