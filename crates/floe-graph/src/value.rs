//! The output of a task: shared, type-erased, and aware of its size in bytes.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

/// A task's output: a shared, type-erased value that knows how many bytes it holds.
///
/// Cloning a `Value` shares it (one atomic increment); it is never copied. The byte size
/// is what the scheduler's memory meter counts while the value is held. The unit value
/// `()` is represented without allocating, so tasks run only for their effects cost nothing
/// to store.
///
/// # Examples
///
/// ```
/// use floe_graph::Value;
///
/// let v = Value::with_nbytes(vec![1.0_f64; 1000], 8000);
/// assert_eq!(v.nbytes(), 8000);
/// assert_eq!(v.downcast_ref::<Vec<f64>>().map(|x| x.len()), Some(1000));
/// assert!(v.downcast_ref::<Vec<f32>>().is_none());
/// assert!(Value::unit().downcast_ref::<()>().is_some());
/// ```
#[derive(Clone)]
pub struct Value {
    data: Option<Arc<dyn Any + Send + Sync>>,
    nbytes: usize,
    codec: Option<&'static SpillCodec>,
}

/// How a value is written to a spill file and read back, for values a memory-budgeted run
/// may move to disk (see [`Value::spillable`]). `read` receives what `write` wrote and must
/// return an equal value with the same codec.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use floe_graph::{SpillCodec, Value};
///
/// static BYTES: SpillCodec = SpillCodec {
///     write: |v, w| w.write_all(v.downcast_ref::<Vec<u8>>().expect("a Vec<u8>")),
///     read: |r| {
///         let mut buf = Vec::new();
///         r.read_to_end(&mut buf)?;
///         let n = buf.len();
///         Ok(Value::with_nbytes(buf, n).spillable(&BYTES))
///     },
/// };
///
/// let v = Value::with_nbytes(vec![1_u8, 2, 3], 3).spillable(&BYTES);
/// let mut file = Vec::new();
/// (v.codec().unwrap().write)(&v, &mut file)?;
/// let back = (BYTES.read)(&mut file.as_slice())?;
/// assert_eq!(back.downcast_ref::<Vec<u8>>(), Some(&vec![1, 2, 3]));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct SpillCodec {
    /// Writes the value's contents.
    pub write: fn(&Value, &mut dyn std::io::Write) -> std::io::Result<()>,
    /// Reads back what `write` wrote.
    pub read: fn(&mut dyn std::io::Read) -> std::io::Result<Value>,
}

impl Value {
    /// Wraps `x`, counting its shallow size (`size_of::<T>()`); use [`Value::with_nbytes`]
    /// for types that own heap memory.
    pub fn new<T: Any + Send + Sync>(x: T) -> Self {
        let nbytes = std::mem::size_of::<T>();
        Self::with_nbytes(x, nbytes)
    }

    /// Wraps `x`, declaring that it holds `nbytes` bytes.
    pub fn with_nbytes<T: Any + Send + Sync>(x: T, nbytes: usize) -> Self {
        if TypeId::of::<T>() == TypeId::of::<()>() {
            return Self::unit();
        }
        Self {
            data: Some(Arc::new(x)),
            nbytes,
            codec: None,
        }
    }

    /// Wraps an already shared value.
    pub fn from_arc<T: Any + Send + Sync>(x: Arc<T>, nbytes: usize) -> Self {
        Self {
            data: Some(x),
            nbytes,
            codec: None,
        }
    }

    /// The unit value `()`: no allocation, zero bytes.
    pub const fn unit() -> Self {
        Self {
            data: None,
            nbytes: 0,
            codec: None,
        }
    }

    /// Marks the value as one a memory-budgeted run may write to disk with `codec` and read
    /// back when it is needed again.
    pub fn spillable(mut self, codec: &'static SpillCodec) -> Self {
        if self.data.is_some() {
            self.codec = Some(codec);
        }
        self
    }

    /// The spill codec, for values marked [`Value::spillable`].
    pub fn codec(&self) -> Option<&'static SpillCodec> {
        self.codec
    }

    /// Whether another clone of this value is alive (dropping this one would free nothing).
    pub fn is_shared(&self) -> bool {
        self.data.as_ref().is_some_and(|d| Arc::strong_count(d) > 1)
    }

    /// The number of bytes this value holds, as declared when it was made.
    pub fn nbytes(&self) -> usize {
        self.nbytes
    }

    /// A reference to the value if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match &self.data {
            Some(data) => data.downcast_ref::<T>(),
            None => (&() as &dyn Any).downcast_ref::<T>(),
        }
    }

    /// Whether the value is a `T`.
    pub fn is<T: Any>(&self) -> bool {
        self.downcast_ref::<T>().is_some()
    }

    /// The shared value as `Arc<T>`, or `self` back if it is not a `T` (or is the unit value).
    pub fn downcast_arc<T: Any + Send + Sync>(self) -> Result<Arc<T>, Self> {
        match self.data {
            Some(data) => data.downcast::<T>().map_err(|data| Self {
                data: Some(data),
                nbytes: self.nbytes,
                codec: self.codec,
            }),
            None => Err(self),
        }
    }

    /// Takes the value out as a `T`: without copying when this is the last reference,
    /// by cloning otherwise. Returns `self` back if it is not a `T`.
    pub fn take<T: Any + Send + Sync + Clone>(self) -> Result<T, Self> {
        if self.data.is_none() {
            return (&() as &dyn Any).downcast_ref::<T>().cloned().ok_or(self);
        }
        self.downcast_arc::<T>().map(Arc::unwrap_or_clone)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.data {
            None => f.write_str("Value(())"),
            Some(_) => write!(f, "Value({} bytes)", self.nbytes),
        }
    }
}

impl Default for Value {
    fn default() -> Self {
        Self::unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_values_do_not_allocate_and_downcast() {
        let v = Value::new(());
        assert!(v.data.is_none());
        assert_eq!(v.nbytes(), 0);
        assert!(v.downcast_ref::<()>().is_some());
        assert!(v.downcast_ref::<u8>().is_none());
        assert_eq!(v.clone().take::<()>().ok(), Some(()));
        assert!(v.take::<u8>().is_err());
    }

    #[test]
    fn take_moves_out_of_the_last_reference_and_clones_otherwise() {
        let v = Value::with_nbytes(vec![1_u8, 2, 3], 3);
        let shared = v.clone();
        assert_eq!(v.take::<Vec<u8>>().ok(), Some(vec![1, 2, 3]));
        assert_eq!(shared.take::<Vec<u8>>().ok(), Some(vec![1, 2, 3]));
        let wrong = Value::new(5_i32).take::<i64>();
        assert_eq!(wrong.map_err(|v| v.nbytes()), Err(4));
    }
}
