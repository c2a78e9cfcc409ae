//! Pictures of task graphs: Graphviz DOT, and SVG (or PNG, PDF) through Graphviz's `dot`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use floe_graph::{Graph, TaskId};

/// How task circles are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// Plain.
    #[default]
    None,
    /// By position in the static execution order (dark: early, light: late).
    Order,
    /// By how many inputs a task frees when it finishes (it is their last consumer in the
    /// static order): red tasks release memory.
    MemoryFreed,
}

/// What [`to_dot`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DotOptions {
    /// How task circles are filled.
    pub color: Color,
    /// Graphs with more tasks than this are drawn collapsed: one node per operation (the
    /// key's name) with its task count, and edges between operations.
    pub collapse_above: usize,
}

impl Default for DotOptions {
    fn default() -> Self {
        Self {
            color: Color::None,
            collapse_above: 500,
        }
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A colour from dark blue (0) to yellow (1).
fn ramp(f: f64) -> String {
    let f = f.clamp(0.0, 1.0);
    // Three stops of a perceptual ramp: #440154 → #21918c → #fde725.
    let stops = [(0x44, 0x01, 0x54), (0x21, 0x91, 0x8c), (0xfd, 0xe7, 0x25)];
    let (a, b, t) = if f < 0.5 {
        (stops[0], stops[1], f * 2.0)
    } else {
        (stops[1], stops[2], f * 2.0 - 1.0)
    };
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// The tasks `outputs` need, as Graphviz DOT: each task a circle labelled with its
/// operation, each result a box, edges from results to the tasks that read them (Dask's
/// picture); collapsed to operations past [`DotOptions::collapse_above`] tasks.
///
/// # Examples
///
/// ```
/// use floe_diagnostics::{DotOptions, to_dot};
/// use floe_graph::{GraphBuilder, Key, Value};
///
/// let mut b = GraphBuilder::default();
/// let x = b.add_fn(Key::named("load"), &[], |_| Ok(Value::new(1)))?;
/// let y = b.add_fn(Key::named("inc"), &[x], |_| Ok(Value::new(2)))?;
/// let dot = to_dot(&b.build(), &[y], &DotOptions::default());
/// assert!(dot.starts_with("digraph"));
/// assert!(dot.contains("label=\"inc\""));
/// # Ok::<(), floe_graph::GraphError>(())
/// ```
pub fn to_dot(graph: &Graph, outputs: &[TaskId], options: &DotOptions) -> String {
    let needed = floe_graph::needed(graph, outputs);
    let ids: Vec<TaskId> = graph.ids().filter(|id| needed[id.index()]).collect();
    if ids.len() > options.collapse_above {
        return collapsed(graph, &ids);
    }
    let order = floe_graph::order(graph, outputs);
    let n = ids.len().max(2) as f64;
    // Position in the order, and inputs freed (tasks whose last consumer this is).
    let mut rank: Vec<usize> = vec![0; graph.len()];
    for (i, &id) in order.sequence().iter().enumerate() {
        rank[id.index()] = i;
    }
    let mut freed = vec![0_usize; graph.len()];
    for &id in &ids {
        let last = graph
            .dependents(id)
            .iter()
            .filter(|d| needed[d.index()])
            .max_by_key(|d| rank[d.index()]);
        if let Some(&last) = last {
            freed[last.index()] += 1;
        }
    }
    let max_freed = freed.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = String::from(
        "digraph floe {\n  graph [rankdir=BT];\n  node [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for &id in &ids {
        let key = graph.key(id);
        let i = id.index();
        let fill = match options.color {
            Color::None => String::new(),
            Color::Order => format!(
                ", style=filled, fillcolor=\"{}\", fontcolor=white",
                ramp(rank[i] as f64 / (n - 1.0))
            ),
            Color::MemoryFreed => format!(
                ", style=filled, fillcolor=\"{}\"",
                if freed[i] == 0 {
                    "#ffffff".to_owned()
                } else {
                    let f = freed[i] as f64 / max_freed;
                    let g = (230.0 - 180.0 * f).round() as u8;
                    format!("#ff{g:02x}{g:02x}")
                }
            ),
        };
        let _ = writeln!(
            out,
            "  t{i} [shape=circle, label={}, tooltip={}{fill}];",
            quote(key.name()),
            quote(&key.to_string()),
        );
        let _ = writeln!(
            out,
            "  d{i} [shape=box, label=\"\", tooltip={}];",
            quote(&key.to_string())
        );
        let _ = writeln!(out, "  t{i} -> d{i};");
        for dep in graph.dependencies(id) {
            let _ = writeln!(out, "  d{} -> t{i};", dep.index());
        }
    }
    out.push_str("}\n");
    out
}

/// One node per operation, with its task count; edge labels count the dependencies.
fn collapsed(graph: &Graph, ids: &[TaskId]) -> String {
    let mut ops: BTreeMap<&str, usize> = BTreeMap::new();
    let mut edges: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for &id in ids {
        let name = graph.key(id).name();
        *ops.entry(name).or_default() += 1;
        for dep in graph.dependencies(id) {
            *edges.entry((graph.key(*dep).name(), name)).or_default() += 1;
        }
    }
    let index: BTreeMap<&str, usize> = ops.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut out = format!(
        "digraph floe {{\n  graph [rankdir=BT, label={}];\n  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=rounded];\n",
        quote(&format!("{} tasks, collapsed to operations", ids.len()))
    );
    for (name, count) in &ops {
        let _ = writeln!(
            out,
            "  op{} [label={}];",
            index[name],
            quote(&format!("{name}\n{count} tasks"))
        );
    }
    for ((from, to), count) in &edges {
        let _ = writeln!(
            out,
            "  op{} -> op{} [label=\"{count}\"];",
            index[from], index[to]
        );
    }
    out.push_str("}\n");
    out
}

/// Why [`visualize`] could not write a picture.
#[derive(Debug)]
#[non_exhaustive]
pub enum VisualizeError {
    /// Graphviz's `dot` is not installed; the DOT source was written to `dot_file`.
    GraphvizMissing {
        /// Where the DOT source was written instead.
        dot_file: PathBuf,
    },
    /// Writing a file or running `dot` failed.
    Io(PathBuf, std::io::Error),
    /// `dot` ran and failed.
    Dot(String),
}

impl std::fmt::Display for VisualizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VisualizeError::GraphvizMissing { dot_file } => write!(
                f,
                "Graphviz's `dot` is not installed (Debian: apt install graphviz); the graph was \
                 written as DOT to {}",
                dot_file.display()
            ),
            VisualizeError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            VisualizeError::Dot(msg) => write!(f, "dot failed: {msg}"),
        }
    }
}

impl std::error::Error for VisualizeError {}

/// Draws the tasks `outputs` need into `path`: `.dot` (or `.gv`) writes DOT; `.svg`, `.png`
/// and `.pdf` run Graphviz's `dot`. Without Graphviz, the DOT source is written next to
/// `path` and the error says so.
///
/// # Errors
///
/// [`VisualizeError`]: Graphviz missing, a file that cannot be written, or `dot` failing.
pub fn visualize(
    graph: &Graph,
    outputs: &[TaskId],
    path: impl AsRef<Path>,
    options: &DotOptions,
) -> Result<PathBuf, VisualizeError> {
    let path = path.as_ref().to_path_buf();
    let dot = to_dot(graph, outputs, options);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| VisualizeError::Io(p, e)
    };
    if ext == "dot" || ext == "gv" {
        std::fs::write(&path, dot).map_err(io(&path))?;
        return Ok(path);
    }
    let format = match ext.as_str() {
        "svg" | "png" | "pdf" => ext.as_str(),
        _ => "svg",
    };
    let child = Command::new("dot")
        .arg(format!("-T{format}"))
        .arg("-o")
        .arg(&path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dot_file = path.with_extension("dot");
            std::fs::write(&dot_file, dot).map_err(io(&dot_file))?;
            return Err(VisualizeError::GraphvizMissing { dot_file });
        }
        Err(e) => return Err(VisualizeError::Io(PathBuf::from("dot"), e)),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(io(Path::new("dot")))?;
    }
    let out = child.wait_with_output().map_err(io(Path::new("dot")))?;
    if !out.status.success() {
        return Err(VisualizeError::Dot(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    Ok(path)
}
