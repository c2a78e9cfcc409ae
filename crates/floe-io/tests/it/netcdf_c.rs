//! The NetCDF C library as the reference: floe's pure-Rust reader agrees with it value for
//! value (raw values CF-decoded from the attributes the C library reports), on the Python
//! fixtures and on files the C library writes with random shapes, chunkings and layouts; and
//! files floe writes read back the same through the C library.

use floe_array::{DType, DynArray};
use floe_io::{open_mfnetcdf, open_netcdf};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

use crate::{Scratch, compute, fixture};

fn attr_f64(v: &netcdf::Variable<'_>, name: &str) -> Option<f64> {
    let value = v.attribute(name)?.value().ok()?;
    Some(match value {
        netcdf::AttributeValue::Float(x) => f64::from(x),
        netcdf::AttributeValue::Double(x) => x,
        netcdf::AttributeValue::Short(x) => f64::from(x),
        netcdf::AttributeValue::Int(x) => f64::from(x),
        netcdf::AttributeValue::Floats(x) => f64::from(x[0]),
        netcdf::AttributeValue::Doubles(x) => x[0],
        netcdf::AttributeValue::Shorts(x) => f64::from(x[0]),
        netcdf::AttributeValue::Ints(x) => f64::from(x[0]),
        _ => return None,
    })
}

/// `var` as the C library reads it, masked and unpacked as CF says, in f64.
fn reference(path: &std::path::Path, var: &str) -> ArrayD<f64> {
    let f = netcdf::open(path).unwrap();
    let v = f.variable(var).unwrap();
    let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
    let raw: Vec<f64> = v.get_values::<f64, _>(..).unwrap();
    let fill = attr_f64(&v, "_FillValue").or_else(|| attr_f64(&v, "missing_value"));
    let scale = attr_f64(&v, "scale_factor").unwrap_or(1.0);
    let offset = attr_f64(&v, "add_offset").unwrap_or(0.0);
    let decoded = raw
        .into_iter()
        .map(|x| {
            if fill == Some(x) {
                f64::NAN
            } else {
                x * scale + offset
            }
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), decoded).unwrap()
}

fn as_f64(a: DynArray) -> ArrayD<f64> {
    a.astype(DType::F64).into_f64().unwrap()
}

fn same(got: &ArrayD<f64>, want: &ArrayD<f64>, tol: f64) -> bool {
    got.shape() == want.shape()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| (g.is_nan() && w.is_nan()) || (g - w).abs() <= tol * w.abs().max(1.0))
}

#[test]
fn the_python_fixtures_read_as_the_c_library_reads_them() {
    for (name, chunks, tol) in [
        ("day0.nc", [4_usize, 5, 5], 0.0),
        ("day2.nc", [1, 9, 12], 0.0),
        ("chunked.nc", [3, 4, 7], 0.0),
        // Unpacking is done in float32 (the dtype of scale_factor), as xarray does.
        ("packed.nc", [2, 2, 2], 1e-6),
    ] {
        let got = as_f64(compute(&open_netcdf(fixture(name), "t2m", chunks).unwrap()).unwrap());
        let want = reference(&fixture(name), "t2m");
        assert!(
            same(&got, &want, tol),
            "{name}: floe and libnetcdf disagree"
        );
    }
    let days: Vec<_> = (0..3).map(|d| fixture(&format!("day{d}.nc"))).collect();
    let got = as_f64(compute(&open_mfnetcdf(&days, "t2m", [4_usize, 3, 12]).unwrap()).unwrap());
    let want = ndarray::concatenate(
        ndarray::Axis(0),
        &days
            .iter()
            .map(|p| reference(p, "t2m"))
            .collect::<Vec<_>>()
            .iter()
            .map(|a| a.view())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(same(&got, &want, 0.0));
}

/// Writes `data` with the C library: contiguous, or chunked (`chunk`) and maybe deflated.
fn write_c(path: &std::path::Path, data: &ArrayD<f32>, chunk: Option<&[usize]>, deflate: bool) {
    let mut f = netcdf::create(path).unwrap();
    let dims: Vec<String> = (0..data.ndim()).map(|a| format!("d{a}")).collect();
    for (d, &n) in dims.iter().zip(data.shape()) {
        f.add_dimension(d, n).unwrap();
    }
    let refs: Vec<&str> = dims.iter().map(String::as_str).collect();
    let mut v = f.add_variable::<f32>("v", &refs).unwrap();
    if let Some(c) = chunk {
        v.set_chunking(c).unwrap();
        if deflate {
            v.set_compression(4, true).unwrap();
        }
    }
    let flat: Vec<f32> = data.iter().copied().collect();
    v.put_values(&flat, ..).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn files_the_c_library_writes_read_back_exactly(
        shape in proptest::collection::vec(1_usize..9, 1..4),
        layout in 0_u8..3,
        file_chunk in 1_usize..5,
        read_chunk in 1_usize..6,
        seed in any::<u32>(),
    ) {
        let dir = Scratch::new("nc-c");
        let path = dir.0.join("c.nc");
        let data = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
            let flat = ndarray::Dimension::slice(&i).iter().fold(0_u64, |a, &x| a * 31 + x as u64);
            ((flat.wrapping_mul(2_654_435_761) ^ u64::from(seed)) % 100_000) as f32 / 7.0
        });
        let chunk: Vec<usize> = shape.iter().map(|&n| file_chunk.min(n)).collect();
        write_c(&path, &data, (layout > 0).then_some(&chunk[..]), layout == 2);
        let x = open_netcdf(&path, "v", read_chunk).unwrap();
        prop_assert_eq!(compute(&x).unwrap().into_f32().unwrap(), data);
    }
}

#[test]
fn contiguous_variables_with_fill_values_read_directly_as_nan() {
    let dir = Scratch::new("nc-fill");
    let path = dir.0.join("f.nc");
    {
        let mut f = netcdf::create(&path).unwrap();
        f.add_dimension("y", 5).unwrap();
        f.add_dimension("x", 7).unwrap();
        let mut v = f.add_variable::<f32>("v", &["y", "x"]).unwrap();
        v.set_fill_value(-999.0_f32).unwrap();
        let mut vals: Vec<f32> = (0..35).map(|i| i as f32 * 0.5).collect();
        vals[3] = -999.0;
        vals[34] = -999.0;
        v.put_values(&vals, ..).unwrap();
    }
    let got = compute(&open_netcdf(&path, "v", [2_usize, 3]).unwrap())
        .unwrap()
        .into_f32()
        .unwrap();
    let want = reference(&path, "v");
    assert!(got[[0, 3]].is_nan() && got[[4, 6]].is_nan());
    assert!(same(&got.mapv(f64::from), &want, 0.0));
}

#[cfg(feature = "netcdf-write")]
mod writing {
    use super::*;
    use floe_array::{Array, from_ndarray};
    use floe_io::{IoError, NetcdfOptions, to_netcdf};

    fn write(x: &Array, path: &std::path::Path, opts: &NetcdfOptions) {
        let done = compute(&to_netcdf(x, path, "v", opts).unwrap()).unwrap();
        assert!(done.into_bool().unwrap()[[]]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn arrays_floe_writes_read_back_through_both_readers(
            shape in proptest::collection::vec(0_usize..7, 1..4),
            chunk in 1_usize..4,
            kind in 0_u8..3,
            deflate in any::<bool>(),
        ) {
            let dir = Scratch::new("nc-w");
            let path = dir.0.join("w.nc");
            let base = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
                ndarray::Dimension::slice(&i).iter().fold(0_i64, |a, &x| a * 10 + x as i64) - 300
            });
            let data = match kind {
                0 => DynArray::from(base.mapv(|v| v as f64 / 8.0)),
                1 => DynArray::from(base.mapv(|v| v as i16)),
                _ => DynArray::from(base.mapv(|v| v as f32 * 0.5)),
            };
            let x = floe_array::with_array!(data.clone(), a => from_ndarray(a, chunk).unwrap());
            let mut opts = NetcdfOptions::default().attribute("units", "K");
            if deflate {
                opts = opts.deflate(3);
            }
            write(&x, &path, &opts);
            let back = compute(&open_netcdf(&path, "v", 2).unwrap()).unwrap();
            prop_assert_eq!(back.dtype(), data.dtype());
            prop_assert_eq!(&back, &data);
            let c = netcdf::open(&path).unwrap();
            let v = c.variable("v").unwrap();
            prop_assert_eq!(v.dimensions().len(), shape.len());
            if !shape.contains(&0) {
                prop_assert!(same(&reference(&path, "v"), &as_f64(data), 0.0));
            }
        }
    }

    #[test]
    fn names_attributes_and_a_transposed_view_are_written_as_given() {
        let dir = Scratch::new("nc-names");
        let path = dir.0.join("t.nc");
        let x = from_ndarray(
            ArrayD::from_shape_fn(IxDyn(&[3, 5]), |i| (i[0] * 5 + i[1]) as f32),
            [2_usize, 2],
        )
        .unwrap();
        let t = x.t().add_scalar(1.0).unwrap();
        let opts = NetcdfOptions::dims(["lon", "lat"])
            .attribute("units", "K")
            .attribute("long_name", "test field");
        write(&t, &path, &opts);
        let info = floe_io::describe(&path).unwrap();
        let v = info.iter().find(|v| v.name == "v").unwrap();
        assert_eq!(
            v.dimensions,
            vec![("lon".to_string(), 5), ("lat".to_string(), 3)]
        );
        assert!(v.attributes.contains(&("units".into(), "K".into())));
        assert!(
            v.attributes
                .contains(&("long_name".into(), "test field".into()))
        );
        let want = ArrayD::from_shape_fn(IxDyn(&[5, 3]), |i| (i[1] * 5 + i[0]) as f64 + 1.0);
        assert!(same(&reference(&path, "v"), &want, 0.0));
    }

    #[test]
    fn bad_requests_are_errors_and_a_failing_block_keeps_the_others() {
        let dir = Scratch::new("nc-bad");
        let x = floe_array::zeros(&[4, 4], 2, DType::F32).unwrap();
        let e = to_netcdf(&x, dir.0.join("a.nc"), "v", &NetcdfOptions::dims(["y"])).unwrap_err();
        assert!(
            e.to_string().contains("1 dimension names for a 2-d array"),
            "{e}"
        );
        let e = to_netcdf(
            &x,
            dir.0.join("a.nc"),
            "v",
            &NetcdfOptions::dims(["y", "y"]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("`y` is empty or repeated"), "{e}");
        let b = floe_array::zeros(&[4], 2, DType::Bool).unwrap();
        let e = to_netcdf(&b, dir.0.join("b.nc"), "v", &NetcdfOptions::default()).unwrap_err();
        assert!(matches!(e, IoError::Unsupported { .. }), "{e}");
        let z = floe_array::zeros(&[4], 2, DType::C64).unwrap();
        let e = to_netcdf(&z, dir.0.join("z.nc"), "v", &NetcdfOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no complex type"), "{e}");
        let e = to_netcdf(
            &x,
            dir.0.join("no/such/dir/c.nc"),
            "v",
            &NetcdfOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(e, IoError::Os { .. }) && e.to_string().contains("no/such/dir"),
            "{e}"
        );

        // Block (1, 1) fails to compute: the run fails naming it, and the file stays a valid
        // NetCDF file in which every value is either written or still the fill value.
        let f = floe_array::try_from_fn(&[4, 4], 2, DType::F32, |b| {
            if b.index == [1, 1] {
                Err(floe_graph::TaskError::msg("sensor offline"))
            } else {
                Ok(DynArray::full(DType::F32, &b.shape, 7.0))
            }
        })
        .unwrap();
        let path = dir.0.join("partial.nc");
        let e =
            compute(&to_netcdf(&f, &path, "v", &NetcdfOptions::default()).unwrap()).unwrap_err();
        assert!(e.to_string().contains("sensor offline"), "{e}");
        let back = reference(&path, "v");
        assert_eq!(back.shape(), &[4, 4]);
        let fill = f64::from(9.969_21e36_f32); // NC_FILL_FLOAT
        assert!(back.iter().all(|&v| v == 7.0 || v == fill), "{back}");
        assert!(back.slice(ndarray::s![2.., 2..]).iter().all(|&v| v == fill));
    }
}

/// Files for the memory test: `n` of (4, 256, 1024), one chunk per time step, deflated and
/// shuffled, as float32 (`v`, read directly) and as packed int16 (`p`, `scale_factor`: read
/// by netcdf-reader).
fn write_days(dir: &std::path::Path, n: usize) -> Vec<std::path::PathBuf> {
    (0..n)
        .map(|day| {
            let path = dir.join(format!("{day:02}.nc"));
            let mut f = netcdf::create(&path).unwrap();
            for (d, len) in [("time", 4), ("lat", 256), ("lon", 1024)] {
                f.add_dimension(d, len).unwrap();
            }
            let dims = ["time", "lat", "lon"];
            let values: Vec<i16> = (0..4 * 256 * 1024_usize)
                .map(|i| ((i * 7919 + day * 31) % 2000) as i16)
                .collect();
            let mut v = f.add_variable::<f32>("v", &dims).unwrap();
            v.set_chunking(&[1, 256, 1024]).unwrap();
            v.set_compression(1, true).unwrap();
            let floats: Vec<f32> = values.iter().map(|&x| f32::from(x) * 0.01).collect();
            v.put_values(&floats, ..).unwrap();
            let mut p = f.add_variable::<i16>("p", &dims).unwrap();
            p.set_chunking(&[1, 256, 1024]).unwrap();
            p.set_compression(1, true).unwrap();
            p.put_attribute("scale_factor", 0.01_f32).unwrap();
            p.put_values(&values, ..).unwrap();
            path
        })
        .collect()
}

/// The child side of [`memory_does_not_grow_with_the_number_of_files`]: the mean over time
/// of `var` in the first `n` files of `dir`, one block per file; prints the peak RSS.
fn peak_rss_child(spec: &str) {
    let mut parts = spec.split(';');
    let (dir, n, var) = (
        parts.next().unwrap(),
        parts.next().unwrap().parse::<usize>().unwrap(),
        parts.next().unwrap(),
    );
    let files: Vec<_> = (0..n)
        .map(|day| std::path::Path::new(dir).join(format!("{day:02}.nc")))
        .collect();
    let x = open_mfnetcdf(&files, var, [4_usize, 256, 1024]).unwrap();
    let mean = compute(&x.mean(0).unwrap()).unwrap();
    assert_eq!(mean.shape(), &[256, 1024]);
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap();
    println!("PEAK_KIB={}", hwm.trim().trim_end_matches("kB").trim());
}

/// Issue 11: reading a directory of chunked, deflated daily files held every decoded file
/// (netcdf-reader's per-file chunk cache and whole-variable copy, kept by the blocks' read
/// closures) until the end of the run. Peak memory must not grow with the number of files,
/// read directly or through netcdf-reader: 48 files of 4 MiB against 12, each in a child
/// process (this test binary, run for this test alone) that reports its peak RSS. (The
/// reduction tree's partials add a few MiB a level: ~8 MiB from 12 to 48 files.)
#[test]
fn memory_does_not_grow_with_the_number_of_files() {
    if let Ok(spec) = std::env::var("FLOE_IO_PEAK_RSS_CHILD") {
        peak_rss_child(&spec);
        return;
    }
    let dir = Scratch::new("nc-rss");
    write_days(&dir.0, 48);
    let peak = |n: usize, var: &str| -> u64 {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "netcdf_c::memory_does_not_grow_with_the_number_of_files",
                "--exact",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(
                "FLOE_IO_PEAK_RSS_CHILD",
                format!("{};{n};{var}", dir.0.display()),
            )
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .lines()
            .find_map(|l| l.split("PEAK_KIB=").nth(1)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak in the child's output: {stdout}"))
    };
    for var in ["v", "p"] {
        let (few, many) = (peak(12, var), peak(48, var));
        // Held decoded files would add 36 × 4 MiB = 144 MiB.
        assert!(
            many < few + 48 * 1024,
            "`{var}`: peak {many} KiB for 48 files against {few} KiB for 12"
        );
        eprintln!("`{var}`: peak RSS {few} KiB for 12 files, {many} KiB for 48");
    }
}
