//! `compute()` for arrays: collections never depend on the scheduler, so the facade adds it.

use floe_array::{Array, ArrayElement, DynArray};
use floe_scheduler::{RunStats, Scheduler};
use ndarray::ArrayD;

use crate::Result;

/// Computing an [`Array`] into memory.
pub trait ArrayCompute {
    /// Computes the whole array with the process-wide settings.
    ///
    /// # Errors
    ///
    /// The first task that failed, by key; see [`crate::Error`].
    fn compute(&self) -> Result<DynArray>;

    /// Computes the array and converts it to `T` (as `astype` does, if the dtype differs).
    ///
    /// # Errors
    ///
    /// As [`ArrayCompute::compute`].
    fn compute_as<T: ArrayElement>(&self) -> Result<ArrayD<T>> {
        Ok(self.compute()?.into_typed::<T>())
    }

    /// Computes on `scheduler`, also returning the run's statistics.
    ///
    /// # Errors
    ///
    /// As [`ArrayCompute::compute`].
    fn compute_with(&self, scheduler: &Scheduler) -> Result<(DynArray, RunStats)>;
}

impl ArrayCompute for Array {
    fn compute(&self) -> Result<DynArray> {
        crate::compute(self)
    }

    fn compute_with(&self, scheduler: &Scheduler) -> Result<(DynArray, RunStats)> {
        crate::compute_with(self, scheduler)
    }
}
