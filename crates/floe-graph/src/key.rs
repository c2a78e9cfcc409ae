//! Human-readable task names: an operation name plus a block index.
//!
//! Keys exist for people (errors, progress, profiles, graph pictures); the scheduler's
//! hot path identifies tasks by dense [`TaskId`](crate::TaskId) only. A key is cheap to
//! clone: the name is shared and block indices of up to four dimensions are stored inline.

use std::fmt;
use std::sync::Arc;

/// The name of a task: an operation name and the index of the block it produces.
///
/// Displayed like Dask's keys: `sum-agg (0, 2)`, or just the name when the index is empty.
///
/// # Examples
///
/// ```
/// use floe_graph::Key;
///
/// let k = Key::new("sum-agg", &[0, 2]);
/// assert_eq!(k.to_string(), "sum-agg (0, 2)");
/// assert_eq!(k.name(), "sum-agg");
/// assert_eq!(k.index(), &[0, 2]);
/// assert_eq!(Key::named("load").to_string(), "load");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    name: Arc<str>,
    index: BlockIndex,
}

impl Key {
    /// A key with a fresh name (one allocation) and a block index.
    pub fn new(name: &str, index: &[u32]) -> Self {
        Self::with_shared_name(Arc::from(name), index)
    }

    /// A key without a block index.
    pub fn named(name: &str) -> Self {
        Self::new(name, &[])
    }

    /// A key reusing an already shared name: building many keys of one operation this way
    /// costs no allocation for indices of up to four dimensions.
    pub fn with_shared_name(name: Arc<str>, index: &[u32]) -> Self {
        Self {
            name,
            index: BlockIndex::from_slice(index),
        }
    }

    /// The operation name, e.g. `sum-agg`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared operation name.
    pub fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The block index (empty for tasks that are not blocks of a collection).
    pub fn index(&self) -> &[u32] {
        self.index.as_slice()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        let index = self.index();
        if index.is_empty() {
            return Ok(());
        }
        f.write_str(" (")?;
        for (i, v) in index.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        if index.len() == 1 {
            f.write_str(",")?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

const INLINE: usize = 4;

/// A block index stored inline up to [`INLINE`] dimensions.
#[derive(Clone, PartialEq, Eq, Hash)]
enum BlockIndex {
    Inline { len: u8, dims: [u32; INLINE] },
    Heap(Box<[u32]>),
}

impl BlockIndex {
    fn from_slice(index: &[u32]) -> Self {
        if index.len() <= INLINE {
            let mut dims = [0; INLINE];
            dims[..index.len()].copy_from_slice(index);
            // `index.len() <= 4`, so it fits in a u8.
            Self::Inline {
                len: index.len() as u8,
                dims,
            }
        } else {
            Self::Heap(index.into())
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Self::Inline { len, dims } => &dims[..usize::from(*len)],
            Self::Heap(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_follows_python_tuples() {
        assert_eq!(Key::new("x", &[3]).to_string(), "x (3,)");
        assert_eq!(
            Key::new("x", &[1, 2, 3, 4, 5]).to_string(),
            "x (1, 2, 3, 4, 5)"
        );
        assert_eq!(Key::new("x", &[1, 2, 3, 4, 5]).index(), &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn equal_keys_compare_equal_whatever_the_storage() {
        let name: Arc<str> = Arc::from("mean");
        assert_eq!(
            Key::with_shared_name(name, &[1, 2]),
            Key::new("mean", &[1, 2])
        );
        assert_ne!(Key::new("mean", &[1]), Key::new("mean", &[1, 0]));
    }
}
