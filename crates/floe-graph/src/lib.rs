//! Task graphs for floe: pure data and algorithms, no threads.
//!
//! A [`Graph`] is a frozen set of [`Task`]s — each a [`Key`] for people and an
//! [`Operation`] over its dependencies' [`Value`]s — stored with dense [`TaskId`]s and CSR
//! dependency/dependent arrays. Collections (arrays, dataframes, delayed) build graphs;
//! `floe-scheduler` runs them. Three passes prepare a graph for a run:
//!
//! - [`cull`] keeps the tasks the requested outputs need;
//! - [`fuse`] merges linear chains into single tasks;
//! - [`order`] fixes static priorities that keep memory small.
//!
//! # Examples
//!
//! ```
//! use floe_graph::{cull, fuse, order, Graph, Key, Value};
//!
//! let mut b = Graph::builder();
//! let leaves: Vec<_> = (0..4_i64)
//!     .map(|i| b.add_fn(Key::new("leaf", &[i as u32]), &[], move |_| Ok(Value::new(i))))
//!     .collect::<Result<_, _>>()?;
//! let total = b.add_fn(Key::named("sum"), &leaves, |v| {
//!     Ok(Value::new(v.iter().map(|x| *x.downcast_ref::<i64>().unwrap()).sum::<i64>()))
//! })?;
//! let g = b.build();
//! let (g, outs) = cull(&g, &[total])?;
//! let (g, outs) = fuse(&g, &outs)?;
//! let o = order(&g, &outs);
//! assert_eq!(o.sequence().len(), 5);
//! # Ok::<(), floe_graph::GraphError>(())
//! ```

mod bytes;
mod cull;
mod error;
mod fuse;
mod graph;
mod key;
mod order;
mod split;
mod task;
mod value;

pub use bytes::human_bytes;
pub use cull::{cull, needed};
pub use error::{GraphError, Result};
pub use fuse::fuse;
pub use graph::{Graph, GraphBuilder, TaskId};
pub use key::Key;
pub use order::{Order, order};
pub use split::{Board, can_split, idle_workers, split};
pub use task::{Operation, Task, TaskError, TaskErrorKind, TaskHints, TaskResult};
pub use value::{SpillCodec, Value};
