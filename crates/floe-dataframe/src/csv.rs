//! CSV without quotes: lines split at their separators, only the wanted columns parsed.
//!
//! Most CSV files quote nothing, so each line is a record and each delimiter ends a field.
//! For such bytes, finding the separators by bit masks of 64 bytes at a time and
//! parsing the wanted columns one at a time is several times faster than a general
//! reader's state machine, which visits every byte. The values are Arrow's: the same
//! parsers, the same rule that an empty field is missing. Anything else — a quote, a
//! carriage return not ending a line, bytes that are not UTF-8, a type parsed here by no
//! rule, a line with the wrong number of fields, a value that does not parse — gives
//! `None`, and the caller reads the bytes with Arrow's reader, which handles the general
//! rules and names what is wrong.

use std::sync::Arc;

use arrow::array::timezone::Tz;
use arrow::array::{
    ArrayRef, ArrowPrimitiveType, BooleanBuilder, PrimitiveArray, PrimitiveBuilder, RecordBatch,
    RecordBatchOptions, StringBuilder,
};
use arrow::compute::kernels::cast_utils::{Parser, string_to_datetime};
use arrow::datatypes::*;
use chrono::{TimeZone, Utc};
use memchr::memchr2_iter;

/// The records of `buf` (whole lines of a CSV file without its header, whose columns are
/// `file_schema`), as batches of `batch_rows` rows holding the columns `projection` (indices
/// into `file_schema`, in the order wanted); `None` when the bytes need the general reader
/// (see the module's documentation).
pub(crate) fn decode_unquoted(
    buf: &[u8],
    file_schema: &Schema,
    projection: &[usize],
    delimiter: u8,
    batch_rows: usize,
) -> Option<Vec<RecordBatch>> {
    // A delimiter outside ASCII could end a field inside a character.
    if matches!(delimiter, b'"' | b'\n' | b'\r') || !delimiter.is_ascii() || batch_rows == 0 {
        return None;
    }
    if memchr2_iter(b'"', b'\r', buf).any(|i| buf[i] == b'"' || buf.get(i + 1) != Some(&b'\n')) {
        return None;
    }
    let schema = Arc::new(file_schema.project(projection).ok()?);
    // Types parsed here by no rule: declined before any splitting (no values: no parse).
    let probe = Values {
        text: "",
        spans: &[],
    };
    if !schema
        .fields()
        .iter()
        .all(|f| probe.array(f.data_type()).is_some())
    {
        return None;
    }
    let text = std::str::from_utf8(buf).ok()?;
    let ncols = file_schema.fields().len();
    let mut slot = vec![NONE; ncols];
    for (k, &c) in projection.iter().enumerate() {
        let place = slot.get_mut(c)?;
        if *place != NONE {
            return None; // a column wanted twice
        }
        *place = k;
    }
    let mut records = Records {
        text,
        schema,
        slot,
        spans: vec![Vec::new(); projection.len()],
        rows: 0,
        batch_rows,
        batches: Vec::new(),
    };
    // The current line: its fields so far, and where its current field starts.
    let (mut field, mut start) = (0_usize, 0_usize);
    for pos in Separators::new(buf, delimiter, b'\n') {
        if buf[pos] == delimiter {
            records.field(field, start, pos)?;
            field += 1;
            start = pos + 1;
            continue;
        }
        let end = if pos > start && buf[pos - 1] == b'\r' {
            pos - 1
        } else {
            pos
        };
        // A blank line is no record (the general reader skips it too).
        if field > 0 || end > start {
            records.field(field, start, end)?;
            records.end_record(field + 1)?;
        }
        field = 0;
        start = pos + 1;
    }
    if field > 0 || start < buf.len() {
        // The last line has no line end.
        records.field(field, start, buf.len())?;
        records.end_record(field + 1)?;
    }
    records.finish()
}

/// Bytes compared at a time by [`Separators`].
const BLOCK: usize = 64;

/// The positions of the bytes `a` and `b` in a buffer, in order: 64 bytes are compared at a
/// time into a bit mask (the compiler vectorises the comparison), then its set bits are
/// visited, so fields a few bytes long cost a few instructions each.
struct Separators<'a> {
    buf: &'a [u8],
    a: u8,
    b: u8,
    /// The start of the block `mask` describes.
    base: usize,
    /// The matches in the current block not visited yet.
    mask: u64,
}

impl<'a> Separators<'a> {
    fn new(buf: &'a [u8], a: u8, b: u8) -> Self {
        let mut s = Self {
            buf,
            a,
            b,
            base: 0,
            mask: 0,
        };
        s.mask = s.block_mask();
        s
    }

    /// The matches in the block starting at `base`.
    fn block_mask(&self) -> u64 {
        let block = &self.buf[self.base..(self.base + BLOCK).min(self.buf.len())];
        if let Ok(full) = <&[u8; BLOCK]>::try_from(block) {
            block_mask(full, self.a, self.b)
        } else {
            block
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c == self.a || c == self.b)
                .fold(0, |mask, (i, _)| mask | 1 << i)
        }
    }
}

/// The bit mask of the bytes of `full` equal to `a` or `b`, compiled for the widest vectors
/// the processor has: with AVX-512 one comparison and one mask move per block; builds
/// target the x86-64 baseline, whose 16-byte compares the compiler does not turn into a
/// mask.
fn block_mask(full: &[u8; BLOCK], a: u8, b: u8) -> u64 {
    #[inline(always)]
    fn portable(full: &[u8; BLOCK], a: u8, b: u8) -> u64 {
        let mut mask = 0_u64;
        for (i, &c) in full.iter().enumerate() {
            mask |= u64::from((c == a) | (c == b)) << i;
        }
        mask
    }
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static WIDE: OnceLock<u8> = OnceLock::new();
        let wide = *WIDE.get_or_init(|| {
            if std::env::var_os("FLOE_NO_AVX2").is_some() {
                0
            } else if std::is_x86_feature_detected!("avx512bw") {
                2
            } else if std::is_x86_feature_detected!("avx2") {
                1
            } else {
                0
            }
        });
        if wide == 2 {
            #[target_feature(enable = "avx512f,avx512bw,avx2")]
            fn avx512(full: &[u8; BLOCK], a: u8, b: u8) -> u64 {
                portable(full, a, b)
            }
            // SAFETY: the processor has AVX-512BW (detected above); `avx512` is otherwise
            // the portable loop. Exercised by the fast reader's property tests against
            // Arrow's reader on such processors.
            #[allow(unsafe_code)]
            return unsafe { avx512(full, a, b) };
        }
        if wide == 1 {
            #[target_feature(enable = "avx2")]
            fn avx2(full: &[u8; BLOCK], a: u8, b: u8) -> u64 {
                portable(full, a, b)
            }
            // SAFETY: as above, for AVX2.
            #[allow(unsafe_code)]
            return unsafe { avx2(full, a, b) };
        }
    }
    portable(full, a, b)
}

impl Iterator for Separators<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += BLOCK;
            if self.base >= self.buf.len() {
                return None;
            }
            self.mask = self.block_mask();
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// Where a partition's fields are, one batch at a time.
struct Records<'a> {
    text: &'a str,
    /// The wanted columns.
    schema: SchemaRef,
    /// `slot[c]`: the place of file column `c` among the wanted ones (`NONE`: unwanted).
    slot: Vec<usize>,
    /// The byte range of each wanted column's fields, record after record.
    spans: Vec<Vec<(usize, usize)>>,
    /// Records complete in `spans`.
    rows: usize,
    batch_rows: usize,
    batches: Vec<RecordBatch>,
}

const NONE: usize = usize::MAX;

impl Records<'_> {
    /// Field number `field` of the current record is `text[start..end]`; `None` past the
    /// file's columns.
    fn field(&mut self, field: usize, start: usize, end: usize) -> Option<()> {
        let k = *self.slot.get(field)?;
        if k != NONE {
            self.spans[k].push((start, end));
        }
        Some(())
    }

    /// The current record ends, with `fields` fields (`None` unless the file's number).
    fn end_record(&mut self, fields: usize) -> Option<()> {
        if fields != self.slot.len() {
            return None;
        }
        self.rows += 1;
        if self.rows == self.batch_rows {
            let batch = self.batch()?;
            self.batches.push(batch);
            self.spans.iter_mut().for_each(Vec::clear);
            self.rows = 0;
        }
        Some(())
    }

    fn finish(mut self) -> Option<Vec<RecordBatch>> {
        if self.rows > 0 {
            let batch = self.batch()?;
            self.batches.push(batch);
        }
        Some(self.batches)
    }

    /// The complete records as a batch.
    fn batch(&self) -> Option<RecordBatch> {
        let columns = self
            .spans
            .iter()
            .zip(self.schema.fields())
            .map(|(spans, field)| {
                let values = Values {
                    text: self.text,
                    spans,
                };
                values.array(field.data_type())
            })
            .collect::<Option<Vec<_>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options).ok()
    }
}

/// The fields of one column in a batch's records.
struct Values<'a> {
    text: &'a str,
    spans: &'a [(usize, usize)],
}

impl<'a> Values<'a> {
    /// Each record's field, `None` where empty (a missing value).
    fn iter(&self) -> impl Iterator<Item = Option<&'a str>> + '_ {
        self.spans
            .iter()
            .map(|&(s, e)| (e > s).then(|| &self.text[s..e]))
    }

    fn rows(&self) -> usize {
        self.spans.len()
    }

    /// The column as `dtype`, with Arrow's CSV parsers; `None` for a type without one
    /// here or a value that does not parse.
    fn array(&self, dtype: &DataType) -> Option<ArrayRef> {
        use DataType as D;
        Some(match dtype {
            D::Utf8 => {
                let bytes = self.iter().map(|v| v.map_or(0, str::len)).sum();
                let mut b = StringBuilder::with_capacity(self.rows(), bytes);
                self.iter().for_each(|v| b.append_option(v));
                Arc::new(b.finish())
            }
            D::Boolean => {
                let mut b = BooleanBuilder::with_capacity(self.rows());
                for v in self.iter() {
                    b.append_option(match v {
                        None => None,
                        Some(s) if s.eq_ignore_ascii_case("true") => Some(true),
                        Some(s) if s.eq_ignore_ascii_case("false") => Some(false),
                        Some(_) => return None,
                    });
                }
                Arc::new(b.finish())
            }
            D::Int8 => self.primitive::<Int8Type>()?,
            D::Int16 => self.primitive::<Int16Type>()?,
            D::Int32 => self.primitive::<Int32Type>()?,
            D::Int64 => self.primitive::<Int64Type>()?,
            D::UInt8 => self.primitive::<UInt8Type>()?,
            D::UInt16 => self.primitive::<UInt16Type>()?,
            D::UInt32 => self.primitive::<UInt32Type>()?,
            D::UInt64 => self.primitive::<UInt64Type>()?,
            D::Float16 => self.primitive::<Float16Type>()?,
            D::Float32 => self.primitive::<Float32Type>()?,
            D::Float64 => self.parsed::<Float64Type>(|s| {
                short_decimal(s.as_bytes()).or_else(|| Float64Type::parse(s))
            })?,
            D::Date32 => self.primitive::<Date32Type>()?,
            D::Date64 => self.primitive::<Date64Type>()?,
            D::Timestamp(TimeUnit::Second, tz) => self.timestamps::<TimestampSecondType>(tz)?,
            D::Timestamp(TimeUnit::Millisecond, tz) => {
                self.timestamps::<TimestampMillisecondType>(tz)?
            }
            D::Timestamp(TimeUnit::Microsecond, tz) => {
                self.timestamps::<TimestampMicrosecondType>(tz)?
            }
            D::Timestamp(TimeUnit::Nanosecond, tz) => {
                self.timestamps::<TimestampNanosecondType>(tz)?
            }
            _ => return None,
        })
    }

    fn primitive<T: ArrowPrimitiveType + Parser>(&self) -> Option<ArrayRef> {
        self.parsed::<T>(T::parse)
    }

    /// The column parsed value by value with `parse` (`None` if a value does not parse).
    fn parsed<T: ArrowPrimitiveType>(
        &self,
        parse: impl Fn(&str) -> Option<T::Native>,
    ) -> Option<ArrayRef> {
        let mut b = PrimitiveBuilder::<T>::with_capacity(self.rows());
        for v in self.iter() {
            match v {
                None => b.append_null(),
                Some(s) => b.append_value(parse(s)?),
            }
        }
        Some(Arc::new(b.finish()))
    }

    /// Times as Arrow's CSV reader parses them: without an offset, in the column's zone
    /// (UTC for none).
    fn timestamps<T: ArrowTimestampType>(&self, tz: &Option<Arc<str>>) -> Option<ArrayRef> {
        Some(match tz {
            None => Arc::new(self.stamps::<T, _>(&Utc)?),
            Some(name) => {
                let zone: Tz = name.parse().ok()?;
                Arc::new(self.stamps::<T, _>(&zone)?.with_timezone(name.clone()))
            }
        })
    }

    fn stamps<T: ArrowTimestampType, Z: TimeZone>(&self, zone: &Z) -> Option<PrimitiveArray<T>> {
        let mut b = PrimitiveBuilder::<T>::with_capacity(self.rows());
        for v in self.iter() {
            let Some(s) = v else {
                b.append_null();
                continue;
            };
            let t = string_to_datetime(zone, s).ok()?;
            b.append_value(match T::UNIT {
                TimeUnit::Second => t.timestamp(),
                TimeUnit::Millisecond => t.timestamp_millis(),
                TimeUnit::Microsecond => t.timestamp_micros(),
                TimeUnit::Nanosecond => t.timestamp_nanos_opt()?,
            });
        }
        Some(b.finish())
    }
}

/// A decimal of at most 15 significant digits without exponent (`-12.5`, `3`, `0.001`),
/// exactly as a correctly rounding parser reads it: its digits as an integer below 2^53 and
/// a power of ten up to 10^22 are both exact doubles, so one division rounds once, correctly
/// (Clinger's fast path). `None` for anything else, left to the full parser.
fn short_decimal(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mut mantissa, mut count, mut fraction, mut point) = (0_u64, 0_usize, 0_usize, false);
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                count += 1;
                fraction += usize::from(point);
            }
            b'.' if !point => point = true,
            _ => return None,
        }
        if count > 15 {
            return None;
        }
    }
    if count == 0 {
        return None;
    }
    let value = mantissa as f64 / POW10[fraction];
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::error::ArrowError;
    use proptest::prelude::*;

    /// The general reader on the same bytes.
    fn general(
        buf: &[u8],
        schema: &SchemaRef,
        projection: &[usize],
        delimiter: u8,
        batch_rows: usize,
    ) -> Result<Vec<RecordBatch>, ArrowError> {
        let mut decoder = arrow::csv::ReaderBuilder::new(schema.clone())
            .with_header(false)
            .with_delimiter(delimiter)
            .with_projection(projection.to_vec())
            .with_batch_size(batch_rows)
            .build_decoder();
        let (mut batches, mut at) = (Vec::new(), 0);
        loop {
            let n = decoder.decode(&buf[at..])?;
            at += n;
            if n == 0 || decoder.capacity() == 0 {
                match decoder.flush()? {
                    Some(b) => batches.push(b),
                    None if n == 0 => return Ok(batches),
                    None => {}
                }
            }
        }
    }

    fn schema(types: &[DataType]) -> SchemaRef {
        let fields: Vec<_> = types
            .iter()
            .enumerate()
            .map(|(i, t)| Field::new(format!("c{i}"), t.clone(), true))
            .collect();
        Arc::new(Schema::new(fields))
    }

    const TYPES: [DataType; 7] = [
        DataType::Int64,
        DataType::Float64,
        DataType::Utf8,
        DataType::Boolean,
        DataType::Date32,
        DataType::Timestamp(TimeUnit::Second, None),
        DataType::Timestamp(TimeUnit::Nanosecond, None),
    ];

    /// A field of type `TYPES[t]` as files write it, or empty (missing).
    fn value(t: usize) -> BoxedStrategy<String> {
        let text = match t {
            0 => prop_oneof![
                any::<i64>().prop_map(|v| v.to_string()),
                (0_u32..1000).prop_map(|v| format!("+{v}")),
            ]
            .boxed(),
            1 => prop_oneof![
                any::<f64>().prop_map(|v| v.to_string()),
                "[+-]?[0-9]{1,9}(\\.[0-9]{0,9})?",
                "[+-]?[0-9]{0,3}\\.[0-9]{1,20}",
                "[0-9]{1,3}(\\.[0-9]{1,3})?[eE][+-]?[0-9]{1,3}",
                Just("NaN".to_owned()),
                Just("-inf".to_owned()),
            ]
            .boxed(),
            2 => "[a-zé ]{1,6}".boxed(),
            3 => prop_oneof![Just("true"), Just("False"), Just("TRUE")]
                .prop_map(str::to_owned)
                .boxed(),
            4 => (1900_i32..2100, 1_u32..13, 1_u32..29)
                .prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"))
                .boxed(),
            _ => (1970_i32..2200, 1_u32..13, 1_u32..29, 0_u32..86400)
                .prop_map(|(y, m, d, s)| {
                    let (h, mi, se) = (s / 3600, s / 60 % 60, s % 60);
                    format!("{y}-{m:02}-{d:02} {h:02}:{mi:02}:{se:02}")
                })
                .boxed(),
        };
        prop_oneof![1 => Just(String::new()), 6 => text].boxed()
    }

    /// Types, lines (each a list of fields; `None`: a blank line), and how lines end.
    fn table() -> impl Strategy<Value = (Vec<usize>, Vec<Option<Vec<String>>>, bool, bool)> {
        prop::collection::vec(0..TYPES.len(), 1..5).prop_flat_map(|types| {
            let line = types.iter().map(|&t| value(t)).collect::<Vec<_>>();
            let lines = prop::collection::vec(
                prop_oneof![1 => Just(None), 12 => line.prop_map(Some)],
                0..40,
            );
            (Just(types), lines, any::<bool>(), any::<bool>())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn same_batches_as_the_general_reader(
            (types, lines, crlf, last_end) in table(),
            pick in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            batch_rows in 1_usize..12,
            tab in any::<bool>(),
        ) {
            let delimiter = if tab { b'\t' } else { b',' };
            let types: Vec<DataType> = types.iter().map(|&t| TYPES[t].clone()).collect();
            let schema = schema(&types);
            let mut projection: Vec<usize> = pick.iter().map(|i| i.index(types.len())).collect();
            let mut seen = std::collections::HashSet::new();
            projection.retain(|c| seen.insert(*c));
            let mut text = String::new();
            for line in &lines {
                if let Some(fields) = line {
                    text += &fields.join(&char::from(delimiter).to_string());
                }
                text += if crlf { "\r\n" } else { "\n" };
            }
            if !last_end && text.ends_with('\n') {
                text.truncate(text.len() - if crlf { 2 } else { 1 });
            }
            let ours = decode_unquoted(text.as_bytes(), &schema, &projection, delimiter, batch_rows);
            let theirs = general(text.as_bytes(), &schema, &projection, delimiter, batch_rows);
            match (ours, theirs) {
                (Some(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs, "{:?}", text),
                // Handed back: only bytes the general reader rejects (these hold no quotes).
                (None, theirs) => prop_assert!(
                    theirs.is_err(),
                    "declined {:?} that the general reader read", text
                ),
                (Some(_), Err(e)) => prop_assert!(false, "read {:?} that fails: {}", text, e),
            }
        }

        #[test]
        fn short_decimals_round_as_the_full_parser(s in "[+-]?[0-9]{0,17}(\\.[0-9]{0,17})?") {
            if let Some(v) = short_decimal(s.as_bytes()) {
                let full = Float64Type::parse(&s);
                prop_assert_eq!(full.map(f64::to_bits), Some(v.to_bits()), "{}", s);
            }
        }
    }

    #[test]
    fn bytes_for_the_general_reader_are_handed_back() {
        let schema = schema(&[DataType::Utf8, DataType::Float64]);
        let read = |text: &[u8]| decode_unquoted(text, &schema, &[0, 1], b',', 8);
        assert!(read(b"a,1.5\nb,2\n").is_some());
        assert!(read(b"\"a\",1.5\n").is_none(), "a quote");
        assert!(read(b"a,1.5\rb,2\n").is_none(), "a carriage return alone");
        assert!(read(b"a,x\n").is_none(), "a value that does not parse");
        assert!(read(b"a,1,2\n").is_none(), "too many fields");
        assert!(read(b"a\n").is_none(), "too few fields");
        assert!(read(b"\xff,1\n").is_none(), "not UTF-8");
        assert!(decode_unquoted(b"a,1\n", &schema, &[0, 0], b',', 8).is_none());
        let rows = |text: &[u8]| {
            read(text)
                .unwrap()
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>()
        };
        assert_eq!(
            rows(b"\n\na,1\r\n\r\n,\nb,2"),
            3,
            "blank lines skipped; an empty line is none"
        );
    }

    #[test]
    fn short_decimals() {
        assert_eq!(short_decimal(b"-12.5"), Some(-12.5));
        assert_eq!(short_decimal(b"0.1"), Some(0.1));
        assert_eq!(short_decimal(b"+3"), Some(3.0));
        assert_eq!(
            short_decimal(b"-0.0").map(f64::is_sign_negative),
            Some(true)
        );
        for long in ["1234567890123456", "1e5", ".", "-", "", "1.2.3", "nan"] {
            assert_eq!(short_decimal(long.as_bytes()), None, "{long}");
        }
    }
}
