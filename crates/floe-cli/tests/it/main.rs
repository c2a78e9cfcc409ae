//! The `floe` command end to end on a tiny synthetic set: the maps exist, have the right
//! size, and their pixels follow the computed arrays; bad input fails with a clear message.

use std::path::{Path, PathBuf};
use std::process::Command;

use floe::array::ArrayCompute;

fn floe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_floe"))
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("floe-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_png(path: &Path) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

fn field(dir: &Path, name: &str) -> ndarray::ArrayD<f64> {
    floe::io::from_npy(dir.join(format!("{name}.npy")), "auto")
        .unwrap()
        .compute_as::<f64>()
        .unwrap()
}

#[test]
fn climate_on_a_tiny_synthetic_set_draws_the_three_maps() {
    let dir = Scratch::new("climate");
    let out = floe()
        .args([
            "climate",
            "--synthetic",
            "3",
            "--grid",
            "37,72",
            "--save-arrays",
            "--threads",
            "2",
            "--memory-limit",
            "1MB",
            "--out",
        ])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 files: floe.Array<concatenate, shape=(12, 37, 72), dtype=float32"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_dir(dir.0.join("data")).unwrap().count(), 3);

    // The NetCDF copies of the results hold the same values as the .npy ones.
    for name in ["mean", "anomaly", "day-vs-night"] {
        let nc = floe::io::open_netcdf(dir.0.join(format!("{name}.nc")), name, "auto")
            .unwrap()
            .compute_as::<f64>()
            .unwrap();
        assert_eq!(nc, field(&dir.0, name), "{name}.nc");
    }

    // Title band (12 px) + 37 map rows + colour bar band (24 px), 72 wide.
    let top = 12;
    for name in ["mean", "anomaly", "day-vs-night"] {
        let (w, h, _) = read_png(&dir.0.join(format!("{name}.png")));
        assert_eq!((w, h), (72, 12 + 37 + 24), "{name}.png");
    }
    let px = |img: &[u8], r: usize, c: usize| {
        let i = ((top + r) * 72 + c) * 3;
        [img[i], img[i + 1], img[i + 2]]
    };

    // The mean map: brighter where the mean is higher (bone is monotone in brightness).
    let mean = field(&dir.0, "mean");
    let (_, _, img) = read_png(&dir.0.join("mean.png"));
    let bright = |p: [u8; 3]| u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]);
    let (mut lo, mut hi) = ((0, 0), (0, 0));
    for ((r, c), v) in mean.indexed_iter().map(|(i, v)| ((i[0], i[1]), *v)) {
        if v < mean[[lo.0, lo.1]] {
            lo = (r, c);
        }
        if v > mean[[hi.0, hi.1]] {
            hi = (r, c);
        }
    }
    assert!(bright(px(&img, hi.0, hi.1)) > bright(px(&img, lo.0, lo.1)) + 300);

    // The diverging maps: red where positive, blue where negative, for the clear cases.
    for name in ["anomaly", "day-vs-night"] {
        let f = field(&dir.0, name);
        let (_, _, img) = read_png(&dir.0.join(format!("{name}.png")));
        let max = f.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let mut checked = 0;
        for (i, &v) in f.indexed_iter() {
            let p = px(&img, i[0], i[1]);
            if v > 0.5 * max {
                assert!(p[0] > p[2], "{name} at {i:?}: {v} drawn {p:?}");
                checked += 1;
            } else if v < -0.5 * max {
                assert!(p[2] > p[0], "{name} at {i:?}: {v} drawn {p:?}");
                checked += 1;
            }
        }
        assert!(checked > 50, "{name}: only {checked} clear pixels");
    }

    // floe info on one of the files it wrote.
    let file = std::fs::read_dir(dir.0.join("data"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let info = floe().arg("info").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success());
    assert!(
        text.contains("t2m (time=4, latitude=37, longitude=72) float32")
            && text.contains("units: K"),
        "{text}"
    );
}

#[test]
fn bad_input_fails_with_a_message_naming_it() {
    let dir = Scratch::new("bad");
    let out = floe()
        .args(["climate", "--data"])
        .arg(dir.0.join("missing"))
        .arg("--out")
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = floe()
        .args(["climate", "--memory-limit", "lots", "--out"])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read \"lots\" as a size"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = floe()
        .args([
            "climate",
            "--synthetic",
            "1",
            "--grid",
            "5,8",
            "--var",
            "sst",
            "--out",
        ])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no variable `sst`") && err.contains("t2m"),
        "{err}"
    );

    let out = floe()
        .args(["climate", "--chunks", "4,0,2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = floe()
        .arg("info")
        .arg(dir.0.join("nope.nc"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}
