//! The `.npy` header: magic, version, and a Python dict literal with the dtype, the memory
//! order and the shape.
//!
//! ```text
//!   \x93NUMPY  major minor  header_len (u16 LE for 1.0, u32 LE for 2.0/3.0)
//!   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }   padded with spaces,
//!   ending in '\n', so that the data starts at a multiple of 64 bytes.
//! ```

use floe_array::DType;

/// Byte order of the elements in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

/// What a header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub dtype: DType,
    pub endian: Endian,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Where the data starts.
    pub data_offset: u64,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses the header at the start of `bytes` (which must hold all of it).
pub(crate) fn parse(bytes: &[u8]) -> Result<Header, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("it does not start with the .npy magic bytes".into());
    }
    let (len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("the header is truncated".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("format version {v} is unknown")),
    };
    let end = start + len;
    let text = bytes.get(start..end).ok_or("the header is truncated")?;
    let text = std::str::from_utf8(text).map_err(|_| "the header is not text")?;
    let descr = value_after(text, "descr")?;
    let descr = descr
        .strip_prefix('\'')
        .or_else(|| descr.strip_prefix('"'))
        .ok_or("descr is not a simple dtype string (structured dtypes are not supported)")?;
    let descr: String = descr
        .chars()
        .take_while(|c| *c != '\'' && *c != '"')
        .collect();
    let (dtype, endian) = parse_descr(&descr)?;
    let fortran = value_after(text, "fortran_order")?;
    let fortran_order = if fortran.starts_with("True") {
        true
    } else if fortran.starts_with("False") {
        false
    } else {
        return Err("fortran_order is neither True nor False".into());
    };
    let shape = value_after(text, "shape")?;
    let shape = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("shape is not a tuple")?;
    let shape = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| format!("shape entry {s:?} is not a size"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Header {
        dtype,
        endian,
        fortran_order,
        shape,
        data_offset: end as u64,
    })
}

/// The text after `'key':`, trimmed at the start.
fn value_after<'t>(text: &'t str, key: &str) -> Result<&'t str, String> {
    for quote in ['\'', '"'] {
        let pat = format!("{quote}{key}{quote}");
        if let Some(i) = text.find(&pat) {
            let rest = text[i + pat.len()..].trim_start();
            let rest = rest
                .strip_prefix(':')
                .ok_or_else(|| format!("no ':' after {key}"))?;
            return Ok(rest.trim_start());
        }
    }
    Err(format!("the header has no {key}"))
}

/// `<f8`, `|b1`, `>i2`… as a dtype and byte order.
pub(crate) fn parse_descr(descr: &str) -> Result<(DType, Endian), String> {
    let mut chars = descr.chars();
    let order = chars.next().ok_or("descr is empty")?;
    let rest: String = chars.collect();
    let endian = match order {
        '<' | '|' | '=' => Endian::Little,
        '>' => Endian::Big,
        _ => return Err(format!("dtype {descr:?} has no byte order")),
    };
    let dtype = match rest.as_str() {
        "b1" => DType::Bool,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" => DType::U8,
        "u2" => DType::U16,
        "u4" => DType::U32,
        "u8" => DType::U64,
        "f4" => DType::F32,
        "f8" => DType::F64,
        "c8" => DType::C64,
        "c16" => DType::C128,
        _ => {
            return Err(format!(
                "dtype {descr:?} is not supported (bool, integers, floats and complex are)"
            ));
        }
    };
    Ok((dtype, endian))
}

/// The little-endian `descr` of a dtype.
pub(crate) fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "|b1",
        DType::I8 => "|i1",
        DType::I16 => "<i2",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::U8 => "|u1",
        DType::U16 => "<u2",
        DType::U32 => "<u4",
        DType::U64 => "<u8",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::C64 => "<c8",
        DType::C128 => "<c16",
        _ => "|V0",
    }
}

/// A version 1.0 header (2.0 if it does not fit) for a C-order array.
pub(crate) fn write(dtype: DType, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {tuple}, }}",
        descr(dtype)
    );
    let mut out = Vec::with_capacity(dict.len() + 80);
    out.extend_from_slice(MAGIC);
    // Version 1.0 stores the length in 2 bytes; 2.0 in 4.
    let (version, prefix) = if dict.len() + 11 + 64 <= usize::from(u16::MAX) {
        (1, 10)
    } else {
        (2, 12)
    };
    let total = (prefix + dict.len() + 1).div_ceil(64) * 64;
    let len = total - prefix;
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_headers_parse_back_and_align_to_64_bytes() {
        for shape in [vec![], vec![5], vec![3, 4, 5]] {
            let h = write(DType::F32, &shape);
            assert_eq!(h.len() % 64, 0);
            let p = parse(&h).unwrap();
            assert_eq!(p.shape, shape);
            assert_eq!(p.dtype, DType::F32);
            assert!(!p.fortran_order);
            assert_eq!(p.data_offset as usize, h.len());
        }
    }

    #[test]
    fn bad_headers_say_what_is_wrong() {
        assert!(parse(b"GIF89a....").unwrap_err().contains("magic"));
        let mut h = write(DType::F64, &[2]);
        h.truncate(30);
        assert!(parse(&h).unwrap_err().contains("truncated"));
        assert_eq!(parse_descr("<c16").unwrap(), (DType::C128, Endian::Little));
        assert!(parse_descr("<f2").unwrap_err().contains("not supported"));
        assert_eq!(parse_descr(">i2").unwrap(), (DType::I16, Endian::Big));
    }
}
