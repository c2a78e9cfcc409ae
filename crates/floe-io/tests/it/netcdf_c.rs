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
