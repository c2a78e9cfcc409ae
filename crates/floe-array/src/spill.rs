//! Blocks on disk: the codecs a memory-budgeted run uses to spill a value and read it back.
//!
//! A block's spill file holds a magic tag, the dtype, the shape and the elements in
//! row-major order and native byte order (a spill file never leaves the process that wrote
//! it). Reading allocates the block once and fills it straight from the file. A reduction's
//! partial result is a tag for its kind followed by its arrays, each written as a block.

use std::io::{self, Read, Write};

use floe_graph::{SpillCodec, Value};
use ndarray::{ArrayD, IxDyn};

use crate::reduction::Partial;
use crate::{Complex, DType, DynArray};

const MAGIC: &[u8; 8] = b"FLOEBLK1";

/// A dtype's code in a spill file is its position in [`DType::ALL`].
///
/// The codec of array blocks (every block value made by the array library carries it).
pub(crate) static BLOCK_CODEC: SpillCodec = SpillCodec {
    write: write_block,
    read: read_block,
};

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("spill file: {what}"))
}

/// The codec of reductions' partial results.
pub(crate) static PARTIAL_CODEC: SpillCodec = SpillCodec {
    write: write_partial,
    read: read_partial,
};

fn write_block(value: &Value, w: &mut dyn Write) -> io::Result<()> {
    let block = value
        .downcast_ref::<DynArray>()
        .ok_or_else(|| invalid("not an array block"))?;
    write_array(block, w)
}

fn read_block(r: &mut dyn Read) -> io::Result<Value> {
    read_block_within(r, usize::MAX)
}

/// A block value from at most `limit` bytes: a shape that needs more is an error, never
/// an allocation of what the bytes do not hold (bytes from another process).
pub(crate) fn read_block_within(r: &mut dyn Read, limit: usize) -> io::Result<Value> {
    Ok(crate::lower::block_value(read_array(r, limit)?))
}

/// The tags of [`Partial`]'s kinds in a spill file.
const MEAN: u8 = 1;
const MOMENTS: u8 = 2;
const ARG: u8 = 3;
const BLOCK: u8 = 4;
const NAN_MEAN: u8 = 5;

fn write_partial(value: &Value, w: &mut dyn Write) -> io::Result<()> {
    let partial = value
        .downcast_ref::<Partial>()
        .ok_or_else(|| invalid("not a partial result"))?;
    match partial {
        Partial::Block(b) => {
            w.write_all(&[BLOCK])?;
            write_array(b, w)
        }
        Partial::Mean { sum, n } => {
            w.write_all(&[MEAN])?;
            w.write_all(&n.to_le_bytes())?;
            write_typed(DType::F64, sum, w)
        }
        Partial::NanMean { sum, n } => {
            w.write_all(&[NAN_MEAN])?;
            write_typed(DType::F64, sum, w)?;
            write_typed(DType::F64, n, w)
        }
        Partial::Moments { n, mean, m2 } => {
            w.write_all(&[MOMENTS])?;
            for a in [n, mean, m2] {
                write_typed(DType::F64, a, w)?;
            }
            Ok(())
        }
        Partial::Arg { value, index, span } => {
            w.write_all(&[ARG])?;
            w.write_all(&span.unwrap_or(-1).to_le_bytes())?;
            write_array(value, w)?;
            write_typed(DType::I64, index, w)
        }
    }
}

fn read_partial(r: &mut dyn Read) -> io::Result<Value> {
    read_partial_within(r, usize::MAX)
}

/// A partial result's value from at most `limit` bytes (see [`read_block_within`]).
pub(crate) fn read_partial_within(r: &mut dyn Read, limit: usize) -> io::Result<Value> {
    let mut tag = [0_u8; 1];
    r.read_exact(&mut tag)?;
    let f64s = |r: &mut dyn Read| match read_array(r, limit)? {
        DynArray::F64(a) => Ok(a),
        _ => Err(invalid("a partial's array is not float64")),
    };
    let partial = match tag[0] {
        BLOCK => Partial::Block(read_array(r, limit)?),
        MEAN => {
            let mut n = [0_u8; 8];
            r.read_exact(&mut n)?;
            Partial::Mean {
                n: f64::from_le_bytes(n),
                sum: f64s(r)?,
            }
        }
        NAN_MEAN => Partial::NanMean {
            sum: f64s(r)?,
            n: f64s(r)?,
        },
        MOMENTS => Partial::Moments {
            n: f64s(r)?,
            mean: f64s(r)?,
            m2: f64s(r)?,
        },
        ARG => {
            let mut span = [0_u8; 8];
            r.read_exact(&mut span)?;
            let span = i64::from_le_bytes(span);
            Partial::Arg {
                span: (span >= 0).then_some(span),
                value: read_array(r, limit)?,
                index: match read_array(r, limit)? {
                    DynArray::I64(a) => a,
                    _ => return Err(invalid("a partial's index is not int64")),
                },
            }
        }
        _ => return Err(invalid("unknown partial kind")),
    };
    Ok(partial_value(partial))
}

/// A reduction's partial result as a task's value: sized, and spillable under a budget.
pub(crate) fn partial_value(p: Partial) -> Value {
    let n = p.nbytes();
    Value::with_nbytes(p, n).spillable(&PARTIAL_CODEC)
}

fn write_array(block: &DynArray, w: &mut dyn Write) -> io::Result<()> {
    write_header(block.dtype(), block.shape(), w)?;
    match block {
        DynArray::Bool(a) => {
            let bytes: Vec<u8> = a.iter().map(|&b| u8::from(b)).collect();
            w.write_all(&bytes)
        }
        DynArray::I8(a) => write_pod(a, w),
        DynArray::I16(a) => write_pod(a, w),
        DynArray::I32(a) => write_pod(a, w),
        DynArray::I64(a) => write_pod(a, w),
        DynArray::U8(a) => write_pod(a, w),
        DynArray::U16(a) => write_pod(a, w),
        DynArray::U32(a) => write_pod(a, w),
        DynArray::U64(a) => write_pod(a, w),
        DynArray::F32(a) => write_pod(a, w),
        DynArray::F64(a) => write_pod(a, w),
        DynArray::C64(a) => write_pod(&a.mapv(|z| [z.re, z.im]), w),
        DynArray::C128(a) => write_pod(&a.mapv(|z| [z.re, z.im]), w),
    }
}

/// Writes a typed array as [`write_array`] writes the block holding it.
fn write_typed<T: bytemuck::Pod>(dtype: DType, a: &ArrayD<T>, w: &mut dyn Write) -> io::Result<()> {
    write_header(dtype, a.shape(), w)?;
    write_pod(a, w)
}

fn write_header(dtype: DType, shape: &[usize], w: &mut dyn Write) -> io::Result<()> {
    let code = DType::ALL
        .iter()
        .position(|d| *d == dtype)
        .ok_or_else(|| invalid("unknown dtype"))?;
    w.write_all(MAGIC)?;
    let ndim = u8::try_from(shape.len()).map_err(|_| invalid("more than 255 dimensions"))?;
    w.write_all(&[code as u8, ndim])?;
    for &n in shape {
        w.write_all(&(n as u64).to_le_bytes())?;
    }
    Ok(())
}

fn write_pod<T: bytemuck::Pod>(a: &ArrayD<T>, w: &mut dyn Write) -> io::Result<()> {
    match a.as_slice() {
        Some(s) => w.write_all(bytemuck::cast_slice(s)),
        None => {
            let owned = a.as_standard_layout();
            let s = owned
                .as_slice()
                .ok_or_else(|| invalid("a standard-layout copy is not contiguous"))?;
            w.write_all(bytemuck::cast_slice(s))
        }
    }
}

/// A block written by [`write_array`], its elements at most `limit` bytes.
fn read_array(r: &mut dyn Read, limit: usize) -> io::Result<DynArray> {
    let mut magic = [0_u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(invalid("not a floe block"));
    }
    let mut head = [0_u8; 2];
    r.read_exact(&mut head)?;
    let dtype = *DType::ALL
        .get(usize::from(head[0]))
        .ok_or_else(|| invalid("unknown dtype code"))?;
    let mut shape = Vec::with_capacity(usize::from(head[1]));
    for _ in 0..head[1] {
        let mut n = [0_u8; 8];
        r.read_exact(&mut n)?;
        shape.push(usize::try_from(u64::from_le_bytes(n)).map_err(|_| invalid("shape"))?);
    }
    let len = shape
        .iter()
        .try_fold(1_usize, |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| invalid("shape overflows"))?;
    if len.checked_mul(dtype.itemsize()).is_none_or(|n| n > limit) {
        return Err(invalid("the shape needs more bytes than there are"));
    }
    // Zero-length axes aside, the shape must be countable (as ndarray counts it).
    if crate::block::shape_bytes(&shape, dtype.itemsize()).is_none() {
        return Err(invalid("shape overflows"));
    }
    let block = match dtype {
        DType::Bool => {
            let mut bytes = vec![0_u8; len];
            r.read_exact(&mut bytes)?;
            DynArray::Bool(to_array(
                &shape,
                bytes.into_iter().map(|b| b != 0).collect(),
            )?)
        }
        DType::I8 => DynArray::I8(read_pod(r, &shape, len)?),
        DType::I16 => DynArray::I16(read_pod(r, &shape, len)?),
        DType::I32 => DynArray::I32(read_pod(r, &shape, len)?),
        DType::I64 => DynArray::I64(read_pod(r, &shape, len)?),
        DType::U8 => DynArray::U8(read_pod(r, &shape, len)?),
        DType::U16 => DynArray::U16(read_pod(r, &shape, len)?),
        DType::U32 => DynArray::U32(read_pod(r, &shape, len)?),
        DType::U64 => DynArray::U64(read_pod(r, &shape, len)?),
        DType::F32 => DynArray::F32(read_pod(r, &shape, len)?),
        DType::F64 => DynArray::F64(read_pod(r, &shape, len)?),
        DType::C64 => DynArray::C64(
            read_pod::<[f32; 2]>(r, &shape, len)?.mapv(|[re, im]| Complex::new(re, im)),
        ),
        DType::C128 => DynArray::C128(
            read_pod::<[f64; 2]>(r, &shape, len)?.mapv(|[re, im]| Complex::new(re, im)),
        ),
    };
    Ok(block)
}

fn read_pod<T: bytemuck::Pod>(
    r: &mut dyn Read,
    shape: &[usize],
    len: usize,
) -> io::Result<ArrayD<T>> {
    let mut data = vec![T::zeroed(); len];
    r.read_exact(bytemuck::cast_slice_mut(&mut data))?;
    to_array(shape, data)
}

fn to_array<T>(shape: &[usize], data: Vec<T>) -> io::Result<ArrayD<T>> {
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|_| invalid("shape and length disagree"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Axis;

    fn round_trip(block: DynArray) -> DynArray {
        let v = crate::lower::block_value(block);
        let mut file = Vec::new();
        (v.codec().expect("blocks are spillable").write)(&v, &mut file).unwrap();
        let back = (BLOCK_CODEC.read)(&mut file.as_slice()).unwrap();
        assert_eq!(back.nbytes(), v.nbytes());
        assert!(back.codec().is_some(), "a block read back can spill again");
        back.downcast_ref::<DynArray>().unwrap().clone()
    }

    #[test]
    fn every_dtype_round_trips() {
        let base =
            ArrayD::from_shape_fn(IxDyn(&[3, 4, 2]), |i| (i[0] * 8 + i[1] * 2 + i[2]) as f64);
        for dtype in DType::ALL {
            let block = DynArray::F64(base.clone()).astype(dtype);
            assert_eq!(round_trip(block.clone()), block, "{dtype}");
        }
        let empty = DynArray::F32(ArrayD::zeros(IxDyn(&[0, 5])));
        assert_eq!(round_trip(empty.clone()), empty);
        let z = DynArray::from(base.mapv(|v| Complex::new(v as f32, -v as f32 - 0.5)));
        assert_eq!(round_trip(z.clone()), z);
    }

    #[test]
    fn views_in_other_layouts_are_written_row_major() {
        let a = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| (i[0] * 3 + i[1]) as i32);
        let t = a.clone().reversed_axes();
        let mut sliced = a.clone();
        sliced.invert_axis(Axis(0));
        for block in [DynArray::I32(t), DynArray::I32(sliced)] {
            assert_eq!(round_trip(block.clone()), block);
        }
    }

    #[test]
    fn every_kind_of_partial_round_trips() {
        let a = ArrayD::from_shape_fn(IxDyn(&[2, 3]), |i| (i[0] * 3 + i[1]) as f64 - 2.5);
        let ix = a.mapv(|v| (v * 4.0) as i64);
        let partials = [
            Partial::Block(DynArray::I32(a.mapv(|v| v as i32))),
            Partial::Mean {
                sum: a.clone(),
                n: 7.0,
            },
            Partial::NanMean {
                sum: a.clone(),
                n: a.mapv(f64::abs),
            },
            Partial::Moments {
                n: a.mapv(f64::abs),
                mean: a.clone(),
                m2: a.mapv(|v| v * v),
            },
            Partial::Arg {
                value: DynArray::from(a.clone()),
                index: ix,
                span: Some(7),
            },
        ];
        for p in partials {
            let v = partial_value(p);
            let mut file = Vec::new();
            (v.codec().expect("partials are spillable").write)(&v, &mut file).unwrap();
            let back = (PARTIAL_CODEC.read)(&mut file.as_slice()).unwrap();
            assert_eq!(back.nbytes(), v.nbytes());
            let (p, q) = (
                v.downcast_ref::<Partial>().unwrap(),
                back.downcast_ref::<Partial>().unwrap(),
            );
            assert_eq!(p, q);
            for cut in [0, 1, file.len() / 2, file.len() - 1] {
                assert!(
                    (PARTIAL_CODEC.read)(&mut &file[..cut]).is_err(),
                    "cut {cut}"
                );
            }
        }
        let mut unknown = vec![9_u8];
        unknown.extend_from_slice(MAGIC);
        assert!((PARTIAL_CODEC.read)(&mut unknown.as_slice()).is_err());
    }

    #[test]
    fn corrupt_files_are_errors() {
        let v = crate::lower::block_value(DynArray::F64(ArrayD::zeros(IxDyn(&[10]))));
        let mut file = Vec::new();
        (BLOCK_CODEC.write)(&v, &mut file).unwrap();
        for cut in [0, 4, 9, 17, file.len() - 1] {
            assert!(
                (BLOCK_CODEC.read)(&mut &file[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad = file.clone();
        bad[8] = 200;
        assert!((BLOCK_CODEC.read)(&mut bad.as_slice()).is_err());
    }
}
