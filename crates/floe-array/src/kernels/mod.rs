//! The kernels: what a task computes from its input blocks. They know blocks
//! ([`crate::block`]) and dtypes, never arrays, plans or tasks, so that one registry can
//! run them from a task's description as well as from the closures lowering builds (see
//! [`crate::spec`]).
//!
//! - [`elementwise`]: binary and unary operations with NumPy's promotion and broadcasting
//!   ([`complex`]: their complex-number functions);
//! - [`reduction`]: partials, their combination and finalization, for every
//!   [`ReduceOp`](reduction::ReduceOp) ([`sum`]: the float sums at memory speed);
//! - [`reshape`]: a block's elements in another shape (transposes are in
//!   [`crate::block`], which views blocks through them).

pub(crate) mod complex;
pub(crate) mod elementwise;
pub(crate) mod reduction;
pub(crate) mod reshape;
pub(crate) mod sum;
