//! Ordering tests: each draws its graph (data flows left to right or top to bottom) and
//! pins the largest number of results held at once when one worker runs the order.

use super::*;
use crate::{GraphBuilder, Key, Value};

fn t(b: &mut GraphBuilder, name: &str, index: &[u32], deps: &[TaskId]) -> TaskId {
    b.add_fn(Key::new(name, index), deps, |_| Ok(Value::unit()))
        .unwrap()
}

fn held(g: &Graph, outputs: &[TaskId]) -> usize {
    order(g, outputs).max_results_held(g, outputs)
}

fn names(g: &Graph, o: &Order) -> Vec<String> {
    o.sequence().iter().map(|t| g.key(*t).to_string()).collect()
}

/// Builds a tree reduction over `level` with fan-in `split`; returns the root.
fn tree(b: &mut GraphBuilder, name: &str, mut level: Vec<TaskId>, split: usize) -> TaskId {
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(split)
            .enumerate()
            .map(|(i, c)| t(b, name, &[depth, i as u32], c))
            .collect();
    }
    level[0]
}

fn leaves(b: &mut GraphBuilder, name: &str, n: u32) -> Vec<TaskId> {
    (0..n).map(|i| t(b, name, &[i], &[])).collect()
}

/// A binary tree reduction finishes each subtree before loading new leaves:
///
/// ```text
///   x0 x1  x2 x3  x4 x5  x6 x7
///    \ /    \ /    \ /    \ /
///    a0     a1     a2     a3
///      \   /         \   /
///       b0             b1
///          \         /
///              sum
/// ```
///
/// Run as x0 x1 a0 x2 x3 a1 b0 x4 …; at most depth + 2 results are held: one partial per
/// level plus the two inputs of the task running. Doubling the width adds one.
#[test]
fn tree_reduction_holds_depth_not_width() {
    for depth in [3_u32, 6, 10] {
        let mut b = Graph::builder();
        let xs = leaves(&mut b, "x", 1 << depth);
        let root = tree(&mut b, "sum", xs, 2);
        let g = b.build();
        assert_eq!(held(&g, &[root]), depth as usize + 2, "depth {depth}");
    }
    let mut b = Graph::builder();
    let xs = leaves(&mut b, "x", 4);
    let root = tree(&mut b, "sum", xs, 2);
    let g = b.build();
    assert_eq!(
        names(&g, &order(&g, &[root])),
        [
            "x (0,)",
            "x (1,)",
            "sum (1, 0)",
            "x (2,)",
            "x (3,)",
            "sum (1, 1)",
            "sum (2, 0)"
        ]
    );
}

/// A wide reduction (fan-in 8, as `split_every=8`) over 512 blocks:
///
/// ```text
///   x0 … x7   x8 … x15  …  x504 … x511
///    \ | /     \ | /          \ | /
///     a0        a1    …        a63
///       \ … /         …      \ … /
///        b0           …        b7
///              \      |     /
///                    sum
/// ```
///
/// Each level above the leaves holds at most fan-in - 1 finished partials while its next
/// one is built. The peak comes as the last `a` is computed: 7 `b`s + 7 `a`s + its 8 input
/// blocks + itself = 23, whatever the number of blocks at this depth.
#[test]
fn wide_tree_reduction_holds_fan_in_per_level() {
    let mut b = Graph::builder();
    let xs = leaves(&mut b, "x", 512);
    let root = tree(&mut b, "sum", xs, 8);
    let g = b.build();
    assert_eq!(held(&g, &[root]), 23);
}

/// `x - x.mean()` over blocks: every block is loaded, used by its partial mean, and then
/// waits for the anomaly, which needs the mean of all blocks.
///
/// ```text
///   x0 ──► p0 ─┐                 x0 ─┐
///   x1 ──► p1 ─┼─► tree ─► m ──►  …  ├─► y_i = x_i - m   (outputs)
///   …          │                 x7 ─┘
///   x7 ──► p7 ─┘
/// ```
///
/// Held at the peak (while the last partials are combined): all 8 blocks of `x` — they
/// must wait for the mean, unavoidable without loading `x` twice — plus exactly what the
/// mean's reduction alone holds (depth + 2 = 5, see the tree test): the partials are
/// reduced as they are made, because the mean is the heavier dependency of each anomaly
/// and is walked first. 8 + 5 = 13.
#[test]
fn anomaly_holds_the_blocks_and_one_path_of_partials() {
    let n = 8;
    let mut b = Graph::builder();
    let xs = leaves(&mut b, "x", n);
    let ps: Vec<_> = (0..n)
        .map(|i| t(&mut b, "p", &[i], &[xs[i as usize]]))
        .collect();
    let m = tree(&mut b, "m", ps, 2);
    let ys: Vec<_> = (0..n)
        .map(|i| t(&mut b, "y", &[i], &[xs[i as usize], m]))
        .collect();
    let g = b.build();
    assert_eq!(held(&g, &ys), n as usize + 5);
    // The mean is complete before the first anomaly; the anomalies then run in block order.
    let seq = names(&g, &order(&g, &ys));
    let first_y = seq.iter().position(|s| s.starts_with('y')).unwrap();
    assert_eq!(seq[first_y - 1], "m (3, 0)");
    assert_eq!(&seq[first_y..first_y + 2], ["y (0,)", "y (1,)"]);
}

/// Two reductions over the same blocks, `compute(x.sum(), x.max())`:
///
/// ```text
///          ┌─► s_i ─► sum tree ─► sum
///   x_i ───┤
///          └─► m_i ─► max tree ─► max
/// ```
///
/// Each block feeds both partials before the next block is loaded, so no block waits for
/// the second reduction: the peak is two paths of partials, not all of `x`.
#[test]
fn two_reductions_share_each_loaded_block() {
    let n = 16;
    let mut b = Graph::builder();
    let xs = leaves(&mut b, "x", n);
    let ss: Vec<_> = (0..n)
        .map(|i| t(&mut b, "s", &[i], &[xs[i as usize]]))
        .collect();
    let ms: Vec<_> = (0..n)
        .map(|i| t(&mut b, "m", &[i], &[xs[i as usize]]))
        .collect();
    let sum = tree(&mut b, "sum", ss, 2);
    let max = tree(&mut b, "max", ms, 2);
    let g = b.build();
    // log2(16) = 4 levels of partials per tree, each holding at most one finished partial,
    // plus the block being consumed and a task's inputs and output: 4 + 4 + 3 = 11 < 16.
    assert_eq!(held(&g, &[sum, max]), 11);
    let seq = names(&g, &order(&g, &[sum, max]));
    assert_eq!(&seq[..4], ["x (0,)", "s (0,)", "m (0,)", "x (1,)"]);
}

/// `A.dot(B) - B.mean(axis=0)` from the talk, with A and B of 2×2 blocks:
///
/// ```text
///   A_ik ─┐
///         ├─► p_ijk = A_ik · B_kj ─► C_ij = Σ_k p_ijk ─┐
///   B_kj ─┤                                            ├─► R_ij = C_ij - m_j  (outputs)
///         └─► m_j = mean_k B_kj ──────────────────────┘
/// ```
///
/// Every block of A is used by both columns of the result and every block of B by both
/// rows, so one operand must stay loaded whole (the talk's "fail case" held both). The
/// order follows the outputs row by row: `R_00` is finished, mean included, before B's
/// second column is loaded, and row 0 is finished before row 1 of A is loaded; B is the
/// operand that stays.
#[test]
fn dot_minus_mean_finishes_a_column_before_the_next() {
    let mut b = Graph::builder();
    let a: Vec<Vec<_>> = (0..2)
        .map(|i| (0..2).map(|k| t(&mut b, "A", &[i, k], &[])).collect())
        .collect();
    let bb: Vec<Vec<_>> = (0..2)
        .map(|k| (0..2).map(|j| t(&mut b, "B", &[k, j], &[])).collect())
        .collect();
    let mut outs = Vec::new();
    let means: Vec<_> = (0..2)
        .map(|j| {
            t(
                &mut b,
                "mean",
                &[j],
                &[bb[0][j as usize], bb[1][j as usize]],
            )
        })
        .collect();
    for i in 0..2_u32 {
        for j in 0..2_u32 {
            let ps: Vec<_> = (0..2_u32)
                .map(|k| {
                    let deps = [a[i as usize][k as usize], bb[k as usize][j as usize]];
                    t(&mut b, "p", &[i, j, k], &deps)
                })
                .collect();
            let c = t(&mut b, "C", &[i, j], &ps);
            outs.push(t(&mut b, "R", &[i, j], &[c, means[j as usize]]));
        }
    }
    let g = b.build();
    // At most 10 of the 26 results at once: B's 4 blocks, a row of A, the products and sum
    // being made, the means and the finished outputs.
    assert_eq!(held(&g, &outs), 10);
    let seq = names(&g, &order(&g, &outs));
    let pos = |s: &str| seq.iter().position(|x| x == s).unwrap();
    assert!(pos("R (0, 0)") < pos("B (0, 1)"), "{seq:?}");
    assert!(pos("R (0, 1)") < pos("A (1, 0)"), "{seq:?}");
}

/// Independent chains run one after the other:
///
/// ```text
///   a0 → a1 → a2
///   b0 → b1 → b2
///   c0 → c1 → c2
/// ```
///
/// Peak: the two finished outputs plus the running step and its input.
#[test]
fn independent_chains_finish_one_at_a_time() {
    let mut b = Graph::builder();
    let mut outs = Vec::new();
    for name in ["a", "b", "c"] {
        let x0 = t(&mut b, name, &[0], &[]);
        let x1 = t(&mut b, name, &[1], &[x0]);
        outs.push(t(&mut b, name, &[2], &[x1]));
    }
    let g = b.build();
    assert_eq!(held(&g, &outs), 4);
    let seq = names(&g, &order(&g, &outs));
    assert_eq!(
        seq,
        [
            "a (0,)", "a (1,)", "a (2,)", "b (0,)", "b (1,)", "b (2,)", "c (0,)", "c (1,)",
            "c (2,)"
        ]
    );
}

/// A diamond:
///
/// ```text
///     a
///    / \
///   b   c
///    \ /
///     d
/// ```
#[test]
fn diamond() {
    let mut b = Graph::builder();
    let a = t(&mut b, "a", &[], &[]);
    let bb = t(&mut b, "b", &[], &[a]);
    let c = t(&mut b, "c", &[], &[a]);
    let d = t(&mut b, "d", &[], &[bb, c]);
    let g = b.build();
    assert_eq!(held(&g, &[d]), 3);
    assert_eq!(names(&g, &order(&g, &[d])), ["a", "b", "c", "d"]);
}

/// A wide fan-out whose branches are reduced again (`(x + s).sum()` with a small `s`
/// broadcast to every block):
///
/// ```text
///   s ──┬──► z0 = x0 + s ─┐
///       ├──► z1 = x1 + s ─┼─► sum tree
///       …                 │
///       └──► z15          ┘
/// ```
///
/// `s` stays loaded throughout (it is used by every branch); each block is consumed by its
/// branch as soon as it is loaded: the peak is `s` plus what the reduction alone holds
/// (depth + 2 = 6).
#[test]
fn wide_fan_out_into_a_reduction() {
    let n = 16;
    let mut b = Graph::builder();
    let s = t(&mut b, "s", &[], &[]);
    let xs = leaves(&mut b, "x", n);
    let zs: Vec<_> = (0..n)
        .map(|i| t(&mut b, "z", &[i], &[xs[i as usize], s]))
        .collect();
    let root = tree(&mut b, "sum", zs, 2);
    let g = b.build();
    assert_eq!(held(&g, &[root]), 7);
}

/// A fan-out to many outputs: each output is held, the source once.
///
/// ```text
///   x ─┬─► y0
///      ├─► y1
///      …
///      └─► y99
/// ```
#[test]
fn wide_fan_out_to_outputs() {
    let mut b = Graph::builder();
    let x = t(&mut b, "x", &[], &[]);
    let ys: Vec<_> = (0..100).map(|i| t(&mut b, "y", &[i], &[x])).collect();
    let g = b.build();
    assert_eq!(held(&g, &ys), 101);
    assert_eq!(order(&g, &ys).sequence()[1], ys[0]);
}

/// A join of a long chain and a single block: the heavier chain runs first, so the single
/// block is loaded just before the join instead of waiting through the whole chain.
///
/// ```text
///   l0 → l1 → l2 → l3 → l4 ─┐
///                           j
///   x ──────────────────────┘
/// ```
#[test]
fn heavy_dependency_first() {
    let mut b = Graph::builder();
    let x = t(&mut b, "x", &[], &[]);
    let mut l = t(&mut b, "l", &[0], &[]);
    for i in 1..5 {
        l = t(&mut b, "l", &[i], &[l]);
    }
    let j = t(&mut b, "j", &[], &[x, l]);
    let g = b.build();
    assert_eq!(held(&g, &[j]), 3);
    let seq = names(&g, &order(&g, &[j]));
    assert_eq!(seq[5], "x");
}

/// The talk's `x[i] - x.mean(axis=0)`: one block is needed twice, by the mean and by the
/// anomaly; the rest only by the mean.
///
/// ```text
///   x0 ─► p0 ─┐
///   x1 ─► p1 ─┼─► tree ─► m ─┐
///   …         │              ├─► y = x5 - m
///   x7 ─► p7 ─┘      x5 ─────┘
/// ```
///
/// Only `x5` outlives its partial: the peak is a path of the tree plus `x5`.
#[test]
fn one_slice_minus_the_mean_keeps_only_that_slice() {
    let n = 8;
    let mut b = Graph::builder();
    let xs = leaves(&mut b, "x", n);
    let ps: Vec<_> = (0..n)
        .map(|i| t(&mut b, "p", &[i], &[xs[i as usize]]))
        .collect();
    let m = tree(&mut b, "m", ps, 2);
    let y = t(&mut b, "y", &[], &[xs[5], m]);
    let g = b.build();
    assert_eq!(held(&g, &[y]), 6);
}

/// Day minus night, `x[::2].mean() - x[1::2].mean()`: two reductions over disjoint halves,
/// combined at the end.
///
/// ```text
///   x0 x2 x4 x6        x1 x3 x5 x7
///     \ | | /            \ | | /
///     day tree          night tree
///          \              /
///           └──► d - n ◄──┘
/// ```
///
/// The day tree is finished (one partial left) before the night tree loads anything.
#[test]
fn day_minus_night_finishes_one_reduction_first() {
    let n = 8;
    let mut b = Graph::builder();
    let xs = leaves(&mut b, "x", n);
    let day = tree(&mut b, "day", xs.iter().copied().step_by(2).collect(), 2);
    let night = tree(
        &mut b,
        "night",
        xs.iter().copied().skip(1).step_by(2).collect(),
        2,
    );
    let diff = t(&mut b, "diff", &[], &[day, night]);
    let g = b.build();
    assert_eq!(held(&g, &[diff]), 5);
    let seq = names(&g, &order(&g, &[diff]));
    let pos = |s: &str| seq.iter().position(|x| x == s).unwrap();
    assert!(pos("day (2, 0)") < pos("x (1,)"), "{seq:?}");
}

/// Two outputs sharing an intermediate: it runs once, before both.
///
/// ```text
///   x → c ─┬─► a
///          └─► b
/// ```
#[test]
fn shared_intermediate_runs_once() {
    let mut b = Graph::builder();
    let x = t(&mut b, "x", &[], &[]);
    let c = t(&mut b, "c", &[], &[x]);
    let a = t(&mut b, "a", &[], &[c]);
    let bb = t(&mut b, "b", &[], &[c]);
    let g = b.build();
    let o = order(&g, &[a, bb]);
    assert_eq!(names(&g, &o), ["x", "c", "a", "b"]);
    assert_eq!(o.max_results_held(&g, &[a, bb]), 3);
}

/// Tasks the outputs do not need are left out and get the lowest priority.
///
/// ```text
///   x → needed (output)
///   x → unneeded
/// ```
#[test]
fn unneeded_tasks_are_not_ordered() {
    let mut b = Graph::builder();
    let x = t(&mut b, "x", &[], &[]);
    let needed = t(&mut b, "needed", &[], &[x]);
    let unneeded = t(&mut b, "unneeded", &[], &[x]);
    let g = b.build();
    let o = order(&g, &[needed]);
    assert_eq!(o.sequence(), &[x, needed]);
    assert!(!o.is_needed(unneeded));
    assert_eq!(o.priority(unneeded), u32::MAX);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A random DAG: task i depends on up to 3 earlier tasks.
    fn dag() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<usize>)> {
        (1_usize..60).prop_flat_map(|n| {
            let deps = (0..n)
                .map(|i| {
                    if i == 0 {
                        Just(Vec::new()).boxed()
                    } else {
                        proptest::collection::vec(0..i, 0..4).boxed()
                    }
                })
                .collect::<Vec<_>>();
            (deps, proptest::collection::vec(0..n, 1..4))
        })
    }

    proptest! {
        #[test]
        fn sequence_is_a_topological_order_of_exactly_the_needed_tasks((deps, outs) in dag()) {
            let mut b = Graph::builder();
            let ids: Vec<TaskId> = deps
                .iter()
                .enumerate()
                .map(|(i, ds)| {
                    let ds: Vec<TaskId> = ds.iter().map(|&d| TaskId::from_index(d)).collect();
                    t(&mut b, "t", &[i as u32], &ds)
                })
                .collect();
            let g = b.build();
            let outs: Vec<TaskId> = outs.iter().map(|&o| ids[o]).collect();
            let o = order(&g, &outs);
            let need = needed(&g, &outs);
            prop_assert_eq!(o.sequence().len(), need.iter().filter(|x| **x).count());
            for (pos, &task) in o.sequence().iter().enumerate() {
                prop_assert!(need[task.index()]);
                prop_assert_eq!(o.priority(task) as usize, pos);
                for d in g.dependencies(task) {
                    prop_assert!(o.priority(*d) < o.priority(task));
                }
            }
        }
    }
}
