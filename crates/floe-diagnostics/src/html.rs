//! A profile as a self-contained HTML page (an SVG timeline, memory and CPU curves on the
//! same time axis, a legend; zoom with the wheel, pan by dragging, double-click to reset),
//! and as a Chrome trace (JSON for Perfetto or `chrome://tracing`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::profiler::Profile;

/// Drawn width of the time axis, in SVG units.
const WIDTH: f64 = 1200.0;
const ROW: f64 = 22.0;
const GAP: f64 = 4.0;
const PANEL: f64 = 110.0;
/// Tasks drawn at most; beyond it, neighbouring tasks of one operation on one worker are
/// drawn as one rectangle.
const MAX_RECTS: usize = 40_000;

/// Colours for operations, most time-consuming first (a qualitative palette).
const PALETTE: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#86bcb6", "#d37295",
];

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn ms(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// A rectangle to draw: a task, or a run of tasks of one operation on one worker.
struct Bar {
    worker: usize,
    op: usize,
    start: f64,
    end: f64,
    count: usize,
    label: String,
    bytes: usize,
}

impl Profile {
    fn bars(&self, ops: &[(String, usize, Duration)]) -> Vec<Bar> {
        let index = |name: &str| ops.iter().position(|o| o.0 == name).unwrap_or(0);
        let mut tasks: Vec<_> = self.tasks.iter().collect();
        tasks.sort_by(|a, b| a.worker.cmp(&b.worker).then(a.start.cmp(&b.start)));
        let span = self.span().as_secs_f64().max(1e-9);
        // Merge only when there are too many to draw: neighbours closer than a pixel's time.
        let merge_gap = if tasks.len() > MAX_RECTS {
            span / WIDTH
        } else {
            -1.0
        };
        let mut bars: Vec<Bar> = Vec::new();
        for t in tasks {
            let (s, e) = (t.start.as_secs_f64(), (t.start + t.duration).as_secs_f64());
            let op = index(t.key.name());
            if let Some(last) = bars.last_mut()
                && last.worker == t.worker
                && last.op == op
                && s - last.end <= merge_gap
            {
                last.end = e.max(last.end);
                last.count += 1;
                last.bytes += t.nbytes;
                continue;
            }
            bars.push(Bar {
                worker: t.worker,
                op,
                start: s,
                end: e,
                count: 1,
                label: t.key.to_string(),
                bytes: t.nbytes,
            });
        }
        bars
    }

    /// The profile as a self-contained HTML page titled `title`: no network access, no
    /// libraries; the timeline has one row per worker and one rectangle per task (hover for
    /// its key, duration and output size), coloured by operation; below it, the bytes held by
    /// the scheduler and the process's resident memory, then its CPU use.
    pub fn to_html(&self, title: &str) -> String {
        let ops = self.by_operation();
        let span = self.span().as_secs_f64().max(1e-9);
        let x = |t: f64| t / span * WIDTH;
        let threads = self.threads.max(1);
        let timeline_h = threads as f64 * (ROW + GAP) + GAP;
        let mem_top = timeline_h + 20.0;
        let cpu_top = mem_top + PANEL + 20.0;
        let height = cpu_top + PANEL;

        let mut plot = String::new();
        // Worker rows.
        for w in 0..threads {
            let y = GAP + w as f64 * (ROW + GAP);
            let _ = write!(
                plot,
                r##"<rect class="row" x="0" y="{y}" width="{WIDTH}" height="{ROW}" fill="#f4f4f4"/>"##
            );
        }
        for b in self.bars(&ops) {
            let y = GAP + b.worker as f64 * (ROW + GAP);
            let (x0, x1) = (x(b.start), x(b.end));
            let what = if b.count == 1 {
                escape(&b.label)
            } else {
                format!("{} tasks of {}", b.count, escape(&ops[b.op].0))
            };
            let _ = write!(
                plot,
                r##"<rect class="task" x="{x0:.3}" y="{y}" width="{:.3}" height="{ROW}" fill="{}"><title>{what} · {} · {} · worker {}</title></rect>"##,
                (x1 - x0).max(0.3),
                PALETTE[b.op % PALETTE.len()],
                ms(Duration::from_secs_f64(b.end - b.start)),
                human_bytes(b.bytes as f64),
                b.worker
            );
        }
        // Memory: held by the scheduler (step line) and resident (line), one scale.
        let max_bytes = self
            .memory
            .iter()
            .map(|m| m.1 as f64)
            .chain(self.resources.iter().map(|r| r.rss_bytes as f64))
            .fold(1.0_f64, f64::max);
        let my = |b: f64| mem_top + PANEL - b / max_bytes * PANEL;
        let _ = write!(
            plot,
            r##"<rect x="0" y="{mem_top}" width="{WIDTH}" height="{PANEL}" fill="#fafafa"/>"##
        );
        let mut held = format!("M0,{:.2}", my(0.0));
        let mut memory: Vec<_> = self.memory.clone();
        memory.sort_by_key(|m| m.0);
        let mut last = 0.0;
        for (t, b) in &memory {
            let xt = x(t.as_secs_f64());
            let _ = write!(
                held,
                " L{xt:.2},{:.2} L{xt:.2},{:.2}",
                my(last),
                my(*b as f64)
            );
            last = *b as f64;
        }
        let _ = write!(
            plot,
            r##"<path class="held" d="{held}" fill="none" stroke="#e15759" stroke-width="1.5" vector-effect="non-scaling-stroke"/>"##
        );
        self.resource_line(&mut plot, "rss", "#4e79a7", |r| {
            (x(r.at.as_secs_f64()), my(r.rss_bytes as f64))
        });
        // CPU.
        let max_cpu = (threads as f64 * 100.0).max(
            self.resources
                .iter()
                .map(|r| r.cpu_percent)
                .fold(0.0, f64::max),
        );
        let cy = |c: f64| cpu_top + PANEL - c / max_cpu * PANEL;
        let _ = write!(
            plot,
            r##"<rect x="0" y="{cpu_top}" width="{WIDTH}" height="{PANEL}" fill="#fafafa"/>"##
        );
        self.resource_line(&mut plot, "cpu", "#59a14f", |r| {
            (x(r.at.as_secs_f64()), cy(r.cpu_percent))
        });

        let mut labels = String::new();
        for w in 0..threads {
            let y = GAP + w as f64 * (ROW + GAP) + ROW * 0.7;
            let _ = write!(labels, r#"<text x="4" y="{y}">worker {w}</text>"#);
        }
        let _ = write!(
            labels,
            r##"<text x="4" y="{}">memory</text><text x="4" y="{}" class="small">max {}</text><text x="4" y="{}" class="small" fill="#e15759">held</text><text x="4" y="{}" class="small" fill="#4e79a7">resident</text><text x="4" y="{}">CPU</text><text x="4" y="{}" class="small">max {max_cpu:.0} %</text>"##,
            mem_top + 14.0,
            mem_top + 30.0,
            human_bytes(max_bytes),
            mem_top + 46.0,
            mem_top + 62.0,
            cpu_top + 14.0,
            cpu_top + 30.0,
        );

        let mut legend = String::new();
        for (i, (name, n, d)) in ops.iter().enumerate() {
            let _ = write!(
                legend,
                r#"<li><span class="sw" style="background:{}"></span>{} — {n} tasks, {}</li>"#,
                PALETTE[i % PALETTE.len()],
                escape(name),
                ms(*d)
            );
        }
        let summary = format!(
            "{} tasks on {threads} workers in {}; busy {} ({:.0} % of the workers' time); peak held {}",
            self.tasks.len(),
            ms(self.span()),
            ms(self.total_task_time()),
            self.total_task_time().as_secs_f64() / (span * threads as f64) * 100.0,
            human_bytes(self.memory.iter().map(|m| m.1).max().unwrap_or(0) as f64),
        );
        let replay = crate::replay::section(self, span, WIDTH);
        format!(
            r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 13px system-ui, sans-serif; margin: 16px; color: #222; }}
h1 {{ font-size: 18px; margin: 0 0 4px; }}
.wrap {{ display: flex; }} .wrap > svg {{ flex: none; }}
.labels text {{ font-size: 12px; }} .labels .small {{ font-size: 10px; }}
#plot {{ border: 1px solid #ddd; cursor: grab; }}
#axis text {{ font-size: 10px; }}
ul {{ list-style: none; padding: 0; columns: 3; }}
.sw {{ display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -2px; }}
.hint {{ color: #777; }}
</style></head><body>
<h1>{title}</h1>
<p>{summary}</p>
<p class="hint">Wheel: zoom the time axis; drag: pan; double-click: reset. Hover a task for its key, duration and output size.</p>
<div class="wrap">
<svg class="labels" width="120" height="{height}">{labels}</svg>
<div><svg id="plot" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="none">{plot}</svg>
<svg id="axis" width="{WIDTH}" height="24"></svg></div>
</div>
<ul>{legend}</ul>
{replay}
<script>
(function () {{
  const plot = document.getElementById("plot"), axis = document.getElementById("axis");
  const W = {WIDTH}, H = {height}, span = {span};
  let x0 = 0, w = W;
  function ticks() {{
    const t0 = x0 / W * span, t1 = (x0 + w) / W * span;
    const raw = (t1 - t0) / 8, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
    let out = "";
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {{
      const px = (t - t0) / (t1 - t0) * W;
      const label = step >= 1 ? t.toFixed(0) + " s" : step >= 1e-3 ? (t * 1e3).toFixed(step >= 1e-2 ? 0 : 1) + " ms" : (t * 1e6).toFixed(0) + " µs";
      out += '<line x1="' + px + '" x2="' + px + '" y1="0" y2="6" stroke="#888"/><text x="' + (px + 2) + '" y="16">' + label + "</text>";
    }}
    axis.innerHTML = out;
  }}
  function show() {{ plot.setAttribute("viewBox", x0 + " 0 " + w + " " + H); ticks(); }}
  plot.addEventListener("wheel", function (e) {{
    e.preventDefault();
    const r = plot.getBoundingClientRect(), f = (e.clientX - r.left) / r.width;
    const at = x0 + f * w, nw = Math.min(W, Math.max(W / 1e6, w * (e.deltaY > 0 ? 1.25 : 0.8)));
    x0 = Math.min(W - nw, Math.max(0, at - f * nw)); w = nw; show();
  }}, {{ passive: false }});
  let drag = null;
  plot.addEventListener("mousedown", function (e) {{ drag = {{ x: e.clientX, x0: x0 }}; }});
  window.addEventListener("mouseup", function () {{ drag = null; }});
  window.addEventListener("mousemove", function (e) {{
    if (!drag) return;
    const r = plot.getBoundingClientRect();
    x0 = Math.min(W - w, Math.max(0, drag.x0 - (e.clientX - drag.x) / r.width * w)); show();
  }});
  plot.addEventListener("dblclick", function () {{ x0 = 0; w = W; show(); }});
  show();
}})();
</script>
</body></html>
"##,
            title = escape(title),
        )
    }

    /// A polyline through the resource samples at `at(sample)` (none without samples).
    fn resource_line(
        &self,
        plot: &mut String,
        class: &str,
        color: &str,
        at: impl Fn(&crate::profiler::ResourceSample) -> (f64, f64),
    ) {
        if self.resources.is_empty() {
            return;
        }
        let points: Vec<String> = self
            .resources
            .iter()
            .map(|r| {
                let (px, py) = at(r);
                format!("{px:.2},{py:.2}")
            })
            .collect();
        let _ = write!(
            plot,
            r#"<polyline class="{class}" points="{}" fill="none" stroke="{color}" stroke-width="1.5" vector-effect="non-scaling-stroke"/>"#,
            points.join(" ")
        );
    }

    /// Writes [`Profile::to_html`] to `path`.
    ///
    /// # Errors
    ///
    /// If the file cannot be written.
    pub fn write_html(&self, path: impl AsRef<Path>, title: &str) -> std::io::Result<()> {
        std::fs::write(path, self.to_html(title))
    }

    /// The profile in the Chrome trace event format (opens in Perfetto and
    /// `chrome://tracing`): a complete event per task on its worker's track, and counters for
    /// the held bytes, resident memory and CPU use.
    pub fn to_chrome_trace(&self) -> String {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let mut events = Vec::with_capacity(self.tasks.len() + self.memory.len() + 8);
        events.push(json!({"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "floe"}}));
        for w in 0..self.threads {
            events.push(json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": w, "args": {"name": format!("worker {w}")}}));
        }
        for t in &self.tasks {
            events.push(json!({
                "name": t.key.name(), "cat": "task", "ph": "X", "pid": 1, "tid": t.worker,
                "ts": us(t.start), "dur": us(t.duration),
                "args": {"key": t.key.to_string(), "nbytes": t.nbytes},
            }));
        }
        for (t, b) in &self.memory {
            events.push(json!({"name": "held bytes", "ph": "C", "pid": 1, "ts": us(*t), "args": {"bytes": b}}));
        }
        for r in &self.resources {
            events.push(json!({"name": "resident bytes", "ph": "C", "pid": 1, "ts": us(r.at), "args": {"bytes": r.rss_bytes}}));
            events.push(json!({"name": "cpu %", "ph": "C", "pid": 1, "ts": us(r.at), "args": {"percent": r.cpu_percent}}));
        }
        json!({"traceEvents": events, "displayTimeUnit": "ms"}).to_string()
    }
}
