//! The talk's linear-algebra examples: the SVD of a tall blocked array, and its randomized
//! approximation.
//!
//! ```text
//! cargo run --release -p floe --example svd
//! ```

use floe::array::{self, ArrayCompute, DType, linalg};

fn main() -> Result<(), floe::Error> {
    // x = da.ones((5000, 1000), chunks=(1000, 1000)); u, s, v = da.linalg.svd(x)
    let x = array::ones(&[5000, 1000], [1000_usize, 1000], DType::F64)?;
    let (u, s, v) = linalg::svd(&x)?;
    let t = std::time::Instant::now();
    let (u, s, v) = floe::compute((&u, &s, &v))?;
    println!(
        "svd: u {:?}, s {:?}, v {:?}; s[0] = {:.3} (sqrt(5000·1000) = {:.3}) in {:.2?}",
        u.shape(),
        s.shape(),
        v.shape(),
        s.to_typed::<f64>()[[0]],
        (5000.0_f64 * 1000.0).sqrt(),
        t.elapsed()
    );

    // u, s, v = da.linalg.svd_compressed(x, k=100, n_power_iter=2)
    let (u, s, v) = linalg::svd_compressed(&x, 100, 2, 10, 0)?;
    let t = std::time::Instant::now();
    let s = s.compute_as::<f64>()?;
    println!(
        "svd_compressed: u {:?}, v {:?}; s[0] = {:.3}, s[1] = {:.1e} in {:.2?}",
        u.shape(),
        v.shape(),
        s[0],
        s[1],
        t.elapsed()
    );
    Ok(())
}
