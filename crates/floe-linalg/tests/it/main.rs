//! Blocked linear algebra against dense results on the whole matrix (ndarray products,
//! faer's dense factorizations), across chunkings: uneven last blocks, blocks smaller than
//! the column count, a single block, and enough blocks to make TSQR recurse.

use faer::Mat;
use floe_array::{Array, DType, DynArray, Lowering, from_ndarray};
use floe_graph::GraphBuilder;
use floe_linalg::{
    Norm, cholesky, dot, inv, lstsq, matmul, norm, qr, solve, svd, svd_compressed, tensordot, tsqr,
};
use floe_scheduler::Scheduler;
use ndarray::{Array2, ArrayD, Ix2, IxDyn};
use proptest::prelude::*;

mod specs;

fn compute_all(arrays: &[&Array]) -> Vec<ArrayD<f64>> {
    let mut b = GraphBuilder::default();
    let outs: Vec<_> = {
        let mut l = Lowering::new(&mut b);
        arrays.iter().map(|a| l.assemble(a).unwrap()).collect()
    };
    let g = b.build();
    let r = Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&g, &outs)
        .unwrap();
    r.values
        .iter()
        .map(|v| {
            v.downcast_ref::<DynArray>()
                .unwrap()
                .clone()
                .astype(DType::F64)
                .into_f64()
                .unwrap()
        })
        .collect()
}

fn compute(a: &Array) -> ArrayD<f64> {
    compute_all(&[a]).remove(0)
}

fn m2(a: ArrayD<f64>) -> Array2<f64> {
    a.into_dimensionality::<Ix2>().unwrap()
}

/// A reproducible pseudo-random matrix.
fn matrix(m: usize, n: usize, seed: u64) -> Array2<f64> {
    Array2::from_shape_fn((m, n), |(i, j)| {
        let mut x = (i as u64 * 1_000_003 + j as u64) ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        (x % 20_000) as f64 / 10_000.0 - 1.0
    })
}

fn lazy(a: &Array2<f64>, chunks: [usize; 2]) -> Array {
    from_ndarray(a.clone().into_dyn(), chunks.to_vec()).unwrap()
}

fn rel_err(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let d = (a - b).mapv(|v| v * v).sum().sqrt();
    d / a.mapv(|v| v * v).sum().sqrt().max(1e-300)
}

fn orthonormality(q: &Array2<f64>) -> f64 {
    let qtq = q.t().dot(q);
    let eye = Array2::<f64>::eye(q.ncols());
    (&qtq - &eye).iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

fn dense_singular_values(a: &Array2<f64>) -> Vec<f64> {
    let m = Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)]);
    let mut s = m.singular_values().unwrap();
    s.sort_by(|x, y| y.partial_cmp(x).unwrap());
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn matmul_equals_the_dense_product(
        m in 1_usize..30, k in 1_usize..30, n in 1_usize..30,
        ca in 1_usize..12, ck in 1_usize..12, cb in 1_usize..12, ck2 in 1_usize..12,
    ) {
        let (a, b) = (matrix(m, k, 1), matrix(k, n, 2));
        let c = m2(compute(&matmul(&lazy(&a, [ca, ck]), &lazy(&b, [ck2, cb])).unwrap()));
        prop_assert!(rel_err(&a.dot(&b), &c) < 1e-13);
    }

    #[test]
    fn tsqr_factors_any_row_chunking(m in 1_usize..80, n in 1_usize..12, c in 1_usize..30) {
        prop_assume!(m >= n);
        let a = matrix(m, n, 3);
        let (q, r) = tsqr(&lazy(&a, [c, n])).unwrap();
        let out = compute_all(&[&q, &r]);
        let (q, r) = (m2(out[0].clone()), m2(out[1].clone()));
        prop_assert_eq!(q.dim(), (m, n));
        prop_assert!(rel_err(&a, &q.dot(&r)) < 1e-12);
        prop_assert!(orthonormality(&q) < 1e-12);
        for i in 0..n {
            prop_assert!(r[(i, i)] >= 0.0);
            for j in 0..i {
                prop_assert_eq!(r[(i, j)], 0.0);
            }
        }
    }

    #[test]
    fn svd_matches_the_dense_singular_values(m in 1_usize..60, n in 1_usize..10, c in 1_usize..25, wide in any::<bool>()) {
        let (m, n) = if wide { (n, m) } else { (m, n) };
        let a = matrix(m, n, 4);
        let chunks = if m >= n { [c, n] } else { [m, c] };
        let (u, s, v) = svd(&lazy(&a, chunks)).unwrap();
        let out = compute_all(&[&u, &s, &v]);
        let (u, s, v) = (m2(out[0].clone()), out[1].clone(), m2(out[2].clone()));
        let kk = m.min(n);
        prop_assert_eq!((u.dim(), s.len(), v.dim()), ((m, kk), kk, (kk, n)));
        let us = &u * &s.view().into_shape_with_order((1, kk)).unwrap();
        prop_assert!(rel_err(&a, &us.dot(&v)) < 1e-12);
        prop_assert!(orthonormality(&u) < 1e-12);
        prop_assert!(orthonormality(&v.t().to_owned()) < 1e-12);
        for (x, y) in s.iter().zip(dense_singular_values(&a)) {
            prop_assert!((x - y).abs() <= 1e-12 * y.max(1.0), "{} vs {}", x, y);
        }
    }
}

#[test]
fn tsqr_recurses_when_the_stacked_factors_exceed_a_block() {
    // 64 blocks of 10 rows, 8 columns: the stacked R's (512 rows) are regrouped twice.
    let a = matrix(640, 8, 5);
    let (q, r) = tsqr(&lazy(&a, [10, 8])).unwrap();
    let out = compute_all(&[&q, &r]);
    let (q, r) = (m2(out[0].clone()), m2(out[1].clone()));
    assert!(rel_err(&a, &q.dot(&r)) < 1e-12);
    assert!(orthonormality(&q) < 1e-12);
}

#[test]
fn the_sign_convention_makes_results_independent_of_chunking() {
    let a = matrix(90, 6, 6);
    let one = compute_all(
        &{
            let (u, s, v) = svd(&lazy(&a, [90, 6])).unwrap();
            [u, s, v]
        }
        .iter()
        .collect::<Vec<_>>(),
    );
    let many = compute_all(
        &{
            let (u, s, v) = svd(&lazy(&a, [7, 6])).unwrap();
            [u, s, v]
        }
        .iter()
        .collect::<Vec<_>>(),
    );
    for (x, y) in one.iter().zip(&many) {
        assert!(x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-12));
    }
}

#[test]
fn qr_of_a_short_and_fat_array() {
    let a = matrix(5, 40, 7);
    let (q, r) = qr(&lazy(&a, [5, 9])).unwrap();
    let out = compute_all(&[&q, &r]);
    let (q, r) = (m2(out[0].clone()), m2(out[1].clone()));
    assert_eq!((q.dim(), r.dim()), ((5, 5), (5, 40)));
    assert!(rel_err(&a, &q.dot(&r)) < 1e-12);
    assert!(orthonormality(&q) < 1e-12);
    for i in 0..5 {
        for j in 0..i {
            assert_eq!(r[(i, j)], 0.0);
        }
    }
}

#[test]
fn randomized_svd_is_within_the_error_bound_and_reproducible() {
    // A = U diag(σ) Vᵀ with σ_i = 0.5^i: the rank-k approximation error is σ_k.
    let (m, n, k) = (300, 80, 10);
    let (qu, _) = {
        let mut q = Mat::<f64>::zeros(m, n);
        let g = matrix(m, n, 8);
        let qr = Mat::from_fn(m, n, |i, j| g[(i, j)]).qr();
        q.copy_from(qr.compute_thin_Q());
        (q, ())
    };
    let qv = Mat::from_fn(n, n, |i, j| matrix(n, n, 9)[(i, j)])
        .qr()
        .compute_thin_Q();
    let sigma: Vec<f64> = (0..n).map(|i| 0.5_f64.powi(i as i32)).collect();
    let a = Array2::from_shape_fn((m, n), |(i, j)| {
        (0..n)
            .map(|t| qu[(i, t)] * sigma[t] * qv[(j, t)])
            .sum::<f64>()
    });
    for (chunks, power) in [([50, 80], 0), ([64, 30], 1), ([300, 80], 2)] {
        let (u, s, v) = svd_compressed(&lazy(&a, chunks), k, power, 10, 42).unwrap();
        let out = compute_all(&[&u, &s, &v]);
        let (u, s, v) = (m2(out[0].clone()), out[1].clone(), m2(out[2].clone()));
        assert_eq!((u.dim(), s.len(), v.dim()), ((m, k), k, (k, n)));
        let approx = (&u * &s.view().into_shape_with_order((1, k)).unwrap()).dot(&v);
        let err = (&a - &approx).mapv(|x| x * x).sum().sqrt();
        // Halko et al. (10.8): with p = 10 oversamples the error is a small multiple of the
        // optimal σ_k (the tail's norm, here ≈ 1.15 σ_k); power iterations only shrink it.
        let tail: f64 = sigma[k..].iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(
            err <= 10.0 * tail,
            "{chunks:?}, q={power}: {err} vs tail {tail}"
        );
        for (x, y) in s.iter().zip(&sigma) {
            assert!((x - y).abs() < 1e-6 * y.max(1e-3), "{x} vs {y}");
        }
        assert!(orthonormality(&u) < 1e-10);
    }
    // The same seed gives the same result whatever the chunking.
    let a1 = compute(&svd_compressed(&lazy(&a, [50, 80]), k, 1, 5, 3).unwrap().0);
    let a2 = compute(&svd_compressed(&lazy(&a, [77, 13]), k, 1, 5, 3).unwrap().0);
    assert!(a1.iter().zip(&a2).all(|(x, y)| (x - y).abs() < 1e-9));
}

#[test]
fn the_talks_examples_run() {
    let x = floe_array::ones(&[5000, 1000], [1000_usize, 1000], DType::F64).unwrap();
    let (u, s, v) = svd(&x).unwrap();
    let out = compute_all(&[&u, &s, &v]);
    // ones(5000, 1000) has one singular value, sqrt(5000 · 1000).
    assert!((out[1][[0]] - (5000.0_f64 * 1000.0).sqrt()).abs() < 1e-8);
    assert!(out[1].iter().skip(1).all(|v| v.abs() < 1e-8));
    let (u, s, v) = svd_compressed(&x, 100, 2, 10, 0).unwrap();
    let out = compute_all(&[&u, &s, &v]);
    assert_eq!(out[0].shape(), &[5000, 100]);
    assert!((out[1][[0]] - (5000.0_f64 * 1000.0).sqrt()).abs() < 1e-8);
}

/// `svd_compressed` generates a random input again for each pass (cheaper than holding
/// it) but holds a derived one (centred data), whose blocks are computed once; the held
/// one gives the SVD of the centred matrix.
#[test]
fn svd_compressed_generates_sources_again_and_holds_the_rest() {
    let x = floe_array::random::uniform(&[600, 40], [100_usize, 40], 5, 0.0, 1.0).unwrap();
    let blocks_named = |a: &Array, name: &str| {
        let (g, _) = a.graph().unwrap();
        g.ids().filter(|&id| g.key(id).name() == name).count()
    };
    // k + oversamples = 40 columns: the whole range, so the singular values are exact.
    let (_, s, _) = svd_compressed(&x, 30, 1, 10, 0).unwrap();
    assert!(x.made_from_sources());
    assert_eq!(
        blocks_named(&s, "uniform"),
        6 * 4,
        "generated for each of 4 passes"
    );
    let centred = x.sub(&x.mean(0).unwrap()).unwrap();
    assert!(!centred.made_from_sources());
    let (_, s, _) = svd_compressed(&centred, 30, 1, 10, 0).unwrap();
    assert_eq!(
        blocks_named(&s, "uniform"),
        6,
        "made once, held between passes"
    );
    let expect = dense_singular_values(&m2(compute(&centred)));
    let got = compute(&s);
    for k in 0..30 {
        assert!(
            (got[[k]] - expect[k]).abs() < 1e-9 * expect[0],
            "{k}: {} against {}",
            got[[k]],
            expect[k]
        );
    }
}

#[test]
fn solvers_match_dense_results() {
    let n = 23;
    let g = matrix(n, n, 10);
    let spd = g.t().dot(&g) + Array2::<f64>::eye(n) * n as f64;
    let a = lazy(&spd, [7, 7]);
    let l = m2(compute(&cholesky(&a).unwrap()));
    assert!(rel_err(&spd, &l.dot(&l.t())) < 1e-13);
    assert!((0..n).all(|i| (i + 1..n).all(|j| l[(i, j)] == 0.0)));

    let b = matrix(n, 5, 11);
    let x = m2(compute(&solve(&a, &lazy(&b, [5, 2])).unwrap()));
    assert!(rel_err(&b, &spd.dot(&x)) < 1e-12);
    let b1 = ArrayD::from_shape_fn(IxDyn(&[n]), |i| i[0] as f64);
    let x1 = compute(&solve(&a, &from_ndarray(b1.clone(), 4).unwrap()).unwrap());
    assert_eq!(x1.shape(), &[n]);
    let ai = m2(compute(&inv(&a).unwrap()));
    assert!(rel_err(&Array2::eye(n), &ai.dot(&spd)) < 1e-12);

    // Least squares of a tall system against the normal equations.
    let (m, k) = (200, 6);
    let at = matrix(m, k, 12);
    let bt = matrix(m, 2, 13);
    let fit = lstsq(&lazy(&at, [33, k]), &lazy(&bt, [50, 2])).unwrap();
    let out = compute_all(&[&fit.x, &fit.residuals, &fit.rank, &fit.s]);
    let x = m2(out[0].clone());
    let ata = at.t().dot(&at);
    let atb = at.t().dot(&bt);
    assert!(rel_err(&atb, &ata.dot(&x)) < 1e-10);
    let r = &bt - &at.dot(&x);
    for j in 0..2 {
        let want: f64 = r.column(j).iter().map(|v| v * v).sum();
        assert!((out[1][[j]] - want).abs() < 1e-9 * want.max(1.0));
    }
    assert_eq!(out[2][[]], k as f64);
    assert_eq!(out[3].len(), k);
}

#[test]
fn products_of_vectors_and_tensors_follow_numpy() {
    let a = matrix(6, 4, 14);
    let v = ArrayD::from_shape_fn(IxDyn(&[4]), |i| i[0] as f64 + 1.0);
    let av = compute(&dot(&lazy(&a, [4, 3]), &from_ndarray(v.clone(), 3).unwrap()).unwrap());
    let want = a.dot(&v.clone().into_dimensionality::<ndarray::Ix1>().unwrap());
    assert_eq!(av.shape(), &[6]);
    assert!(av.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-12));
    let vv = compute(
        &dot(
            &from_ndarray(v.clone(), 2).unwrap(),
            &from_ndarray(v.clone(), 3).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(vv[[]], 30.0);

    // tensordot over two axes of 3-d operands.
    let x = ArrayD::from_shape_fn(IxDyn(&[3, 4, 5]), |i| (i[0] * 20 + i[1] * 5 + i[2]) as f64);
    let y = ArrayD::from_shape_fn(IxDyn(&[5, 4, 2]), |i| (i[0] + 2 * i[1] + 3 * i[2]) as f64);
    let t = compute(
        &tensordot(
            &from_ndarray(x.clone(), 2).unwrap(),
            &from_ndarray(y.clone(), 3).unwrap(),
            &[1, 2],
            &[1, 0],
        )
        .unwrap(),
    );
    assert_eq!(t.shape(), &[3, 2]);
    for i in 0..3 {
        for j in 0..2 {
            let want: f64 = (0..4)
                .flat_map(|b| (0..5).map(move |c| (b, c)))
                .map(|(b, c)| x[[i, b, c]] * y[[c, b, j]])
                .sum();
            assert_eq!(t[[i, j]], want);
        }
    }
}

#[test]
fn norms_match_numpy_definitions() {
    let a = matrix(12, 7, 15);
    let x = lazy(&a, [5, 3]);
    let fro = a.mapv(|v| v * v).sum().sqrt();
    assert!((compute(&norm(&x, Norm::Fro).unwrap())[[]] - fro).abs() < 1e-12);
    let s = dense_singular_values(&a);
    assert!((compute(&norm(&lazy(&a, [5, 7]), Norm::P(2.0)).unwrap())[[]] - s[0]).abs() < 1e-12);
    let nuc: f64 = s.iter().sum();
    assert!((compute(&norm(&lazy(&a, [5, 7]), Norm::Nuclear).unwrap())[[]] - nuc).abs() < 1e-11);
    let col = (0..7)
        .map(|j| a.column(j).iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    assert!((compute(&norm(&x, Norm::P(1.0)).unwrap())[[]] - col).abs() < 1e-12);
    let row = (0..12)
        .map(|i| a.row(i).iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    assert!((compute(&norm(&x, Norm::Inf).unwrap())[[]] - row).abs() < 1e-12);
    let v = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[4]), vec![3.0, -4.0, 0.0, 12.0]).unwrap(),
        3,
    )
    .unwrap();
    assert_eq!(compute(&norm(&v, Norm::Default).unwrap())[[]], 13.0);
    assert_eq!(compute(&norm(&v, Norm::P(1.0)).unwrap())[[]], 19.0);
    assert_eq!(compute(&norm(&v, Norm::P(0.0)).unwrap())[[]], 3.0);
    assert_eq!(compute(&norm(&v, Norm::Inf).unwrap())[[]], 12.0);
    assert!(norm(&v, Norm::Fro).is_err());
}

#[test]
fn chunkings_an_algorithm_cannot_take_say_which_rechunk_works() {
    let x = floe_array::ones(&[100, 10], [20_usize, 5], DType::F64).unwrap();
    let e = svd(&x).unwrap_err().to_string();
    assert!(
        e.contains("x.rechunk([r, -1])") && e.contains("svd_compressed"),
        "{e}"
    );
    let e = tsqr(&x).unwrap_err().to_string();
    assert!(e.contains("x.rechunk([20, -1])"), "{e}");
    let wide = floe_array::ones(&[10, 100], [5_usize, 20], DType::F64).unwrap();
    assert!(
        qr(&wide)
            .unwrap_err()
            .to_string()
            .contains("x.rechunk([-1, 20])")
    );
    let e = matmul(&x, &x).unwrap_err().to_string();
    assert!(e.contains("not aligned"), "{e}");
    assert!(svd_compressed(&x, 0, 0, 5, 0).is_err());
    assert!(svd_compressed(&x, 11, 0, 5, 0).is_err());
    let e = cholesky(&x).unwrap_err().to_string();
    assert!(e.contains("square"), "{e}");
    // Not positive definite: the computation fails with a message, no panic.
    let neg = floe_array::full(&[3, 3], 3, -1.0, DType::F64).unwrap();
    let mut b = GraphBuilder::default();
    let out = Lowering::new(&mut b)
        .assemble(&cholesky(&neg).unwrap())
        .unwrap();
    let err = Scheduler::default()
        .run(&b.build(), &[out])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not positive definite"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn solvers_take_any_chunking(n in 1_usize..20, k in 1_usize..4, ca in 1_usize..8, cb in 1_usize..4) {
        let g = matrix(n, n, 20);
        let spd = g.t().dot(&g) + Array2::<f64>::eye(n) * n as f64;
        let a = lazy(&spd, [ca, ca.max(2) - 1]);
        let b = matrix(n, k, 21);
        let x = m2(compute(&solve(&a, &lazy(&b, [ca, cb])).unwrap()));
        prop_assert!(rel_err(&b, &spd.dot(&x)) < 1e-11);
        let l = m2(compute(&cholesky(&a).unwrap()));
        prop_assert!(rel_err(&spd, &l.dot(&l.t())) < 1e-12);
        let ai = m2(compute(&inv(&a).unwrap()));
        prop_assert!(rel_err(&Array2::eye(n), &ai.dot(&spd)) < 1e-11);
        // Least squares of a taller system, in row blocks of any size.
        let m = 3 * n + 2;
        let at = matrix(m, n, 22);
        let bt = matrix(m, k, 23);
        let fit = lstsq(&lazy(&at, [ca + 1, n]), &lazy(&bt, [cb + 2, k])).unwrap();
        let x = m2(compute(&fit.x));
        prop_assert!(rel_err(&at.t().dot(&bt), &at.t().dot(&at).dot(&x)) < 1e-9);
    }
}

#[test]
fn complex_products_are_real_products_of_the_parts() {
    let (ar, ai, b) = (matrix(7, 5, 1), matrix(7, 5, 2), matrix(5, 4, 3));
    let a = floe_array::complex(&lazy(&ar, [3, 2]), &lazy(&ai, [3, 2])).unwrap();
    let c = floe_linalg::matmul(&a, &lazy(&b, [2, 4])).unwrap();
    assert_eq!(c.dtype(), DType::C128);
    let (re, im) = (
        c.unary(floe_array::UnaryOp::Real).unwrap(),
        c.unary(floe_array::UnaryOp::Imag).unwrap(),
    );
    let got = compute_all(&[&re, &im]);
    assert!(rel_err(&m2(got[0].clone()), &ar.dot(&b)) < 1e-12);
    assert!(rel_err(&m2(got[1].clone()), &ai.dot(&b)) < 1e-12);
    // Both complex: (ar + ai·i)(ar + ai·i)ᵀ = ar·arᵀ - ai·aiᵀ + (ar·aiᵀ + ai·arᵀ)·i.
    let g = floe_linalg::matmul(&a, &a.t()).unwrap();
    let got = compute_all(&[
        &g.unary(floe_array::UnaryOp::Real).unwrap(),
        &g.unary(floe_array::UnaryOp::Imag).unwrap(),
    ]);
    assert!(rel_err(&m2(got[0].clone()), &(ar.dot(&ar.t()) - ai.dot(&ai.t()))) < 1e-12);
    assert!(rel_err(&m2(got[1].clone()), &(ar.dot(&ai.t()) + ai.dot(&ar.t()))) < 1e-12);
    // Factorizations are real only: a typed refusal, not a silently dropped imaginary part.
    let err = floe_linalg::qr(&a).unwrap_err();
    assert!(
        matches!(err, floe_array::ArrayError::UnsupportedDType { .. }),
        "{err}"
    );
}
