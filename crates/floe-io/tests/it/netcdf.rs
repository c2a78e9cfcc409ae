use floe_array::{DType, Idx};
use floe_io::{IoError, describe, open_mfnetcdf, open_netcdf};
use ndarray::{ArrayD, IxDyn};

use crate::{compute, fixture};

/// The values gen_netcdf.py writes: 250 + t + 0.5·lat + 0.25·lon.
fn grid(nt: usize, t0: usize) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[nt, 9, 12]), |i| {
        (250.0 + (t0 + i[0]) as f64 + 0.5 * i[1] as f64 + 0.25 * i[2] as f64) as f32
    })
}

#[test]
fn a_contiguous_variable_reads_as_python_wrote_it() {
    let x = open_netcdf(fixture("day1.nc"), "t2m", [4_usize, 4, 5]).unwrap();
    assert_eq!(x.shape(), &[4, 9, 12]);
    assert_eq!(x.dtype(), DType::F32);
    assert_eq!(x.numblocks(), vec![1, 3, 3]);
    assert_eq!(compute(&x).unwrap().into_f32().unwrap(), grid(4, 4));
}

#[test]
fn chunked_compressed_variables_with_fill_values_become_nan() {
    let x = open_netcdf(fixture("chunked.nc"), "t2m", [3_usize, 5, 7]).unwrap();
    let got = compute(&x).unwrap().into_f32().unwrap();
    let mut want = grid(4, 0);
    want[[1, 2, 3]] = f32::NAN;
    want[[3, 8, 11]] = f32::NAN;
    for (g, w) in got.iter().zip(want.iter()) {
        assert!(g == w || (g.is_nan() && w.is_nan()), "{g} vs {w}");
    }
}

#[test]
fn packed_integers_unpack_with_scale_and_offset() {
    let x = open_netcdf(fixture("packed.nc"), "t2m", 5).unwrap();
    assert_eq!(x.dtype(), DType::F32, "the dtype of scale_factor");
    let got = compute(&x).unwrap().into_f32().unwrap();
    assert!(got[[0, 0, 0]].is_nan(), "the fill value is masked");
    let want = grid(4, 0);
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate().skip(1) {
        assert!((g - w).abs() < 0.006, "{i}: {g} vs {w}");
    }
}

#[test]
fn daily_files_concatenate_along_time_and_slices_read_one_file() {
    let paths: Vec<_> = (0..3).map(|d| fixture(&format!("day{d}.nc"))).collect();
    let x = open_mfnetcdf(&paths, "t2m", [4_usize, 200, 200]).unwrap();
    assert_eq!(x.shape(), &[12, 9, 12]);
    assert_eq!(x.numblocks(), vec![3, 1, 1], "one block per file");
    assert_eq!(compute(&x).unwrap().into_f32().unwrap(), grid(12, 0));
    // x[5]: one block of one file.
    let day = x.slice(&[Idx::Int(5)]).unwrap();
    assert_eq!(day.task_count().unwrap(), 3);
    assert_eq!(
        compute(&day).unwrap().into_f32().unwrap(),
        grid(12, 0).index_axis(ndarray::Axis(0), 5).to_owned()
    );
}

#[test]
fn describe_lists_dimensions_dtypes_and_attributes() {
    let vars = describe(fixture("day0.nc")).unwrap();
    let t2m = vars.iter().find(|v| v.name == "t2m").unwrap();
    assert_eq!(
        t2m.dimensions,
        vec![("time".into(), 4), ("lat".into(), 9), ("lon".into(), 12)]
    );
    assert_eq!(t2m.dtype, Some(DType::F32));
    assert!(t2m.attributes.contains(&("units".into(), "K".into())));
    assert!(vars.iter().any(|v| v.name == "lat"));
}

#[test]
fn bad_inputs_name_the_file_and_the_problem() {
    let e = open_netcdf(fixture("day0.nc"), "sst", 4).unwrap_err();
    assert!(matches!(e, IoError::MissingVariable { .. }));
    assert!(
        e.to_string().contains("no variable `sst` (it has: ") && e.to_string().contains("t2m"),
        "{e}"
    );
    let e = open_netcdf(fixture("nope.nc"), "t2m", 4).unwrap_err();
    assert!(
        matches!(e, IoError::Os { .. }) && e.to_string().contains("nope.nc"),
        "{e}"
    );
    let e = open_netcdf(fixture("f8_5x7.npy"), "t2m", 4).unwrap_err();
    assert!(
        e.to_string()
            .contains("f8_5x7.npy: not a valid NetCDF file"),
        "{e}"
    );
    let e = open_mfnetcdf(&[fixture("day0.nc"), fixture("f8_5x7.npy")], "t2m", 4).unwrap_err();
    assert!(e.to_string().contains("f8_5x7.npy"), "{e}");
    assert!(open_mfnetcdf(&[], "t2m", 4).is_err());
}

#[test]
fn truncated_and_corrupted_files_are_errors_not_panics() {
    let dir = crate::Scratch::new("nc");
    let path = dir.0.join("c.nc");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    // chunked.nc and every layout of layouts.nc: chunk indexes, filters, fill values.
    let vars = [
        ("chunked.nc", "t2m", 200),
        ("layouts.nc", "deflate", 60),
        ("layouts.nc", "shuffle_be", 60),
        ("layouts.nc", "plain", 60),
        ("layouts.nc", "unlimited", 60),
        ("layouts.nc", "fletcher", 30),
        ("layouts.nc", "sparse", 30),
    ];
    for (file, var, rounds) in vars {
        let bytes = std::fs::read(fixture(file)).unwrap();
        for round in 0..rounds {
            let mut b = bytes.clone();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if round % 2 == 0 {
                b.truncate((state % bytes.len() as u64) as usize);
            } else {
                for k in 0..8 {
                    let at = ((state >> (k * 8)) % bytes.len() as u64) as usize;
                    b[at] ^= (state >> 3) as u8 | 1;
                }
            }
            std::fs::write(&path, &b).unwrap();
            let outcome = std::panic::catch_unwind(|| {
                if let Ok(x) = open_netcdf(&path, var, 2) {
                    let _ = compute(&x);
                }
            });
            assert!(
                outcome.is_ok(),
                "{file} {var} round {round}: a corrupted file panicked the reader"
            );
        }
    }
}

/// The `IoError` a failed run carries (scheduler error → task error → I/O error).
fn io_cause(e: &floe_scheduler::Error) -> Option<&IoError> {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<IoError>() {
            return Some(io);
        }
        cause = c.source();
    }
    None
}

#[test]
fn chunks_that_do_not_decode_fail_the_read_with_a_typed_error() {
    let dir = crate::Scratch::new("nc-bad-chunk");
    let path = dir.0.join("c.nc");
    let bytes = std::fs::read(fixture("layouts.nc")).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    // The chunk index is read when the variable is opened; the chunks when blocks are read.
    let x = open_netcdf(&path, "deflate", [4_usize, 9, 12]).unwrap();
    // Chunk bytes that are not a deflate stream.
    std::fs::write(&path, vec![0xa5; bytes.len()]).unwrap();
    let e = compute(&x).unwrap_err();
    let io = io_cause(&e).unwrap_or_else(|| panic!("not an IoError: {e}"));
    assert!(matches!(io, IoError::Format { .. }), "{io:?}");
    let msg = io.to_string();
    assert!(
        msg.contains("c.nc") && msg.contains("chunk [") && msg.contains("`deflate`"),
        "{msg}"
    );
    // A file cut short under the array.
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let e = compute(&x).unwrap_err();
    let io = io_cause(&e).unwrap_or_else(|| panic!("not an IoError: {e}"));
    assert!(io.to_string().contains("past the end of the file"), "{io}");
}

#[test]
fn chunked_layouts_read_as_python_wrote_them() {
    let want = grid(4, 0);
    let open = |var: &str, chunks: [usize; 3]| {
        compute(&open_netcdf(fixture("layouts.nc"), var, chunks).unwrap()).unwrap()
    };
    // Blocks that match the chunks, cut them, straddle them, and hold several.
    for chunks in [
        [4_usize, 9, 12],
        [1, 2, 5],
        [3, 4, 7],
        [2, 9, 1],
        [4, 5, 12],
    ] {
        // Deflate without shuffle in partial edge chunks; an unlimited axis; Fletcher-32
        // (through netcdf-reader).
        for var in ["deflate", "unlimited", "fletcher"] {
            assert_eq!(
                open(var, chunks).into_f32().unwrap(),
                want,
                "{var} {chunks:?}"
            );
        }
        // Big-endian float64, shuffled and deflated.
        let be = open("shuffle_be", chunks);
        assert_eq!(be.dtype(), DType::F64);
        assert_eq!(be.into_f64().unwrap(), want.mapv(f64::from), "{chunks:?}");
        // Chunked with no filter at all.
        let plain = open("plain", chunks).into_typed::<i16>();
        assert_eq!(plain, want.mapv(|v| (v * 4.0) as i16), "{chunks:?}");
        // Only the first time step was written: the rest is the fill value, masked.
        let sparse = open("sparse", chunks).into_f32().unwrap();
        let first = sparse.index_axis(ndarray::Axis(0), 0);
        assert_eq!(first, want.index_axis(ndarray::Axis(0), 0), "{chunks:?}");
        assert!(sparse.iter().skip(9 * 12).all(|v| v.is_nan()), "{chunks:?}");
    }
}

#[test]
fn reads_are_named_for_profiles_and_pictures() {
    // Contiguous (read directly) and chunked (through netcdf-reader) variables alike.
    for name in ["day0.nc", "chunked.nc"] {
        let x = open_netcdf(fixture(name), "t2m", [4_usize, 9, 12]).unwrap();
        assert_eq!(x.name(), "read-netcdf", "{name}");
    }
    let x = floe_io::from_npy(fixture("f8_5x7.npy"), 3).unwrap();
    assert_eq!(x.name(), "read-npy");
}
