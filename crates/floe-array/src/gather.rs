//! Gathering: each output block is assembled from pieces of input blocks.
//!
//! Slicing (with any step), rechunking and concatenation are the same operation seen per
//! axis: each output block along an axis is a list of *segments*, each a strided range of
//! one input block along that axis. An output block is the product of its segments over
//! the axes; its tasks depend only on the input blocks those segments touch. A segment
//! covering a whole input block with step 1 passes the block through without a copy.

use std::sync::Arc;

use floe_graph::{Key, TaskError, TaskId, Value};
use ndarray::{Axis, IxDyn, SliceInfoElem};

use crate::expr::Expr;
use crate::lower::{Lowering, MemoKey, block_of, block_value};
use crate::{Array, ArrayElement, Chunks, DynArray, Result, with_dtype};

/// A strided range of one input block along one axis, and where it lands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Which input array (only meaningful along the concatenation axis).
    pub source: usize,
    /// The input block along this axis.
    pub block: usize,
    /// The range inside the input block, in ndarray's slice semantics: `lo..hi` by `step`
    /// (a negative step walks the range backwards, from `hi - 1`).
    pub lo: usize,
    pub hi: usize,
    pub step: isize,
    /// The first position inside the output block.
    pub dest: usize,
    /// How many elements.
    pub len: usize,
}

#[derive(Clone)]
pub(crate) struct GatherPlan {
    pub inputs: Vec<Array>,
    /// Per input axis, per output block along it, the segments.
    pub axes: Vec<Vec<Vec<Segment>>>,
    /// The axis whose segments choose the input array, if several.
    pub concat_axis: Option<usize>,
    /// Input axes dropped from the output (integer indexing); each has one length-1 block.
    pub squeeze: Vec<usize>,
    /// [`GatherPlan::all_whole`], worked out once (reductions ask it for every node).
    pub whole: std::sync::OnceLock<bool>,
}

impl GatherPlan {
    /// The array gathering from `input` alone, by `axes` (per axis, per output block, the
    /// segments), named `name`.
    pub(crate) fn single(
        input: &Array,
        axes: Vec<Vec<Vec<Segment>>>,
        name: &'static str,
    ) -> Result<Array> {
        GatherPlan {
            whole: Default::default(),
            inputs: vec![input.clone()],
            axes,
            concat_axis: None,
            squeeze: vec![],
        }
        .into_array(name)
    }

    /// The output array of this plan.
    ///
    /// # Errors
    ///
    /// [`ArrayError::UnknownChunks`](crate::ArrayError::UnknownChunks) if the plan cuts,
    /// drops, reorders or joins along an axis of unknown sizes: along those a gather may
    /// only keep each block whole, in place (`y[:, 1]` on a selection `y` of rows).
    pub(crate) fn into_array(self, name: &'static str) -> Result<Array> {
        let first = &self.inputs[0];
        let mut unknown_out = Vec::new();
        for (a, blocks) in self.axes.iter().enumerate() {
            let unknown = self.inputs.iter().any(|i| i.node.unknown[a]);
            if unknown {
                let sizes = first.chunks().axis(a);
                let whole = self.concat_axis != Some(a)
                    && !self.squeeze.contains(&a)
                    && self
                        .inputs
                        .iter()
                        .all(|i| i.node.unknown[a] && i.chunks().axis(a) == sizes)
                    && blocks.len() == sizes.len()
                    && blocks.iter().enumerate().all(|(b, segs)| {
                        matches!(segs.as_slice(), [s] if s.block == b && s.lo == 0 && s.step == 1
                            && s.dest == 0 && s.hi == sizes[b] && s.len == sizes[b])
                    });
                if !whole {
                    let culprit = self
                        .inputs
                        .iter()
                        .find(|i| i.node.unknown[a])
                        .unwrap_or(first);
                    return Err(crate::ArrayError::UnknownChunks {
                        op: name,
                        array: culprit.name().to_owned(),
                        axes: vec![a],
                    });
                }
            }
            if !self.squeeze.contains(&a) {
                unknown_out.push(unknown);
            }
        }
        let dtype = first.dtype();
        let mut sizes = Vec::new();
        for (a, blocks) in self.axes.iter().enumerate() {
            if self.squeeze.contains(&a) {
                continue;
            }
            sizes.push(
                blocks
                    .iter()
                    .map(|segs| segs.iter().map(|s| s.len).sum::<usize>())
                    .collect::<Vec<usize>>(),
            );
        }
        let shape: Vec<usize> = sizes.iter().map(|s| s.iter().sum()).collect();
        let chunks = Chunks::new(&shape, sizes).expect("a gather plan covers its output exactly");
        Ok(
            Array::from_node(name, shape, dtype, chunks, Expr::Gather(Box::new(self)))
                .with_unknown(unknown_out),
        )
    }

    /// The input (its position in `inputs`) and input block that output block `index` is,
    /// whole and as it is; `None` if the block is assembled from pieces.
    pub(crate) fn whole_block(&self, index: &[usize]) -> Option<(usize, Vec<usize>)> {
        if !self.squeeze.is_empty() || index.len() != self.axes.len() {
            return None;
        }
        let mut source = 0;
        let mut block = Vec::with_capacity(index.len());
        for (a, &i) in index.iter().enumerate() {
            let [s] = self.axes[a].get(i)?.as_slice() else {
                return None;
            };
            if self.concat_axis == Some(a) {
                source = s.source;
            }
            block.push(s.block);
        }
        let input = self.inputs.get(source)?;
        let whole = block
            .iter()
            .zip(&self.axes)
            .enumerate()
            .all(|(a, (&b, segs))| {
                let s = &segs[index[a]][0];
                input.chunks().axis(a).get(b).is_some_and(|&n| s.covers(n))
            });
        whole.then_some((source, block))
    }

    /// Whether the output is its inputs, whole and in order (joined along the
    /// concatenation axis), only blocked differently: no step, reversal, repeat, gap or
    /// squeezed axis. `chunks` are the output's.
    pub(crate) fn reblocks(&self, chunks: &Chunks) -> bool {
        let ndim = self.axes.len();
        if !self.squeeze.is_empty()
            || chunks.ndim() != ndim
            || self.inputs.iter().any(|i| i.ndim() != ndim)
        {
            return false;
        }
        (0..ndim).all(|a| {
            // Where each input block starts along `a` in the joined inputs (off the
            // concatenation axis every input has the first one's chunks: `concatenate`
            // aligns them, so input 0 stands for all).
            let joined = if self.concat_axis == Some(a) {
                &self.inputs[..]
            } else {
                &self.inputs[..1]
            };
            let mut total = 0;
            let starts: Vec<Vec<usize>> = joined
                .iter()
                .map(|input| {
                    input
                        .chunks()
                        .axis(a)
                        .iter()
                        .map(|&n| {
                            total += n;
                            total - n
                        })
                        .collect()
                })
                .collect();
            // The segments, in order, must walk the joined elements one by one.
            let mut at = 0;
            for (segs, &out_len) in self.axes[a].iter().zip(chunks.axis(a)) {
                let mut dest = 0;
                for seg in segs.iter().filter(|s| s.len > 0) {
                    let source = if joined.len() > 1 { seg.source } else { 0 };
                    let start = starts.get(source).and_then(|s| s.get(seg.block));
                    if seg.step != 1
                        || seg.hi - seg.lo != seg.len
                        || seg.dest != dest
                        || start.map(|s| s + seg.lo) != Some(at)
                    {
                        return false;
                    }
                    dest += seg.len;
                    at += seg.len;
                }
                if dest != out_len {
                    return false;
                }
            }
            at == total
        })
    }

    /// Whether every output block is an input block, whole and as it is (concatenating
    /// along block boundaries): no block is ever assembled.
    pub(crate) fn all_whole(&self) -> bool {
        *self.whole.get_or_init(|| self.find_all_whole())
    }

    fn find_all_whole(&self) -> bool {
        let ndim = self.axes.len();
        if !self.squeeze.is_empty() || self.inputs.iter().any(|i| i.ndim() != ndim) {
            return false;
        }
        // Blocks are whole along every axis independently, the concatenation axis naming
        // the input: check each axis's segments against the chunks of the input they name.
        (0..ndim).all(|a| {
            self.axes[a].iter().all(|segs| match segs.as_slice() {
                [s] => {
                    let inputs: Vec<&Array> = if self.concat_axis == Some(a) {
                        self.inputs.get(s.source).into_iter().collect()
                    } else {
                        self.inputs.iter().collect()
                    };
                    !inputs.is_empty()
                        && inputs.iter().all(|input| {
                            input
                                .chunks()
                                .axis(a)
                                .get(s.block)
                                .is_some_and(|&n| s.covers(n))
                        })
                }
                _ => false,
            })
        })
    }
}

impl crate::lower::Plan for GatherPlan {
    fn inputs(&self) -> Vec<&Array> {
        self.inputs.iter().collect()
    }

    fn lower_block(
        &self,
        lowering: &mut Lowering<'_>,
        array: &Array,
        index: &[usize],
        key: Key,
        memo: MemoKey,
    ) -> Result<TaskId> {
        // The output index over the input's axes (squeezed axes have one block).
        let full = crate::block::expand_index(index, self.axes.len(), &self.squeeze, false);
        let per_axis: Vec<&Vec<Segment>> = full
            .iter()
            .enumerate()
            .map(|(a, &b)| &self.axes[a][b])
            .collect();
        let mut deps: Vec<TaskId> = Vec::new();
        let mut pieces: Vec<(usize, Vec<Segment>)> = Vec::new();
        for combo in product(&per_axis) {
            let source = self.concat_axis.map_or(0, |a| combo[a].source);
            let input = &self.inputs[source];
            let block: Vec<usize> = combo.iter().map(|s| s.block).collect();
            let dep = lowering.block(input, &block)?;
            let slot = match deps.iter().position(|d| *d == dep) {
                Some(p) => p,
                None => {
                    deps.push(dep);
                    deps.len() - 1
                }
            };
            pieces.push((slot, combo));
        }
        let out_shape: Vec<usize> = per_axis
            .iter()
            .map(|segs| segs.iter().map(|s| s.len).sum())
            .collect();
        // One piece covering a whole input block, unstrided and unsqueezed: a pass-through.
        let passthrough = match pieces.as_slice() {
            [(_, combo)] if self.squeeze.is_empty() => {
                let input = &self.inputs[self.concat_axis.map_or(0, |a| combo[a].source)];
                combo
                    .iter()
                    .enumerate()
                    .all(|(a, s)| s.covers(input.chunks().axis(a)[s.block]))
            }
            _ => false,
        };
        if passthrough {
            // The output block is an input block as it is: no task, no copy.
            return Ok(lowering.alias(memo, deps[0]));
        }
        let dtype = array.dtype();
        let squeeze = self.squeeze.clone();
        // Axes of unknown sizes are kept whole: their sizes are the blocks' own.
        let runtime: Vec<bool> = self.inputs[0].node.unknown.clone();
        let spec = lowering.spec_if_recording(|| {
            Some(crate::TaskSpec::Gather(GatherSpec {
                dtype,
                pieces: pieces.clone(),
                out_shape: out_shape.clone(),
                squeeze: squeeze.clone(),
                runtime: runtime.clone(),
            }))
        });
        let op: floe_graph::Operation = Arc::new(move |values: &[Value]| {
            let block = |slot: usize| block_of(&values[slot]);
            let out = with_dtype!(dtype, T => assemble::<T>(&block, &pieces, &out_shape, &squeeze, &runtime)?);
            Ok(block_value(out))
        });
        let id = lowering.add(memo, key, &deps, op)?;
        Ok(lowering.record(id, spec))
    }
}

/// A gather task as data (see [`TaskSpec::Gather`](crate::TaskSpec::Gather)): the pieces of
/// its dependencies' blocks (by position) that make its block.
#[derive(Clone, Debug)]
pub struct GatherSpec {
    pub(crate) dtype: crate::DType,
    pub(crate) pieces: Vec<(usize, Vec<Segment>)>,
    pub(crate) out_shape: Vec<usize>,
    pub(crate) squeeze: Vec<usize>,
    /// Per axis, whether its sizes are known only once computed: every piece is then the
    /// whole of its block along it (see `assemble`).
    pub(crate) runtime: Vec<bool>,
}

impl GatherSpec {
    /// The block from the dependencies' `blocks`, after checking that every piece lies
    /// inside its block and the output (a spec read from elsewhere may say anything).
    pub(crate) fn run(&self, blocks: &[&DynArray]) -> std::result::Result<DynArray, TaskError> {
        let bad = |what: String| TaskError::msg(format!("a gather task: {what}"));
        let ndim = self.out_shape.len();
        for (slot, segs) in &self.pieces {
            let b = blocks
                .get(*slot)
                .ok_or_else(|| bad(format!("no block {slot} among {}", blocks.len())))?;
            if b.dtype() != self.dtype
                || b.shape().len() != ndim
                || segs.len() != ndim
                || self.runtime.len() != ndim
            {
                return Err(bad(format!(
                    "a piece of {} axes of a {} block of shape {:?} for {} of {ndim} axes",
                    segs.len(),
                    b.dtype(),
                    b.shape(),
                    self.dtype
                )));
            }
            for (a, s) in segs.iter().enumerate().filter(|&(a, _)| !self.runtime[a]) {
                let taken = match s.step {
                    0 => None,
                    step => Some(s.hi.saturating_sub(s.lo).div_ceil(step.unsigned_abs())),
                };
                if s.lo > s.hi
                    || s.hi > b.shape()[a]
                    || taken != Some(s.len)
                    || s.dest + s.len > self.out_shape[a]
                {
                    return Err(bad(format!("{s:?} does not fit axis {a}")));
                }
            }
        }
        let mut seen = vec![false; ndim];
        if !self.squeeze.iter().all(|&a| {
            a < ndim
                && self.out_shape[a] == 1
                && !self.runtime.get(a).copied().unwrap_or(true)
                && !std::mem::replace(&mut seen[a], true)
        }) {
            return Err(bad(format!("cannot squeeze axes {:?}", self.squeeze)));
        }
        let block = |slot: usize| Ok(blocks[slot]);
        with_dtype!(self.dtype, T => assemble::<T>(&block, &self.pieces, &self.out_shape, &self.squeeze, &self.runtime))
    }
}

fn assemble<'a, T: ArrayElement>(
    block: &dyn Fn(usize) -> std::result::Result<&'a DynArray, TaskError>,
    pieces: &[(usize, Vec<Segment>)],
    out_shape: &[usize],
    squeeze: &[usize],
    runtime: &[bool],
) -> std::result::Result<DynArray, TaskError> {
    let mut shape = out_shape.to_vec();
    if let Some((slot, _)) = pieces.first() {
        // Along an axis of unknown sizes every piece is the whole of the same block.
        let first = block(*slot)?.shape().to_vec();
        for (a, n) in shape.iter_mut().enumerate() {
            if runtime[a] {
                *n = first[a];
            }
        }
    }
    let mut out = ndarray::ArrayD::<T>::from_elem(IxDyn(&shape), T::zero());
    for (slot, segs) in pieces {
        let b = block(*slot)?;
        let b =
            T::view(b).ok_or_else(|| TaskError::msg("internal error: block of the wrong dtype"))?;
        if (0..shape.len()).any(|a| runtime[a] && b.shape()[a] != shape[a]) {
            return Err(TaskError::msg(format!(
                "blocks of unknown size do not line up: {:?} against {:?}",
                b.shape(),
                shape
            )));
        }
        let src: Vec<SliceInfoElem> = segs
            .iter()
            .enumerate()
            .map(|(a, s)| SliceInfoElem::Slice {
                start: if runtime[a] { 0 } else { s.lo as isize },
                end: if runtime[a] {
                    None
                } else {
                    Some(s.hi as isize)
                },
                step: if runtime[a] { 1 } else { s.step },
            })
            .collect();
        let dst: Vec<SliceInfoElem> = segs
            .iter()
            .enumerate()
            .map(|(a, s)| SliceInfoElem::Slice {
                start: if runtime[a] { 0 } else { s.dest as isize },
                end: if runtime[a] {
                    None
                } else {
                    Some((s.dest + s.len) as isize)
                },
                step: 1,
            })
            .collect();
        out.slice_mut(dst.as_slice())
            .assign(&b.slice(src.as_slice()));
    }
    for &a in squeeze.iter().rev() {
        out = out.index_axis_move(Axis(a), 0);
    }
    Ok(T::wrap(out))
}

/// Every combination of one segment per axis.
fn product(per_axis: &[&Vec<Segment>]) -> Vec<Vec<Segment>> {
    let mut out: Vec<Vec<Segment>> = vec![Vec::new()];
    for segs in per_axis {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                segs.iter().map(move |s| {
                    let mut p = prefix.clone();
                    p.push(s.clone());
                    p
                })
            })
            .collect();
    }
    out
}

impl Segment {
    /// Whether this segment is the whole of an input block of `n` elements, unstrided.
    pub(crate) fn covers(&self, n: usize) -> bool {
        self.lo == 0 && self.hi == n && self.step == 1 && self.len == n
    }

    /// All of block `block` (of `len` elements) of input `source`, landing at the start.
    pub(crate) fn whole(source: usize, block: usize, len: usize) -> Segment {
        Segment {
            source,
            block,
            lo: 0,
            hi: len,
            step: 1,
            dest: 0,
            len,
        }
    }
}

/// Segments keeping an axis as it is: each block whole.
pub(crate) fn identity_axis(chunks: &[usize]) -> Vec<Vec<Segment>> {
    chunks
        .iter()
        .enumerate()
        .map(|(b, &n)| vec![Segment::whole(0, b, n)])
        .collect()
}

/// Segments rechunking an axis from `from` block sizes to `to`.
pub(crate) fn rechunk_axis(from: &[usize], to: &[usize]) -> Vec<Vec<Segment>> {
    let off = offsets(from);
    let mut out = Vec::with_capacity(to.len());
    let mut o0 = 0;
    for &n in to {
        let o1 = o0 + n;
        if n == 0 {
            out.push(vec![empty_segment()]);
            continue;
        }
        // The first input block ending after o0, then every block starting before o1.
        let first = off[1..].partition_point(|&end| end <= o0);
        let segs = (first..from.len())
            .take_while(|&b| off[b] < o1)
            .map(|b| {
                let (lo, hi) = (o0.max(off[b]), o1.min(off[b + 1]));
                Segment {
                    source: 0,
                    block: b,
                    lo: lo - off[b],
                    hi: hi - off[b],
                    step: 1,
                    dest: lo - o0,
                    len: hi - lo,
                }
            })
            .collect();
        out.push(segs);
        o0 = o1;
    }
    out
}

pub(crate) fn empty_segment() -> Segment {
    Segment::whole(0, 0, 0)
}

fn offsets(chunks: &[usize]) -> Vec<usize> {
    let mut v = Vec::with_capacity(chunks.len() + 1);
    let mut acc = 0;
    v.push(0);
    for c in chunks {
        acc += c;
        v.push(acc);
    }
    v
}

/// Segments selecting `len` elements `start, start + step, …` (global positions) of an
/// axis with block sizes `chunks`: one output block per input block touched, in order.
pub(crate) fn select_axis(
    chunks: &[usize],
    start: usize,
    step: isize,
    len: usize,
) -> Vec<Vec<Segment>> {
    let off = offsets(chunks);
    if len == 0 {
        return vec![vec![empty_segment()]];
    }
    let mut out = Vec::new();
    let mut k = 0;
    while k < len {
        let g = (start as isize + k as isize * step) as usize;
        // The block containing position g.
        let b = off[1..].partition_point(|&end| end <= g);
        let (b0, b1) = (off[b], off[b + 1]);
        // How many selected elements fall in this block.
        let count = if step > 0 {
            (b1 - 1 - g) / step as usize + 1
        } else {
            (g - b0) / (-step) as usize + 1
        }
        .min(len - k);
        let first = g - b0;
        let last = (g as isize + (count as isize - 1) * step) as usize - b0;
        let (lo, hi) = if step > 0 {
            (first, last + 1)
        } else {
            (last, first + 1)
        };
        out.push(vec![Segment {
            source: 0,
            block: b,
            lo,
            hi,
            step,
            dest: 0,
            len: count,
        }]);
        k += count;
    }
    out
}

/// Segments picking `positions` (in that order, repeats allowed) from an axis with block
/// sizes `chunks`. Output blocks hold up to the axis' largest block of positions; runs of
/// consecutive positions (forwards or backwards) inside one input block become one segment.
pub(crate) fn take_axis(chunks: &[usize], positions: &[usize]) -> Vec<Vec<Segment>> {
    if positions.is_empty() {
        return vec![vec![empty_segment()]];
    }
    let per_block = chunks.iter().copied().max().unwrap_or(1).max(1);
    let groups: Vec<&[usize]> = positions.chunks(per_block).collect();
    take_axis_grouped(chunks, &groups)
}

/// Segments picking each of `groups` of positions (one output block each, in order) from
/// an axis with block sizes `chunks`; an empty group is an empty block.
pub(crate) fn take_axis_grouped(chunks: &[usize], groups: &[&[usize]]) -> Vec<Vec<Segment>> {
    let off = offsets(chunks);
    groups
        .iter()
        .map(|group| {
            if group.is_empty() {
                return vec![empty_segment()];
            }
            let mut segs: Vec<Segment> = Vec::new();
            let mut dest = 0;
            let mut i = 0;
            while i < group.len() {
                let g = group[i];
                let b = off[1..].partition_point(|&end| end <= g);
                // Extend a run of ±1 steps inside block b.
                let mut j = i + 1;
                let step: isize = match group.get(j) {
                    Some(&n) if n == g + 1 && n < off[b + 1] => 1,
                    Some(&n) if g > 0 && n + 1 == g && n >= off[b] => -1,
                    _ => 1,
                };
                while j < group.len() {
                    let prev = group[j - 1] as isize;
                    let n = group[j];
                    if n as isize == prev + step && n >= off[b] && n < off[b + 1] {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let (first, last) = (g - off[b], group[j - 1] - off[b]);
                let (lo, hi) = if step > 0 {
                    (first, last + 1)
                } else {
                    (last, first + 1)
                };
                segs.push(Segment {
                    source: 0,
                    block: b,
                    lo,
                    hi,
                    step,
                    dest,
                    len: j - i,
                });
                dest += j - i;
                i = j;
            }
            segs
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rechunk_segments_cover_each_output_block() {
        let segs = rechunk_axis(&[4, 4, 2], &[3, 3, 3, 1]);
        let lens: Vec<Vec<(usize, usize, usize)>> = segs
            .iter()
            .map(|v| v.iter().map(|s| (s.block, s.lo, s.hi)).collect())
            .collect();
        assert_eq!(
            lens,
            vec![
                vec![(0, 0, 3)],
                vec![(0, 3, 4), (1, 0, 2)],
                vec![(1, 2, 4), (2, 0, 1)],
                vec![(2, 1, 2)]
            ]
        );
    }

    #[test]
    fn runs_of_taken_positions_share_segments() {
        // Blocks [0,4) [4,8) [8,10); output blocks of up to 4 positions: 1 2 3 9 | 8 5 5.
        let segs = take_axis(&[4, 4, 2], &[1, 2, 3, 9, 8, 5, 5]);
        type Row = (usize, usize, usize, isize, usize);
        let got: Vec<Vec<Row>> = segs
            .iter()
            .map(|v| {
                v.iter()
                    .map(|s| (s.block, s.lo, s.hi, s.step, s.dest))
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            vec![
                vec![(0, 1, 4, 1, 0), (2, 1, 2, 1, 3)],
                vec![(2, 0, 1, 1, 0), (1, 1, 2, 1, 1), (1, 1, 2, 1, 2)]
            ]
        );
        // A backwards run is one segment with a negative step.
        let back = take_axis(&[4, 4, 2], &[3, 2, 1, 0]);
        assert_eq!(
            (
                back[0][0].lo,
                back[0][0].hi,
                back[0][0].step,
                back[0][0].len
            ),
            (0, 4, -1, 4)
        );
    }

    #[test]
    fn negative_steps_walk_blocks_backwards() {
        // Axis of 10 in blocks of 4: select 9, 6, 3, 0.
        let segs = select_axis(&[4, 4, 2], 9, -3, 4);
        let got: Vec<(usize, usize, usize, usize)> = segs
            .iter()
            .map(|v| (v[0].block, v[0].lo, v[0].hi, v[0].len))
            .collect();
        assert_eq!(got, vec![(2, 1, 2, 1), (1, 2, 3, 1), (0, 0, 4, 2)]);
    }
}
