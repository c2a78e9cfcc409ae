//! Dataframe values on disk: under a memory budget the scheduler writes partitions (and
//! the pieces a shuffle splits them into) to spill files and reads them back when a task
//! needs them, so that a sort or a bucketed join larger than the budget still runs. Each
//! partition is an Arrow IPC stream.

use std::io::{self, Read, Write};

use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use floe_graph::{SpillCodec, Value};

use crate::source::Partition;

/// The codec of a partition.
pub(crate) static PARTITION_CODEC: SpillCodec = SpillCodec {
    write: write_partition,
    read: read_partition,
};

/// The codec of a partition split into pieces (by a shuffle).
pub(crate) static PIECES_CODEC: SpillCodec = SpillCodec {
    write: write_pieces,
    read: read_pieces,
};

/// A partition as a task's value: sized, and spillable under a budget.
pub(crate) fn partition_value(p: Partition) -> Value {
    let n = p.nbytes();
    Value::with_nbytes(p, n).spillable(&PARTITION_CODEC)
}

/// A partition's pieces as a task's value: sized, and spillable under a budget.
pub(crate) fn pieces_value(pieces: Vec<Partition>) -> Value {
    let n = pieces.iter().map(Partition::nbytes).sum();
    Value::with_nbytes(pieces, n).spillable(&PIECES_CODEC)
}

fn invalid(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// `p` as a length-prefixed IPC stream (so that several can follow each other).
fn write_one(p: &Partition, w: &mut dyn Write) -> io::Result<()> {
    let mut buf = Vec::new();
    {
        let mut sw = StreamWriter::try_new(&mut buf, p.schema()).map_err(invalid)?;
        for b in p.batches() {
            sw.write(b).map_err(invalid)?;
        }
        sw.finish().map_err(invalid)?;
    }
    w.write_all(&(buf.len() as u64).to_le_bytes())?;
    w.write_all(&buf)
}

fn read_one(r: &mut dyn Read) -> io::Result<Partition> {
    let mut len = [0_u8; 8];
    r.read_exact(&mut len)?;
    let len = usize::try_from(u64::from_le_bytes(len)).map_err(invalid)?;
    let mut buf = vec![0_u8; len];
    r.read_exact(&mut buf)?;
    let reader = StreamReader::try_new(io::Cursor::new(buf), None).map_err(invalid)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(invalid)?;
    Ok(Partition::new(schema, batches))
}

fn write_partition(v: &Value, w: &mut dyn Write) -> io::Result<()> {
    let p = v
        .downcast_ref::<Partition>()
        .ok_or_else(|| invalid("not a partition"))?;
    write_one(p, w)
}

fn read_partition(r: &mut dyn Read) -> io::Result<Value> {
    Ok(partition_value(read_one(r)?))
}

fn write_pieces(v: &Value, w: &mut dyn Write) -> io::Result<()> {
    let pieces = v
        .downcast_ref::<Vec<Partition>>()
        .ok_or_else(|| invalid("not a split partition"))?;
    w.write_all(&(pieces.len() as u64).to_le_bytes())?;
    for p in pieces {
        write_one(p, w)?;
    }
    Ok(())
}

fn read_pieces(r: &mut dyn Read) -> io::Result<Value> {
    let mut n = [0_u8; 8];
    r.read_exact(&mut n)?;
    let n = u64::from_le_bytes(n);
    let pieces = (0..n)
        .map(|_| read_one(r))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(pieces_value(pieces))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn partitions_and_pieces_round_trip_and_corrupt_files_are_errors() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN)])),
            ],
        )
        .unwrap();
        let p = Partition::new(schema.clone(), vec![b.clone(), b.slice(1, 1)]);
        let empty = Partition::new(schema, Vec::new());
        let v = pieces_value(vec![p.clone(), empty]);
        let mut file = Vec::new();
        (v.codec().unwrap().write)(&v, &mut file).unwrap();
        let back = (v.codec().unwrap().read)(&mut file.as_slice()).unwrap();
        let back = back.downcast_ref::<Vec<Partition>>().unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].concat().unwrap(), p.concat().unwrap());
        assert_eq!(back[1].num_rows(), 0);
        let one = partition_value(p.clone());
        let mut file = Vec::new();
        (one.codec().unwrap().write)(&one, &mut file).unwrap();
        let back = (one.codec().unwrap().read)(&mut file.as_slice()).unwrap();
        assert_eq!(back.downcast_ref::<Partition>().unwrap().num_rows(), 3);
        // A truncated file is an error, never a panic.
        let cut = &file[..file.len() / 2];
        assert!((one.codec().unwrap().read)(&mut &cut[..]).is_err());
    }
}
