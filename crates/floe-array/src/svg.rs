//! Pictures of an array's chunk grid: an SVG (like Dask's HTML repr) and a text table.

use std::fmt::Write as _;

use crate::{Array, human_bytes};

/// Longest side of a drawn grid, in SVG units.
const SIDE: f64 = 120.0;
/// Lines drawn per axis at most; beyond it the grid is shaded instead.
const MAX_LINES: usize = 100;

/// Positions (0..=1) of the block boundaries along an axis of `chunks`.
fn cuts(chunks: &[usize]) -> Vec<f64> {
    let total: usize = chunks.iter().sum::<usize>().max(1);
    let mut at = 0;
    let mut out = vec![0.0];
    for &c in chunks {
        at += c;
        out.push(at as f64 / total as f64);
    }
    out
}

/// Side lengths for axes of these lengths: proportional, the longest [`SIDE`], none shorter
/// than a tenth of it (so thin axes stay visible).
fn sides(shape: &[usize]) -> Vec<f64> {
    let max = shape.iter().copied().max().unwrap_or(1).max(1) as f64;
    shape
        .iter()
        .map(|&n| (n.max(1) as f64 / max * SIDE).max(SIDE / 10.0))
        .collect()
}

/// A face of a picture: the quadrilateral `at(u, v)` for `u, v` in 0..=1, filled, with a line
/// at each `u` of `us` (from `v` = 0 to 1) and at each `v` of `vs` (from `u` = 0 to 1); more
/// than [`MAX_LINES`] lines along an axis are drawn as its two edges. With `edge`, lines on
/// the outline are that wide and inner ones 1; without, widths are left to the viewer.
fn face(
    out: &mut String,
    at: impl Fn(f64, f64) -> (f64, f64),
    us: &[f64],
    vs: &[f64],
    fill: &str,
    edge: Option<u32>,
) {
    let (a, b, c, d) = (at(0.0, 0.0), at(1.0, 0.0), at(1.0, 1.0), at(0.0, 1.0));
    let _ = write!(
        out,
        r#"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="{fill}" stroke="none"/>"#,
        a.0, a.1, b.0, b.1, c.0, c.1, d.0, d.1
    );
    let lines = |v: &[f64]| -> Vec<f64> {
        if v.len() > MAX_LINES {
            vec![0.0, 1.0]
        } else {
            v.to_vec()
        }
    };
    let mut line = |(x1, y1): (f64, f64), (x2, y2): (f64, f64), t: f64| {
        let width = match edge {
            Some(w) => format!(
                r#" stroke-width="{}""#,
                if t == 0.0 || t == 1.0 { w } else { 1 }
            ),
            None => String::new(),
        };
        let _ = write!(
            out,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#333"{width}/>"##
        );
    };
    for u in lines(us) {
        line(at(u, 0.0), at(u, 1.0), u);
    }
    for v in lines(vs) {
        line(at(0.0, v), at(1.0, v), v);
    }
}

/// A 2-d grid (rows at `ys`, columns at `xs`, both 0..=1) from `(x0, y0)`, `w` × `h`, its
/// outline drawn bold.
fn grid(
    out: &mut String,
    (x0, y0): (f64, f64),
    (w, h): (f64, f64),
    xs: &[f64],
    ys: &[f64],
    fill: &str,
) {
    face(out, |u, v| (x0 + u * w, y0 + v * h), xs, ys, fill, Some(2));
}

impl Array {
    /// The chunk grid as an SVG picture: a row of blocks for 1-d arrays, a grid for 2-d, a
    /// skewed box for 3-d, and for more dimensions a chain of pictures of the trailing axes
    /// (two or three at a time) with the leading ones labelled. Axis lengths are labelled;
    /// grids of more than 100 blocks along an axis are drawn shaded.
    ///
    /// ```
    /// let x = floe_array::ones(&[1464, 721, 1440], [4_usize, 200, 200], floe_array::DType::F32)?;
    /// let svg = x.to_svg();
    /// assert!(svg.starts_with("<svg") && svg.contains(">1440<"));
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn to_svg(&self) -> String {
        let shape = self.shape();
        let axes: Vec<Vec<f64>> = (0..self.ndim())
            .map(|a| cuts(self.chunks().axis(a)))
            .collect();
        let mut body = String::new();
        let label = |out: &mut String, x: f64, y: f64, text: &str, rotate: bool| {
            let t = if rotate {
                format!(r#" transform="rotate(-90 {x:.1} {y:.1})""#)
            } else {
                String::new()
            };
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{y:.1}" font-size="11" text-anchor="middle"{t}>{text}</text>"#
            );
        };
        let fill = "#8fb8de";
        let (w, h) = match shape.len() {
            0 => {
                let _ = write!(
                    body,
                    r##"<rect x="10" y="10" width="20" height="20" fill="{fill}" stroke="#333" stroke-width="2"/>"##
                );
                (40.0, 40.0)
            }
            1 => {
                let s = sides(&[shape[0]]);
                grid(
                    &mut body,
                    (10.0, 10.0),
                    (s[0], 20.0),
                    &axes[0],
                    &[0.0, 1.0],
                    fill,
                );
                label(
                    &mut body,
                    10.0 + s[0] / 2.0,
                    48.0,
                    &shape[0].to_string(),
                    false,
                );
                (s[0] + 20.0, 58.0)
            }
            2 => {
                let s = sides(shape);
                grid(
                    &mut body,
                    (10.0, 10.0),
                    (s[1], s[0]),
                    &axes[1],
                    &axes[0],
                    fill,
                );
                label(
                    &mut body,
                    10.0 + s[1] / 2.0,
                    s[0] + 28.0,
                    &shape[1].to_string(),
                    false,
                );
                label(
                    &mut body,
                    s[1] + 26.0,
                    10.0 + s[0] / 2.0,
                    &shape[0].to_string(),
                    true,
                );
                (s[1] + 40.0, s[0] + 38.0)
            }
            _ => {
                // The last three axes as a box: front face (axes n-2 × n-1), top face (depth
                // axis n-3 × n-1), side face (n-2 × n-3).
                let n = shape.len();
                let s = sides(&shape[n - 3..]);
                let (d, r, c) = (s[0] * 0.6, s[1], s[2]);
                let (ox, oy) = (10.0, 10.0 + d * 0.7);
                // Top face: skewed up-right by the depth; side face: from the front's right
                // edge, skewed the same way.
                let top = |u: f64, v: f64| (ox + u * c + v * d * 0.7, oy - v * d * 0.7);
                face(&mut body, top, &axes[n - 1], &axes[n - 3], "#b8d3ec", None);
                let side = |u: f64, v: f64| (ox + c + u * d * 0.7, oy + v * r - u * d * 0.7);
                face(&mut body, side, &axes[n - 3], &axes[n - 2], "#6f9cc6", None);
                grid(
                    &mut body,
                    (ox, oy),
                    (c, r),
                    &axes[n - 1],
                    &axes[n - 2],
                    fill,
                );
                label(
                    &mut body,
                    ox + c / 2.0,
                    oy + r + 18.0,
                    &shape[n - 1].to_string(),
                    false,
                );
                label(
                    &mut body,
                    ox + c + d * 0.7 + 14.0,
                    oy + r / 2.0 - d * 0.35,
                    &shape[n - 2].to_string(),
                    true,
                );
                label(
                    &mut body,
                    ox + c + d * 0.35 + 12.0,
                    oy + r + 4.0 - d * 0.35,
                    &shape[n - 3].to_string(),
                    false,
                );
                let mut height = oy + r + 28.0;
                if n > 3 {
                    let lead: Vec<String> = shape[..n - 3]
                        .iter()
                        .zip(&self.numblocks()[..n - 3])
                        .map(|(s, b)| format!("{s} ({b} blocks)"))
                        .collect();
                    let _ = write!(
                        body,
                        r#"<text x="{:.1}" y="{:.1}" font-size="11">× leading axes {}</text>"#,
                        ox,
                        height,
                        lead.join(" × ")
                    );
                    height += 14.0;
                }
                (ox + c + d * 0.7 + 36.0, height)
            }
        };
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.1} {h:.1}" font-family="sans-serif">{body}</svg>"#
        )
    }

    /// A text table of the array and one block, like Dask's repr, for terminals:
    ///
    /// ```text
    ///           Array            Chunk
    /// Bytes     6.18 GB          640.00 kB
    /// Shape     (1464, 721, 1440) (4, 200, 200)
    /// Count     11712 blocks
    /// Type      float32
    /// ```
    pub fn chunk_table(&self) -> String {
        let block = self.chunks().max_block();
        let block_bytes = block.iter().product::<usize>() * self.dtype().itemsize();
        let tuple = |v: &[usize]| self.dims_text(v);
        let shape = tuple(self.shape());
        let col = shape.len().max(16) + 2;
        let rows = [
            ("", "Array".to_owned(), "Chunk".to_owned()),
            ("Bytes", self.bytes_text(), human_bytes(block_bytes)),
            ("Shape", shape.clone(), tuple(&block)),
            (
                "Count",
                format!("{} blocks", self.chunks().nblocks()),
                String::new(),
            ),
            ("Type", self.dtype().to_string(), String::new()),
        ];
        rows.iter()
            .map(|(a, b, c)| format!("{a:<10}{b:<col$}{c}").trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
