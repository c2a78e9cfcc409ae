//! Cumulative sums and products along an axis, as blocked scans.
//!
//! Block `k` along the scanned axis needs everything before it only through one slice: the
//! *carry*, the combined totals of blocks `0..k`. So a scan lowers to three kinds of task
//! per position across the other axes:
//!
//! - `total k`: block `k` of the input folded along the axis (a slice, keeping the axis);
//! - `carry k`: `carry k-1` combined with `total k-1` — a chain of small slices;
//! - block `k` of the result: the block's own running scan, started from `carry k`.
//!
//! Every input block is read by its total and by its result block, which the order runs
//! back to back, and nothing the size of a block is held between them: memory stays that
//! of one block per worker however long the axis. Within a block the scan runs in element
//! order, as NumPy's; across blocks the carry adds the earlier blocks' totals, so floating
//! point results agree with NumPy's to rounding.

use std::sync::Arc;

use floe_graph::{Key, TaskError, TaskId, Value};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::error::normalize_axis;
use crate::expr::Expr;
use crate::kernels::elementwise::Ops;
use crate::lower::{Lowering, MemoKey, block_of, block_value};
use crate::reduction::as_u32;
use crate::{Array, ArrayElement, Chunks, DType, DynArray, Result, with_dtype};

/// A cumulative operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanOp {
    /// Running sum (`cumsum`): `int64`/`uint64` for integers and booleans, as NumPy.
    Sum,
    /// Running product (`cumprod`), with the same dtypes as [`ScanOp::Sum`].
    Prod,
    /// Running sum treating NaN as zero (`nancumsum`).
    NanSum,
    /// Running product treating NaN as one (`nancumprod`).
    NanProd,
}

impl ScanOp {
    /// NumPy's name.
    pub fn name(self) -> &'static str {
        match self {
            ScanOp::Sum => "cumsum",
            ScanOp::Prod => "cumprod",
            ScanOp::NanSum => "nancumsum",
            ScanOp::NanProd => "nancumprod",
        }
    }

    /// The operation NumPy calls `name` (`cumsum`, `cumprod`, `nancumsum`, `nancumprod`).
    ///
    /// ```
    /// use floe_array::ScanOp;
    /// assert_eq!(ScanOp::from_numpy_name("nancumsum"), Some(ScanOp::NanSum));
    /// assert_eq!(ScanOp::from_numpy_name("cummax"), None);
    /// ```
    pub fn from_numpy_name(name: &str) -> Option<ScanOp> {
        [ScanOp::Sum, ScanOp::Prod, ScanOp::NanSum, ScanOp::NanProd]
            .into_iter()
            .find(|op| op.name() == name)
    }

    /// The result's dtype for an input of `dtype`.
    pub fn result_dtype(self, dtype: DType) -> DType {
        dtype.sum_result()
    }

    fn is_prod(self) -> bool {
        matches!(self, ScanOp::Prod | ScanOp::NanProd)
    }
}

#[derive(Clone)]
pub(crate) struct ScanPlan {
    pub(crate) input: Array,
    axis: usize,
    op: ScanOp,
}

impl Array {
    /// The cumulative `op` along `axis` (negative counts from the end), in the input's
    /// blocks.
    ///
    /// # Errors
    ///
    /// [`ArrayError::Invalid`] if `axis` is out of range (a 0-d array has none).
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{DType, ScanOp};
    ///
    /// let x = floe_array::arange(1.0, 7.0, 1.0, 2, DType::I64)?;
    /// let y = x.scan(ScanOp::Sum, 0)?;
    /// assert_eq!(y.dtype(), DType::I64);
    /// assert_eq!(y.chunks(), x.chunks());
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn scan(&self, op: ScanOp, axis: isize) -> Result<Array> {
        let axis = normalize_axis(op.name(), axis, self.ndim())?;
        Ok(Array::from_node(
            op.name(),
            self.shape().to_vec(),
            op.result_dtype(self.dtype()),
            self.chunks().clone(),
            Expr::Scan(Box::new(ScanPlan {
                input: self.clone(),
                axis,
                op,
            })),
        ))
    }

    /// Cumulative sum along `axis` (NumPy's `cumsum` with an axis).
    ///
    /// # Errors
    ///
    /// As [`Array::scan`].
    pub fn cumsum(&self, axis: isize) -> Result<Array> {
        self.scan(ScanOp::Sum, axis)
    }

    /// Cumulative product along `axis`.
    ///
    /// # Errors
    ///
    /// As [`Array::scan`].
    pub fn cumprod(&self, axis: isize) -> Result<Array> {
        self.scan(ScanOp::Prod, axis)
    }

    /// Cumulative sum along `axis`, NaN counted as zero.
    ///
    /// # Errors
    ///
    /// As [`Array::scan`].
    pub fn nancumsum(&self, axis: isize) -> Result<Array> {
        self.scan(ScanOp::NanSum, axis)
    }

    /// Cumulative product along `axis`, NaN counted as one.
    ///
    /// # Errors
    ///
    /// As [`Array::scan`].
    pub fn nancumprod(&self, axis: isize) -> Result<Array> {
        self.scan(ScanOp::NanProd, axis)
    }
}

/// Memo levels of a scan's helper tasks (level 0 is the result's blocks).
const TOTAL: u32 = 1;
const CARRY: u32 = 2;

impl crate::lower::Plan for ScanPlan {
    fn inputs(&self) -> Vec<&Array> {
        vec![&self.input]
    }

    fn lower_block(
        &self,
        lowering: &mut Lowering<'_>,
        array: &Array,
        index: &[usize],
        key: Key,
        memo: MemoKey,
    ) -> Result<TaskId> {
        let x = lowering.block(&self.input, index)?;
        let carry = self.carry(lowering, array, index)?;
        let (op, axis, dtype) = (self.op, self.axis, array.dtype());
        let deps: Vec<TaskId> = std::iter::once(x).chain(carry).collect();
        let spec = lowering.spec_if_recording(|| {
            Some(crate::TaskSpec::Scan {
                op,
                axis,
                dtype,
                running: true,
            })
        });
        let id = lowering.add(
            memo,
            key,
            &deps,
            Arc::new(move |values: &[Value]| {
                let carry = values.get(1).map(block_of).transpose()?;
                scan_block(block_of(&values[0])?, carry, op, axis, dtype, true).map(block_value)
            }),
        )?;
        Ok(lowering.record(id, spec))
    }
}

impl ScanPlan {
    /// The carry into block `index`: `None` for the first block along the axis. Built
    /// first to last from the last one already lowered, so lowering never recurses along
    /// the axis (a year of hourly blocks is 8,760 links).
    fn carry(
        &self,
        lowering: &mut Lowering<'_>,
        array: &Array,
        index: &[usize],
    ) -> Result<Option<TaskId>> {
        let a = self.axis;
        let k = index[a];
        if k == 0 {
            return Ok(None);
        }
        let at = |j: usize| {
            let mut i = index.to_vec();
            i[a] = j;
            i
        };
        // The first carry is the first block's total; find the latest one already built.
        let mut j = k;
        while j > 1
            && lowering
                .lookup(&Lowering::memo_key(array, CARRY, &at(j)))
                .is_none()
        {
            j -= 1;
        }
        let mut carry = match lowering.lookup(&Lowering::memo_key(array, CARRY, &at(j))) {
            Some(id) => id,
            None => {
                let first = self.total(lowering, array, &at(0))?;
                lowering.alias(Lowering::memo_key(array, CARRY, &at(1)), first)
            }
        };
        let (op, dtype) = (self.op, array.dtype());
        for j in j + 1..=k {
            let total = self.total(lowering, array, &at(j - 1))?;
            let key = Key::new(&format!("{}-carry", op.name()), &as_u32(&at(j)));
            let spec =
                lowering.spec_if_recording(|| Some(crate::TaskSpec::ScanCarry { op, dtype }));
            carry = lowering.add(
                Lowering::memo_key(array, CARRY, &at(j)),
                key,
                &[carry, total],
                Arc::new(move |values: &[Value]| {
                    carry_block(block_of(&values[0])?, block_of(&values[1])?, op, dtype)
                        .map(block_value)
                }),
            )?;
            carry = lowering.record(carry, spec);
            let bytes = slice_bytes(array.chunks(), &at(j), a, dtype);
            lowering.hint_bytes(carry, bytes);
        }
        Ok(Some(carry))
    }

    /// The task folding input block `index` along the axis.
    fn total(&self, lowering: &mut Lowering<'_>, array: &Array, index: &[usize]) -> Result<TaskId> {
        let memo = Lowering::memo_key(array, TOTAL, index);
        if let Some(id) = lowering.lookup(&memo) {
            return Ok(id);
        }
        let x = lowering.block(&self.input, index)?;
        let (op, axis, dtype) = (self.op, self.axis, array.dtype());
        let key = Key::new(&format!("{}-total", op.name()), &as_u32(index));
        let spec = lowering.spec_if_recording(|| {
            Some(crate::TaskSpec::Scan {
                op,
                axis,
                dtype,
                running: false,
            })
        });
        let id = lowering.add(
            memo,
            key,
            &[x],
            Arc::new(move |values: &[Value]| {
                scan_block(block_of(&values[0])?, None, op, axis, dtype, false).map(block_value)
            }),
        )?;
        let id = lowering.record(id, spec);
        lowering.hint_bytes(id, slice_bytes(array.chunks(), index, axis, dtype));
        Ok(id)
    }
}

/// Block `x` scanned along `axis` in `dtype`, started from `carry` (a slice across the
/// axis, the totals of the blocks before it): every running value if `running`, else
/// only the block's total (the axis kept at length 1).
///
/// # Errors
///
/// A [`TaskError`] for an axis the block does not have or a carry of another shape than
/// the block's slice (a task read from elsewhere).
pub(crate) fn scan_block(
    x: &DynArray,
    carry: Option<&DynArray>,
    op: ScanOp,
    axis: usize,
    dtype: DType,
    running: bool,
) -> std::result::Result<DynArray, TaskError> {
    if axis >= x.shape().len() {
        return Err(TaskError::msg(format!(
            "a scan along axis {axis} of a block of shape {:?}",
            x.shape()
        )));
    }
    if let Some(c) = carry {
        let mut slice = x.shape().to_vec();
        slice[axis] = 1;
        if c.shape() != slice.as_slice() {
            return Err(TaskError::msg(format!(
                "a scan's carry of shape {:?} for a block of shape {:?} along axis {axis}",
                c.shape(),
                x.shape()
            )));
        }
    }
    let x = in_dtype(x, dtype);
    let carry = carry.map(|c| in_dtype(c, dtype));
    with_dtype!(dtype, T => {
        let x = T::view(&x).ok_or_else(wrong_dtype)?;
        let carry = carry.as_deref().map(|c| T::view(c).ok_or_else(wrong_dtype)).transpose()?;
        Ok(DynArray::from(run::<T>(x, axis, carry, op, running)))
    })
}

/// The carry into the next block: carry `c` combined with the total `t` of the block
/// after it.
///
/// # Errors
///
/// A [`TaskError`] for slices of other shapes or dtypes.
pub(crate) fn carry_block(
    c: &DynArray,
    t: &DynArray,
    op: ScanOp,
    dtype: DType,
) -> std::result::Result<DynArray, TaskError> {
    if c.shape() != t.shape() {
        return Err(TaskError::msg(format!(
            "a scan's carry of shape {:?} and total of shape {:?}",
            c.shape(),
            t.shape()
        )));
    }
    with_dtype!(dtype, T => {
        let c = T::view(c).ok_or_else(wrong_dtype)?;
        let t = T::view(t).ok_or_else(wrong_dtype)?;
        // The totals of the `nan` scans already skipped NaN: carries combine them plainly.
        let f = if op.is_prod() { T::mul } else { T::add };
        let out = ndarray::Zip::from(&c).and(&t).map_collect(|&a, &b| f(a, b));
        Ok(DynArray::from(out))
    })
}

/// The bytes of block `index`'s slice across `axis`.
fn slice_bytes(chunks: &Chunks, index: &[usize], axis: usize, dtype: DType) -> usize {
    let mut shape = chunks.block_shape(index);
    shape[axis] = 1;
    shape.iter().product::<usize>() * dtype.itemsize()
}

/// `b` as `dtype`: itself if it is, else converted (integers and booleans scan in 64 bits).
fn in_dtype(b: &DynArray, dtype: DType) -> std::borrow::Cow<'_, DynArray> {
    if b.dtype() == dtype {
        std::borrow::Cow::Borrowed(b)
    } else {
        std::borrow::Cow::Owned(with_dtype!(dtype, T => DynArray::from(b.to_typed::<T>())))
    }
}

fn wrong_dtype() -> TaskError {
    TaskError::msg("a scan's block or carry is not of the scan's dtype")
}

/// The scan of `x` along `axis` started from `carry` (a slice across the axis), element by
/// element in order: every running value if `all`, else only the last (the block's total,
/// keeping the axis with length 1).
fn run<T: Ops>(
    x: ArrayViewD<'_, T>,
    axis: usize,
    carry: Option<ArrayViewD<'_, T>>,
    op: ScanOp,
    all: bool,
) -> ArrayD<T> {
    // Each combination gets its own copy of the loops, with the operation inlined.
    match op {
        ScanOp::Sum => run_with(x, axis, carry, all, T::zero(), T::add, T::add),
        ScanOp::Prod => run_with(x, axis, carry, all, T::one(), T::mul, T::mul),
        ScanOp::NanSum => run_with(
            x,
            axis,
            carry,
            all,
            T::zero(),
            |a, b| if T::is_nan(b) { a } else { T::add(a, b) },
            T::add,
        ),
        ScanOp::NanProd => run_with(
            x,
            axis,
            carry,
            all,
            T::one(),
            |a, b| if T::is_nan(b) { a } else { T::mul(a, b) },
            T::mul,
        ),
    }
}

/// [`run`] with the combination `f` of a running value and an element (NaN handled), its
/// identity, and `g` combining two running values.
fn run_with<T: Ops>(
    x: ArrayViewD<'_, T>,
    axis: usize,
    carry: Option<ArrayViewD<'_, T>>,
    all: bool,
    identity: T,
    f: impl Fn(T, T) -> T + Copy,
    g: impl Fn(T, T) -> T + Copy,
) -> ArrayD<T> {
    let shape = x.shape().to_vec();
    let x = x.as_standard_layout();
    let src = x.as_slice().expect("a standard-layout view is contiguous");
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let carry = carry.map(|c| c.as_standard_layout().into_owned());
    let start = |i: usize| -> T {
        carry
            .as_ref()
            .and_then(|c| c.as_slice())
            .map_or(identity, |c| c[i])
    };
    let mut slice_shape = shape.clone();
    slice_shape[axis] = 1;
    if !all {
        let mut acc: Vec<T> = (0..outer * inner).map(start).collect();
        if inner == 1 {
            // Along the last axis: eight partial folds per lane break the chain of
            // dependent operations (the order differs from the scan's, so a float total
            // may differ from the block's last running value in its last bits).
            for (o, a) in acc.iter_mut().enumerate() {
                let xs = &src[o * n..(o + 1) * n];
                let mut parts = [identity; 8];
                let mut chunks = xs.chunks_exact(8);
                for c in &mut chunks {
                    for (p, &v) in parts.iter_mut().zip(c) {
                        *p = f(*p, v);
                    }
                }
                for &p in &parts {
                    *a = g(*a, p);
                }
                for &v in chunks.remainder() {
                    *a = f(*a, v);
                }
            }
        } else {
            // Fold the rows of each outer position into one running row.
            for o in 0..outer {
                let row = &mut acc[o * inner..(o + 1) * inner];
                for xs in src[o * n * inner..(o + 1) * n * inner].chunks_exact(inner.max(1)) {
                    for (a, &v) in row.iter_mut().zip(xs) {
                        *a = f(*a, v);
                    }
                }
            }
        }
        return ArrayD::from_shape_vec(IxDyn(&slice_shape), acc).expect("one slice");
    }
    if src.is_empty() {
        return ArrayD::from_shape_vec(IxDyn(&shape), Vec::new()).expect("an empty block");
    }
    let out = if inner == 1 {
        // Along the last axis each lane is a chain of dependent operations: four lanes
        // run interleaved, so that their chains overlap.
        let mut out = vec![identity; src.len()];
        const K: usize = 4;
        let mut groups = src.chunks_exact(K * n).zip(out.chunks_exact_mut(K * n));
        for (gi, (xs, os)) in (&mut groups).enumerate() {
            let xs: Vec<&[T]> = xs.chunks_exact(n).collect();
            let mut os: Vec<&mut [T]> = os.chunks_exact_mut(n).collect();
            let mut acc: [T; K] = std::array::from_fn(|k| start(gi * K + k));
            for i in 0..n {
                for k in 0..K {
                    acc[k] = f(acc[k], xs[k][i]);
                    os[k][i] = acc[k];
                }
            }
        }
        let done = (outer / K) * K;
        for (o, (xs, os)) in src[done * n..]
            .chunks_exact(n)
            .zip(out[done * n..].chunks_exact_mut(n))
            .enumerate()
        {
            let mut acc = start(done + o);
            for (d, &v) in os.iter_mut().zip(xs) {
                acc = f(acc, v);
                *d = acc;
            }
        }
        out
    } else {
        // A running row per outer position, updated and appended a whole row at a time
        // (which vectorises); the output is written once, never zeroed first.
        let mut out = Vec::with_capacity(src.len());
        let mut acc = vec![identity; inner];
        for o in 0..outer {
            for (j, a) in acc.iter_mut().enumerate() {
                *a = start(o * inner + j);
            }
            for xs in src[o * n * inner..(o + 1) * n * inner].chunks_exact(inner) {
                for (a, &v) in acc.iter_mut().zip(xs) {
                    *a = f(*a, v);
                }
                out.extend_from_slice(&acc);
            }
        }
        out
    };
    ArrayD::from_shape_vec(IxDyn(&shape), out).expect("the block's shape")
}
