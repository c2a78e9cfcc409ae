//! The profiler against the scheduler's own events, its HTML in a real browser, and golden
//! files of graph pictures.

use std::sync::Arc;
use std::time::Duration;

use floe_diagnostics::{Color, DotOptions, Profiler, to_dot, visualize};
use floe_graph::{Graph, GraphBuilder, Key, TaskId, Value};
use floe_scheduler::{Event, Scheduler, Subscriber};
use parking_lot::Mutex;

/// Sums the task durations the scheduler reports.
#[derive(Default)]
struct Durations(Mutex<(usize, Duration)>);

impl Subscriber for Durations {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::TaskFinished { duration, .. } = event {
            let mut d = self.0.lock();
            d.0 += 1;
            d.1 += *duration;
        }
    }
}

/// `n` leaves that spin for `spin`, summed pairwise by a tree.
fn tree(n: usize, spin: Duration) -> (Graph, TaskId) {
    let mut b = GraphBuilder::default();
    let mut level: Vec<TaskId> = (0..n)
        .map(|i| {
            b.add_fn(Key::new("leaf", &[i as u32]), &[], move |_| {
                let t = std::time::Instant::now();
                while t.elapsed() < spin {
                    std::hint::spin_loop();
                }
                Ok(Value::with_nbytes(vec![1_u8; 1000], 1000))
            })
            .unwrap()
        })
        .collect();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(2)
            .enumerate()
            .map(|(i, pair)| {
                b.add_fn(Key::new("combine", &[depth, i as u32]), pair, |_| {
                    Ok(Value::with_nbytes(vec![0_u8; 500], 500))
                })
                .unwrap()
            })
            .collect();
    }
    (b.build(), level[0])
}

fn profiled_run(
    threads: usize,
    n: usize,
    spin: Duration,
) -> (floe_diagnostics::Profile, (usize, Duration)) {
    let profiler = Arc::new(Profiler::with_interval(Duration::from_millis(5)));
    let durations = Arc::new(Durations::default());
    let s = Scheduler::builder()
        .threads(threads)
        .subscriber(profiler.clone())
        .subscriber(durations.clone())
        .build()
        .unwrap();
    let (g, out) = tree(n, spin);
    s.run(&g, &[out]).unwrap();
    let d = *durations.0.lock();
    (profiler.profile(), d)
}

#[test]
fn the_profile_holds_every_task_and_the_schedulers_total_time() {
    let (p, (count, total)) = profiled_run(3, 64, Duration::from_micros(300));
    assert_eq!(p.tasks.len(), count);
    assert_eq!(p.tasks.len(), 64 + 63);
    assert_eq!(p.total_task_time(), total);
    assert_eq!(p.threads, 3);
    assert!(p.tasks.iter().all(|t| t.worker < 3));
    assert_eq!(p.memory.len(), p.tasks.len());
    assert_eq!(
        p.tasks
            .iter()
            .filter(|t| t.key.name() == "leaf")
            .map(|t| t.nbytes)
            .sum::<usize>(),
        64_000
    );
    // The sampler samples at the start and the end of the run at least.
    assert!(p.resources.len() >= 2, "{:?}", p.resources);
    assert!(p.resources.iter().all(|r| r.rss_bytes > 0));
    assert_eq!(p.runs.len(), 1);
    // The run's graph: every task's record names its node, whose key is the task's own,
    // and a task starts only after its dependencies ended.
    assert_eq!(p.graphs.len(), 1);
    let g = &p.graphs[0];
    assert_eq!(g.keys.len(), 127);
    let ended: std::collections::HashMap<usize, Duration> = p
        .tasks
        .iter()
        .map(|t| (t.task, t.start + t.duration))
        .collect();
    for t in &p.tasks {
        assert_eq!(t.run, 0);
        assert_eq!(g.keys[t.task], t.key);
        for d in &g.deps[t.task] {
            assert!(ended[d] <= t.start, "{} before its dependency ended", t.key);
        }
    }
    assert_eq!(g.deps.iter().map(Vec::len).sum::<usize>(), 2 * 63);
    let ops = p.by_operation();
    assert_eq!(ops.iter().map(|o| o.1).sum::<usize>(), 127);
    // Chrome trace: one complete event per task, on the worker's track.
    let trace: serde_json::Value = serde_json::from_str(&p.to_chrome_trace()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert_eq!(events.iter().filter(|e| e["ph"] == "X").count(), 127);
    assert!(
        events
            .iter()
            .filter(|e| e["ph"] == "X")
            .all(|e| e["tid"].as_u64().unwrap() < 3)
    );
    assert!(events.iter().any(|e| e["name"] == "held bytes"));
}

#[test]
fn the_html_has_a_row_per_worker_and_a_rectangle_per_task() {
    let (p, _) = profiled_run(2, 16, Duration::from_micros(200));
    let html = p.to_html("tree <sum>");
    assert_eq!(html.matches(r#"class="row""#).count(), 2);
    assert_eq!(html.matches(r#"class="task""#).count(), 31);
    assert!(html.contains("<title>tree &lt;sum&gt;</title>"));
    assert!(html.contains("leaf (3,)"), "hover text names the key");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
}

/// Chromium's console lines and a screenshot of `html` (a `width`×`height` window).
fn chromium(html: &str, width: u32, height: u32) -> (Vec<String>, (usize, usize, Vec<u8>)) {
    let dir = std::env::temp_dir().join(format!("floe-diag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("profile.html");
    let shot = dir.join("shot.png");
    std::fs::write(&page, html).unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-lcd-text",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--window-size={width},{height}"),
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (scripts/setup.sh installs Debian's chromium)");
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<u8> = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (console, (info.width as usize, info.height as usize, pixels))
}

#[test]
fn the_html_opens_in_chromium_without_errors_and_shows_one_row_per_worker() {
    let (p, _) = profiled_run(3, 48, Duration::from_micros(500));
    let (console, (w, h, px)) = chromium(&p.to_html("profile"), 1400, 1000);
    assert!(
        console
            .iter()
            .all(|l| !l.contains("Uncaught") && !l.contains("Error")),
        "{console:?}"
    );
    // Down one column of the timeline: bands of row background (#f4f4f4) or task colours,
    // separated by white gaps, before the memory panel (#fafafa).
    let x = 400.min(w - 1);
    let at = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        (px[i], px[i + 1], px[i + 2])
    };
    // The plot starts below its 1-px border (#ddd), a line across the page; the title and
    // summary text lie above it.
    let top = (0..h)
        .find(|&y| (0..5).all(|k| at((x + 100 * k).min(w - 1), y) == (221, 221, 221)))
        .expect("the plot's border is in the screenshot");
    let mut bands = 0;
    let mut inside = false;
    // The timeline is 3 rows of 22 px with 4-px gaps (the page's layout); the memory panel
    // below starts after a white gap, and its curves must not count as rows.
    let timeline = 3 * (22 + 4) + 4;
    for y in top + 1..(top + 1 + timeline).min(h) {
        let i = (y * w + x) * 3;
        let (r, g, b) = (px[i], px[i + 1], px[i + 2]);
        if (r, g, b) == (250, 250, 250) {
            break; // the memory panel
        }
        // Row backgrounds are #f4f4f4; task colours are not grey; text and borders are.
        let row = (r, g, b) == (244, 244, 244) || !(r == g && g == b);
        if row && !inside {
            bands += 1;
        }
        inside = row;
    }
    assert_eq!(bands, 3, "one band per worker in the screenshot");
}

fn small_graph() -> (Graph, Vec<TaskId>) {
    let mut b = GraphBuilder::default();
    let x: Vec<TaskId> = (0..3)
        .map(|i| {
            b.add_fn(Key::new("load", &[i]), &[], |_| Ok(Value::new(())))
                .unwrap()
        })
        .collect();
    let y: Vec<TaskId> = x
        .iter()
        .enumerate()
        .map(|(i, &xi)| {
            b.add_fn(Key::new("inc", &[i as u32]), &[xi], |_| Ok(Value::new(())))
                .unwrap()
        })
        .collect();
    let total = b
        .add_fn(Key::named("sum"), &y, |_| Ok(Value::new(())))
        .unwrap();
    let _unused = b
        .add_fn(Key::named("unused"), &[x[0]], |_| Ok(Value::new(())))
        .unwrap();
    (b.build(), vec![total])
}

#[test]
fn dot_pictures_of_a_small_graph() {
    let (g, out) = small_graph();
    insta::assert_snapshot!("plain", to_dot(&g, &out, &DotOptions::default()));
    insta::assert_snapshot!(
        "by_order",
        to_dot(
            &g,
            &out,
            &DotOptions {
                color: Color::Order,
                ..DotOptions::default()
            }
        )
    );
    insta::assert_snapshot!(
        "by_memory_freed",
        to_dot(
            &g,
            &out,
            &DotOptions {
                color: Color::MemoryFreed,
                ..DotOptions::default()
            }
        )
    );
    insta::assert_snapshot!(
        "collapsed",
        to_dot(
            &g,
            &out,
            &DotOptions {
                collapse_above: 3,
                ..DotOptions::default()
            }
        )
    );
}

#[test]
fn visualize_writes_dot_or_svg_or_says_graphviz_is_missing() {
    let (g, out) = small_graph();
    let dir = std::env::temp_dir().join(format!("floe-viz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dot = visualize(&g, &out, dir.join("g.dot"), &DotOptions::default()).unwrap();
    assert!(std::fs::read_to_string(dot).unwrap().starts_with("digraph"));
    let has_dot = std::process::Command::new("dot").arg("-V").output().is_ok();
    match visualize(&g, &out, dir.join("g.svg"), &DotOptions::default()) {
        Ok(svg) => {
            assert!(has_dot);
            assert!(std::fs::read_to_string(svg).unwrap().contains("<svg"));
        }
        Err(e) => {
            assert!(!has_dot, "{e}");
            assert!(e.to_string().contains("apt install graphviz"), "{e}");
            assert!(dir.join("g.dot").exists());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The page's DOM after its scripts ran, opened at `#t=SECONDS`, and Chromium's console.
fn chromium_dom(html: &str, t: f64) -> (String, Vec<String>) {
    chromium_dom_at(html, &format!("t={t}"), &[])
}

/// The page's DOM opened at `#hash`, with Chromium's extra `args`.
fn chromium_dom_at(html: &str, hash: &str, args: &[&str]) -> (String, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("floe-replay-{}-{hash}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("profile.html");
    std::fs::write(&page, html).unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .args(args)
        .arg(format!("file://{}#{hash}", page.display()))
        .output()
        .expect("chromium runs (scripts/setup.sh installs Debian's chromium)");
    let _ = std::fs::remove_dir_all(&dir);
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

/// The replay shows one circle per task; at any moment exactly the tasks the profile says
/// were running are drawn running; at the end every task is done and only the output's
/// result is held.
#[test]
fn the_replay_shows_the_running_tasks_of_any_moment() {
    let (p, _) = profiled_run(3, 48, Duration::from_micros(500));
    let html = p.to_html("replay");
    let n = p.tasks.len();
    let secs = |d: Duration| d.as_secs_f64();
    // Moments inside tasks: the middle of a leaf's run and of the last combine's.
    let leaf = p.tasks.iter().find(|t| t.key.name() == "leaf").unwrap();
    let root = p.tasks.iter().max_by_key(|t| t.start + t.duration).unwrap();
    for task in [leaf, root] {
        let t = secs(task.start) + secs(task.duration) / 2.0;
        let want = p
            .tasks
            .iter()
            .filter(|r| secs(r.start) <= t && t < secs(r.start) + secs(r.duration))
            .count();
        let (dom, console) = chromium_dom(&html, t);
        no_uncaught(&console);
        assert_eq!(dom.matches("class=\"task-node").count(), n);
        assert!(
            dom.contains(&format!("data-running=\"{want}\"")),
            "{want} running at {t}"
        );
        assert_eq!(dom.matches("class=\"task-node running\"").count(), want);
    }
    let (dom, _) = chromium_dom(&html, secs(p.span()) * 2.0);
    assert_eq!(dom.matches("class=\"task-node done\"").count(), n);
    assert_eq!(dom.matches("class=\"result-box held\"").count(), 1);
    assert_eq!(dom.matches("class=\"result-box freed\"").count(), n - 1);
    assert!(dom.contains("id=\"cursor\""));
}

/// Pressing play advances the replay: a page opened playing, given five seconds of
/// (virtual) time, has moved past its start and shows tasks done.
#[test]
fn pressing_play_advances_the_replay() {
    let (p, _) = profiled_run(2, 16, Duration::from_micros(200));
    let html = p.to_html("replay");
    let (before, _) = chromium_dom_at(&html, "t=0", &[]);
    assert!(before.contains("0/31 done"), "nothing done at the start");
    let (dom, console) = chromium_dom_at(&html, "play", &["--virtual-time-budget=5000"]);
    no_uncaught(&console);
    let t = replay_time(&dom);
    assert!(t > 0.0, "played to {t}");
    // The states drawn are those of the moment it played to.
    let done = p
        .tasks
        .iter()
        .filter(|r| (r.start + r.duration).as_secs_f64() <= t)
        .count();
    assert!(
        dom.contains(&format!("{done}/31 done")),
        "{done} done at {t}"
    );
}

/// A graph past the replay's limit is drawn one node per operation, with counts.
#[test]
fn large_graphs_replay_by_operation() {
    let (p, _) = profiled_run(2, 1024, Duration::ZERO);
    let (dom, console) = chromium_dom(&p.to_html("replay"), secs_end(&p));
    no_uncaught(&console);
    assert_eq!(
        dom.matches("class=\"task-node").count(),
        2,
        "leaf and combine"
    );
    assert!(dom.contains("leaf: 0 running, 1024/1024 done"));
    assert!(dom.contains("combine: 0 running, 1023/1023 done"));
}

fn secs_end(p: &floe_diagnostics::Profile) -> f64 {
    p.span().as_secs_f64() * 2.0
}

/// A click in the middle of the timeline moves the replay to the middle of the run.
#[test]
fn a_click_on_the_timeline_moves_the_replay() {
    let (p, _) = profiled_run(2, 16, Duration::from_micros(200));
    let click = r#"<script>
const plot = document.getElementById("plot"), r = plot.getBoundingClientRect();
const at = { clientX: r.left + r.width / 2, clientY: r.top + 5, bubbles: true };
plot.dispatchEvent(new MouseEvent("mousedown", at));
plot.dispatchEvent(new MouseEvent("click", at));
</script></body>"#;
    let html = p.to_html("replay").replace("</body>", click);
    let (dom, console) = chromium_dom_at(&html, "t=0", &[]);
    no_uncaught(&console);
    let t = replay_time(&dom);
    let half = p.span().as_secs_f64() / 2.0;
    assert!(
        (t - half).abs() < half * 0.01,
        "clicked to {t}, the middle is {half}"
    );
}

/// The moment the replay shows (its `data-t`), from the page's DOM.
fn replay_time(dom: &str) -> f64 {
    dom.split("data-t=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|v| v.parse().ok())
        .expect("the replay's time")
}

/// That the page's scripts threw nothing.
fn no_uncaught(console: &[String]) {
    assert!(
        console.iter().all(|l| !l.contains("Uncaught")),
        "{console:?}"
    );
}
