//! Layered drawings of task graphs, laid out in Rust (no Graphviz in a browser): the first
//! step of the profile page's replay view. Each task sits on the layer one past its
//! deepest dependency; within a layer, tasks are ordered to cross few edges by barycentre
//! sweeps (each task moved to the mean position of its neighbours on the layers already
//! placed), the best order seen kept — a Sugiyama-style layout. Graphs too large to draw
//! task by task are first collapsed to one node per operation ([`collapse`]).
//!
//! Crossings are counted between consecutive layers as inversions of the edges' end
//! positions (a Fenwick tree, `O(E log V)`), so a sweep over 50,000 tasks stays cheap.

use std::collections::{HashMap, VecDeque};

/// Where each node of a graph is drawn: its layer (0 for nodes without dependencies) and
/// its position within the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Per node, its layer.
    pub layer: Vec<usize>,
    /// Per node, its position within its layer (`0..layers[layer].len()`).
    pub position: Vec<usize>,
    /// Per layer, its nodes in drawing order.
    pub layers: Vec<Vec<usize>>,
}

impl Layout {
    /// The edges that cross, counted between consecutive layers (edges spanning more
    /// layers are not counted).
    pub fn crossings(&self, deps: &[Vec<usize>]) -> u64 {
        (1..self.layers.len())
            .map(|l| {
                layer_crossings(
                    deps,
                    &self.layer,
                    &self.position,
                    l,
                    self.layers[l - 1].len(),
                )
            })
            .sum()
    }
}

/// Lays out the graph whose node `i` depends on the nodes `deps[i]` (indices below
/// `deps.len()`; dependencies outside that range are ignored), with up to `sweeps`
/// barycentre sweeps (each one down and one up the layers). A cycle (possible in a
/// collapsed graph) is broken where it is met: its nodes are layered by the dependencies
/// already placed.
///
/// # Examples
///
/// ```
/// use floe_diagnostics::layout::layered;
///
/// // a → c, b → d, a → d: the sweeps keep c under a and d under b.
/// let deps = vec![vec![], vec![], vec![0], vec![1, 0]];
/// let l = layered(&deps, 4);
/// assert_eq!(l.layer, vec![0, 0, 1, 1]);
/// assert_eq!(l.crossings(&deps), 0);
/// ```
pub fn layered(deps: &[Vec<usize>], sweeps: usize) -> Layout {
    let n = deps.len();
    let deps: Vec<Vec<usize>> = deps
        .iter()
        .map(|d| d.iter().copied().filter(|&j| j < n).collect())
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            dependents[j].push(i);
        }
    }
    let layer = layers_of(&deps, &dependents);
    let depth = layer.iter().max().map_or(0, |&m| m + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (i, &l) in layer.iter().enumerate() {
        layers[l].push(i);
    }
    let mut position = vec![0; n];
    place(&layers, &mut position);
    let mut best = (
        total_crossings(&deps, &layer, &position, &layers),
        layers.clone(),
    );
    // Sweeps reorder layers, never resize them.
    let lens: Vec<usize> = layers.iter().map(Vec::len).collect();
    for sweep in 0..sweeps {
        // Down: each node to the mean place of its dependencies; up: of its dependents.
        for nodes in layers.iter_mut().skip(1) {
            reorder(nodes, &deps, &layer, &position, &lens);
            place_one(nodes, &mut position);
        }
        for nodes in layers.iter_mut().rev().skip(1) {
            reorder(nodes, &dependents, &layer, &position, &lens);
            place_one(nodes, &mut position);
        }
        let c = total_crossings(&deps, &layer, &position, &layers);
        if c < best.0 {
            best = (c, layers.clone());
        } else if c == best.0 && sweep > 0 {
            break; // no better order in sight
        }
    }
    let layers = best.1;
    place(&layers, &mut position);
    Layout {
        layer,
        position,
        layers,
    }
}

/// Each node's layer: one past its deepest dependency (Kahn's order; nodes left on a
/// cycle are taken in index order, by the dependencies already placed).
fn layers_of(deps: &[Vec<usize>], dependents: &[Vec<usize>]) -> Vec<usize> {
    let n = deps.len();
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut layer = vec![0; n];
    let mut placed = vec![false; n];
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut next_cycle = 0;
    let mut count = 0;
    while count < n {
        let i = match ready.pop_front() {
            Some(i) => i,
            None => {
                // A cycle: break it at the first node not yet placed.
                while placed[next_cycle] {
                    next_cycle += 1;
                }
                next_cycle
            }
        };
        if placed[i] {
            continue;
        }
        placed[i] = true;
        count += 1;
        layer[i] = deps[i]
            .iter()
            .filter(|&&j| placed[j] && j != i)
            .map(|&j| layer[j] + 1)
            .max()
            .unwrap_or(0);
        for &k in &dependents[i] {
            waiting[k] = waiting[k].saturating_sub(1);
            if waiting[k] == 0 && !placed[k] {
                ready.push_back(k);
            }
        }
    }
    layer
}

fn place(layers: &[Vec<usize>], position: &mut [usize]) {
    for l in layers {
        place_one(l, position);
    }
}

fn place_one(layer: &[usize], position: &mut [usize]) {
    for (p, &i) in layer.iter().enumerate() {
        position[i] = p;
    }
}

/// `nodes` sorted by the mean relative place (position over layer length) of their
/// `neighbours`; a node without any keeps its own relative place. Ties keep their order.
fn reorder(
    nodes: &mut [usize],
    neighbours: &[Vec<usize>],
    layer: &[usize],
    position: &[usize],
    lens: &[usize],
) {
    let rel = |i: usize| (position[i] as f64 + 0.5) / lens[layer[i]].max(1) as f64;
    let mut keyed: Vec<(f64, usize)> = nodes
        .iter()
        .map(|&i| {
            let around = &neighbours[i];
            let key = if around.is_empty() {
                rel(i)
            } else {
                around.iter().map(|&j| rel(j)).sum::<f64>() / around.len() as f64
            };
            (key, i)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (slot, (_, i)) in nodes.iter_mut().zip(keyed) {
        *slot = i;
    }
}

fn total_crossings(
    deps: &[Vec<usize>],
    layer: &[usize],
    position: &[usize],
    layers: &[Vec<usize>],
) -> u64 {
    (1..layers.len())
        .map(|l| layer_crossings(deps, layer, position, l, layers[l - 1].len()))
        .sum()
}

/// Crossings of the edges from layer `l - 1` (of `upper` nodes) into layer `l`: pairs of
/// edges whose ends are in opposite orders, counted as inversions.
fn layer_crossings(
    deps: &[Vec<usize>],
    layer: &[usize],
    position: &[usize],
    l: usize,
    upper: usize,
) -> u64 {
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for (i, d) in deps.iter().enumerate() {
        if layer[i] != l {
            continue;
        }
        for &j in d {
            if layer[j] + 1 == l {
                edges.push((position[i], position[j]));
            }
        }
    }
    // Sorted by the lower end (then the upper), the crossings are the pairs whose upper
    // ends come in the other order.
    edges.sort_unstable();
    let mut tree = vec![0_u64; upper + 1];
    let mut crossings = 0;
    for (seen, &(_, up)) in edges.iter().enumerate() {
        // Edges already seen whose upper end lies strictly right of this one's.
        let mut at_most = 0;
        let mut k = up + 1;
        while k > 0 {
            at_most += tree[k];
            k &= k - 1;
        }
        crossings += seen as u64 - at_most;
        let mut k = up + 1;
        while k <= upper {
            tree[k] += 1;
            k += k & k.wrapping_neg();
        }
    }
    crossings
}

/// A graph collapsed to one node per operation: what [`collapse`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collapsed {
    /// The operations, in order of their first task.
    pub names: Vec<String>,
    /// Per operation, how many tasks it has.
    pub counts: Vec<usize>,
    /// Per task, its operation.
    pub group: Vec<usize>,
    /// Per operation, the operations its tasks depend on (no repeats, not itself).
    pub deps: Vec<Vec<usize>>,
}

/// The graph of `names[i]`'s tasks (`deps` as for [`layered`]) collapsed to one node per
/// operation name, with counts: how the replay draws graphs too large to draw task by
/// task.
///
/// # Examples
///
/// ```
/// use floe_diagnostics::layout::collapse;
///
/// let names = ["ones", "ones", "sum", "sum-agg"];
/// let deps = vec![vec![], vec![], vec![0, 1], vec![2]];
/// let c = collapse(&names, &deps);
/// assert_eq!(c.names, ["ones", "sum", "sum-agg"]);
/// assert_eq!(c.counts, [2, 1, 1]);
/// assert_eq!(c.deps, vec![vec![], vec![0], vec![1]]);
/// ```
pub fn collapse<S: AsRef<str>>(names: &[S], deps: &[Vec<usize>]) -> Collapsed {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out = Collapsed {
        names: Vec::new(),
        counts: Vec::new(),
        group: Vec::with_capacity(names.len()),
        deps: Vec::new(),
    };
    for name in names {
        let name = name.as_ref();
        let g = *index.entry(name).or_insert_with(|| {
            out.names.push(name.to_owned());
            out.counts.push(0);
            out.deps.push(Vec::new());
            out.names.len() - 1
        });
        out.counts[g] += 1;
        out.group.push(g);
    }
    for (i, d) in deps.iter().enumerate().take(names.len()) {
        let g = out.group[i];
        for &j in d.iter().filter(|&&j| j < names.len()) {
            let h = out.group[j];
            if h != g && !out.deps[g].contains(&h) {
                out.deps[g].push(h);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random graph of `n` nodes whose dependencies come before them.
    fn random_dag(n: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..n)
            .map(|i| {
                if i < 3 {
                    return vec![];
                }
                let k = (next() % 3) as usize;
                let mut d: Vec<usize> = (0..k).map(|_| (next() % i as u64) as usize).collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect()
    }

    fn check(deps: &[Vec<usize>], l: &Layout) {
        for (i, d) in deps.iter().enumerate() {
            for &j in d {
                assert!(l.layer[j] < l.layer[i], "edge {j} → {i}");
            }
            assert_eq!(l.layer[i] == 0, d.is_empty(), "node {i}");
            assert_eq!(l.layers[l.layer[i]][l.position[i]], i);
        }
        let mut all: Vec<usize> = l.layers.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..deps.len()).collect::<Vec<_>>());
    }

    #[test]
    fn layers_follow_edges_and_sweeps_never_add_crossings() {
        for seed in 0..40 {
            let deps = random_dag(5 + seed as usize * 7, seed);
            let unswept = layered(&deps, 0);
            let swept = layered(&deps, 8);
            check(&deps, &unswept);
            check(&deps, &swept);
            assert_eq!(swept.layer, unswept.layer);
            assert!(
                swept.crossings(&deps) <= unswept.crossings(&deps),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn crossings_are_counted_as_drawn() {
        // Upper layer a b c; lower d (from c), e (from a), f (from b):
        // d–c crosses e–a and f–b; e–a and f–b do not cross.
        let deps = vec![vec![], vec![], vec![], vec![2], vec![0], vec![1]];
        let l = layered(&deps, 0);
        assert_eq!(l.crossings(&deps), 2);
        // Sweeping puts d last: none cross.
        assert_eq!(layered(&deps, 4).crossings(&deps), 0);
    }

    #[test]
    fn a_map_reduce_lays_out_without_crossings() {
        // 8 blocks, each mapped, then reduced pairwise to one.
        let mut deps: Vec<Vec<usize>> = (0..8).map(|_| vec![]).collect();
        let mapped: Vec<usize> = (0..8)
            .map(|i| {
                deps.push(vec![7 - i]); // mapped in the reverse order of their blocks
                deps.len() - 1
            })
            .collect();
        let mut level = mapped;
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|p| {
                    deps.push(p.to_vec());
                    deps.len() - 1
                })
                .collect();
        }
        let l = layered(&deps, 8);
        check(&deps, &l);
        assert_eq!(l.layers.len(), 5);
        assert_eq!(l.crossings(&deps), 0);
    }

    #[test]
    fn cycles_of_a_collapsed_graph_are_broken() {
        // getitem → sum → getitem (one name used at two stages), and a chain after.
        let names = ["x", "getitem", "sum", "getitem", "out"];
        let deps = vec![vec![], vec![0], vec![1], vec![2], vec![3]];
        let c = collapse(&names, &deps);
        assert_eq!(c.counts, [1, 2, 1, 1]);
        assert!(c.deps[1].contains(&2) && c.deps[2].contains(&1));
        let l = layered(&c.deps, 4);
        let mut all: Vec<usize> = l.layers.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3]);
        assert!(l.layer[3] > l.layer[0]);
    }

    #[test]
    fn fifty_thousand_tasks_lay_out() {
        let deps = random_dag(50_000, 7);
        let l = layered(&deps, 4);
        check(&deps, &l);
    }
}
