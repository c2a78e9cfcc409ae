//! Byte counts for people.

/// A byte count for people, in binary units: `1.5 GiB`, `800 B`.
///
/// # Examples
///
/// ```
/// assert_eq!(floe_graph::human_bytes(800), "800 B");
/// assert_eq!(floe_graph::human_bytes(3 << 29), "1.5 GiB");
/// ```
pub fn human_bytes(n: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}
