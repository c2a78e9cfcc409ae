//! Golden files of chunk-grid pictures and tables.

use floe_array::{DType, ones};

#[test]
fn svg_pictures_of_chunk_grids() {
    let one = ones(&[1000], 300_usize, DType::F64).unwrap();
    insta::assert_snapshot!("svg_1d", one.to_svg());
    let two = ones(&[5000, 1000], [1000_usize, 1000], DType::F64).unwrap();
    insta::assert_snapshot!("svg_2d", two.to_svg());
    let three = ones(&[1464, 721, 1440], [4_usize, 200, 200], DType::F32).unwrap();
    let svg = three.to_svg();
    // 366 blocks along time: drawn shaded, not as 367 lines.
    assert!(
        svg.matches("<line").count() < 60,
        "{}",
        svg.matches("<line").count()
    );
    insta::assert_snapshot!("svg_3d", svg);
    let four = ones(&[2, 3, 8, 10], [1_usize, 3, 4, 5], DType::I32).unwrap();
    insta::assert_snapshot!("svg_4d", four.to_svg());
    let scalar = ones(&[], 1_usize, DType::F64).unwrap();
    assert!(scalar.to_svg().contains("<rect"));
}

#[test]
fn text_tables_of_chunks() {
    let three = ones(&[1464, 721, 1440], [4_usize, 200, 200], DType::F32).unwrap();
    insta::assert_snapshot!("table_3d", three.chunk_table());
    let one = ones(&[10], 4_usize, DType::I64).unwrap();
    insta::assert_snapshot!("table_1d", one.chunk_table());
}
