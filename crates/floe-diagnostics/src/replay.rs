//! The profile page's replay: the last recorded run's task graph laid out in layers (see
//! [`crate::layout`]), each task a circle and its result a box, coloured by their state at
//! a time a scrubber, a click on the timeline or the play button sets — waiting, running
//! (in its worker's colour), done, result held, result freed — with a cursor at that time
//! on the timeline and memory curves. Graphs of more than [`COLLAPSE_ABOVE`] tasks are drawn one node per
//! operation, its counts of running and done tasks animated.
//!
//! A result is freed when the last task reading it ends (the scheduler frees an
//! intermediate as soon as nothing needs it); the run's outputs are held to its end.
//! `#t=SECONDS` in the page's address opens it at that time; `#play` starts playing.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::layout::{collapse, layered};
use crate::profiler::Profile;

/// Past this many tasks the replay draws one node per operation.
pub const COLLAPSE_ABOVE: usize = 1500;

const WIDTH: f64 = 1200.0;
const WORKER_COLORS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
];

/// The replay's HTML (an SVG, its controls and its script), or nothing when the profile
/// recorded no graph. `span` is the timeline's length in seconds, `timeline_width` its
/// width in the plot's units (the cursor is drawn there).
pub(crate) fn section(profile: &Profile, span: f64, timeline_width: f64) -> String {
    let Some((run, graph)) = profile
        .graphs
        .iter()
        .enumerate()
        .rev()
        .find(|(r, _)| profile.tasks.iter().any(|t| t.run == *r))
    else {
        return String::new();
    };
    // The tasks that ran, in graph order, and their records.
    let mut record = HashMap::new();
    for t in profile.tasks.iter().filter(|t| t.run == run) {
        record.insert(t.task, t);
    }
    let ran: Vec<usize> = (0..graph.keys.len())
        .filter(|i| record.contains_key(i))
        .collect();
    let number: HashMap<usize, usize> = ran.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let deps: Vec<Vec<usize>> = ran
        .iter()
        .map(|&i| {
            graph.deps[i]
                .iter()
                .filter_map(|d| number.get(d).copied())
                .collect()
        })
        .collect();
    let start: Vec<f64> = ran.iter().map(|i| record[i].start.as_secs_f64()).collect();
    let end: Vec<f64> = ran
        .iter()
        .map(|i| (record[i].start + record[i].duration).as_secs_f64())
        .collect();
    let worker: Vec<usize> = ran.iter().map(|i| record[i].worker).collect();
    // Freed when the last reader ends; never for an output (no reader).
    let mut freed: Vec<Option<f64>> = vec![None; ran.len()];
    for (k, d) in deps.iter().enumerate() {
        for &j in d {
            freed[j] = Some(freed[j].map_or(end[k], |f: f64| f.max(end[k])));
        }
    }
    // Past the limit, one node per operation.
    let groups = (ran.len() > COLLAPSE_ABOVE).then(|| {
        let names: Vec<&str> = ran.iter().map(|&i| graph.keys[i].name()).collect();
        collapse(&names, &deps)
    });
    let collapsed = groups.is_some();
    let (node_deps, labels): (&[Vec<usize>], Vec<String>) = match &groups {
        Some(g) => (
            &g.deps,
            g.names
                .iter()
                .zip(&g.counts)
                .map(|(n, c)| format!("{n} ×{c}"))
                .collect(),
        ),
        None => (
            &deps,
            ran.iter().map(|&i| graph.keys[i].to_string()).collect(),
        ),
    };
    let layout = layered(node_deps, 4);
    let depth = layout.layers.len().max(1);
    let dy = (560.0 / depth as f64).clamp(12.0, 48.0);
    let height = 30.0 + depth as f64 * dy;
    let widest = layout.layers.iter().map(Vec::len).max().unwrap_or(1);
    let r = (WIDTH / widest as f64 * 0.3).clamp(1.5, 7.0);
    let at = |n: usize| {
        let len = layout.layers[layout.layer[n]].len().max(1);
        (
            (layout.position[n] as f64 + 0.5) / len as f64 * WIDTH,
            20.0 + layout.layer[n] as f64 * dy,
        )
    };
    let mut svg = String::new();
    for (n, d) in node_deps.iter().enumerate() {
        let (x1, y1) = at(n);
        for &m in d {
            let (x0, y0) = at(m);
            let _ = write!(
                svg,
                r##"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="#ccc" stroke-width="0.6"/>"##
            );
        }
    }
    for (n, label) in labels.iter().enumerate() {
        let (x, y) = at(n);
        let label = crate::html::escape(label);
        let _ = write!(
            svg,
            r#"<g><circle class="task-node waiting" data-n="{n}" cx="{x:.1}" cy="{y:.1}" r="{r:.1}"><title>{label}</title></circle><rect class="result-box none" data-n="{n}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/>"#,
            x + r * 1.1,
            y - r * 0.6,
            r * 1.2,
            r * 1.2,
        );
        if collapsed {
            let _ = write!(
                svg,
                r#"<text class="count" data-n="{n}" x="{:.1}" y="{:.1}">{label}</text>"#,
                x + r * 2.6,
                y + 4.0
            );
        }
        svg.push_str("</g>");
    }
    let data = serde_json::json!({
        "start": start,
        "end": end,
        "freed": freed,
        "worker": worker,
        "group": groups.as_ref().map(|g| &g.group),
        "counts": groups.as_ref().map_or(&[][..], |g| &g.counts),
        "names": groups.as_ref().map_or(&[][..], |g| &g.names),
        "span": span,
        "timelineWidth": timeline_width,
        "colors": WORKER_COLORS,
    });
    format!(
        r##"<h2>Replay: {tasks} tasks{how}</h2>
<p class="hint">Circles are tasks (white: waiting; a worker's colour: running; grey: done), boxes their results (blue: held; pale: freed). Play, drag the scrubber or click the timeline: both show the same moment.</p>
<div id="replay-controls"><button id="play">▶ play</button>
<select id="speed"><option value="0.1">0.1×</option><option value="1" selected>1×</option><option value="10">10×</option></select>
<input id="scrub" type="range" min="0" max="1000" value="0" style="width:600px">
<span id="clock">0 s</span> <span id="tally"></span></div>
<svg id="replay" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}">{svg}</svg>
<style>
.task-node {{ stroke: #555; stroke-width: 0.8; }} .task-node.waiting {{ fill: #fff; }}
.task-node.done {{ fill: #999; }} .result-box.none {{ display: none; }}
.result-box.held {{ fill: #4e79a7; }} .result-box.freed {{ fill: #dde6f0; }}
#replay text {{ font-size: 10px; }}
</style>
<script>
(function () {{
  const D = {data};
  const n = D.start.length, span = D.span;
  const nodes = document.querySelectorAll("#replay .task-node");
  const boxes = document.querySelectorAll("#replay .result-box");
  const counts = document.querySelectorAll("#replay .count");
  const scrub = document.getElementById("scrub"), clock = document.getElementById("clock");
  const tally = document.getElementById("tally");
  const plot = document.getElementById("plot");
  let cursor = null;
  if (plot) {{
    cursor = document.createElementNS(plot.namespaceURI, "line");
    cursor.setAttribute("id", "cursor"); cursor.setAttribute("y1", "0");
    cursor.setAttribute("y2", plot.getAttribute("height")); cursor.setAttribute("stroke", "#000");
    cursor.setAttribute("vector-effect", "non-scaling-stroke"); plot.appendChild(cursor);
  }}
  let t = 0;
  function show(at) {{
    t = Math.max(0, Math.min(span, at));
    let running = 0, done = 0;
    const groupRunning = D.counts.map(() => 0), groupDone = D.counts.map(() => 0);
    for (let i = 0; i < n; i++) {{
      const state = t < D.start[i] ? "waiting" : t < D.end[i] ? "running" : "done";
      if (state === "running") running++;
      if (state === "done") done++;
      if (D.group) {{
        if (state === "running") groupRunning[D.group[i]]++;
        if (state === "done") groupDone[D.group[i]]++;
      }} else {{
        nodes[i].setAttribute("class", "task-node " + state);
        nodes[i].style.fill = state === "running" ? D.colors[D.worker[i] % D.colors.length] : "";
        const box = state !== "done" ? "none" : D.freed[i] !== null && t >= D.freed[i] ? "freed" : "held";
        boxes[i].setAttribute("class", "result-box " + box);
      }}
    }}
    if (D.group) {{
      for (let g = 0; g < D.counts.length; g++) {{
        const state = groupRunning[g] > 0 ? "running" : groupDone[g] === D.counts[g] ? "done" : "waiting";
        nodes[g].setAttribute("class", "task-node " + state);
        nodes[g].style.fill = state === "running" ? D.colors[0] : "";
        nodes[g].setAttribute("data-running", groupRunning[g]);
        counts[g].textContent = D.names[g] + ": " + groupRunning[g] + " running, " + groupDone[g] + "/" + D.counts[g] + " done";
      }}
    }}
    scrub.value = Math.round(t / (span || 1) * 1000);
    clock.textContent = (t * 1e3).toFixed(2) + " ms";
    tally.textContent = running + " running, " + done + "/" + n + " done";
    document.getElementById("replay").setAttribute("data-t", t);
    document.getElementById("replay").setAttribute("data-running", running);
    if (cursor) {{
      const x = t / (span || 1) * D.timelineWidth;
      cursor.setAttribute("x1", x); cursor.setAttribute("x2", x);
    }}
  }}
  scrub.addEventListener("input", () => show(scrub.value / 1000 * span));
  // A click on the timeline (not the end of a drag) moves the replay to that moment.
  if (plot) {{
    let down = null;
    plot.addEventListener("mousedown", e => {{ down = e.clientX; }});
    plot.addEventListener("click", function (e) {{
      if (down === null || Math.abs(e.clientX - down) > 3) return;
      const r = plot.getBoundingClientRect(), vb = plot.viewBox.baseVal;
      const x = vb.x + (e.clientX - r.left) / r.width * vb.width;
      show(x / D.timelineWidth * span);
    }});
  }}
  let playing = false, last = 0;
  function frame(now) {{
    if (!playing) return;
    const speed = +document.getElementById("speed").value;
    // At 1×, the run replays over ten seconds.
    show(t + (now - last) / 1e4 * span * speed);
    last = now;
    if (t >= span) {{ playing = false; document.getElementById("play").textContent = "▶ play"; return; }}
    requestAnimationFrame(frame);
  }}
  const play = document.getElementById("play");
  play.addEventListener("click", function () {{
    playing = !playing;
    play.textContent = playing ? "❚❚ pause" : "▶ play";
    if (playing) {{ if (t >= span) show(0); last = performance.now(); requestAnimationFrame(frame); }}
  }});
  const m = /t=([0-9.eE+-]+)/.exec(location.hash);
  show(m ? parseFloat(m[1]) : 0);
  if (/play/.test(location.hash)) play.click();
}})();
</script>
"##,
        tasks = ran.len(),
        how = groups.as_ref().map_or(String::new(), |g| {
            format!(", drawn as {} operations", g.names.len())
        }),
        data = data,
    )
}
