//! Maps as PNG images: a 2-D field through a colormap, a title above, a colour bar with
//! its range below. Pixels are the grid points (one per cell, north up).

use std::path::Path;

use font8x8::UnicodeFonts;
use ndarray::ArrayView2;

/// A colormap: anchor points (position in [0, 1], RGB) interpolated linearly.
pub struct Colormap(&'static [(f64, [u8; 3])]);

/// A blue-grey ramp from black to white, like matplotlib's `bone`.
pub const BONE: Colormap = Colormap(&[
    (0.0, [0, 0, 0]),
    (0.365, [81, 81, 113]),
    (0.746, [166, 198, 198]),
    (1.0, [255, 255, 255]),
]);

/// Blue through white to red, for values centred on zero (ColorBrewer's RdBu, reversed).
pub const RDBU_R: Colormap = Colormap(&[
    (0.0, [5, 48, 97]),
    (0.1, [33, 102, 172]),
    (0.2, [67, 147, 195]),
    (0.3, [146, 197, 222]),
    (0.4, [209, 229, 240]),
    (0.5, [247, 247, 247]),
    (0.6, [253, 219, 199]),
    (0.7, [244, 165, 130]),
    (0.8, [214, 96, 77]),
    (0.9, [178, 24, 43]),
    (1.0, [103, 0, 31]),
]);

const NAN_COLOUR: [u8; 3] = [128, 128, 128];

impl Colormap {
    /// The colour at `t` in [0, 1] (clamped).
    pub fn at(&self, t: f64) -> [u8; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let stops = self.0;
        let i = stops
            .iter()
            .position(|(p, _)| *p >= t)
            .unwrap_or(stops.len() - 1)
            .max(1);
        let ((p0, c0), (p1, c1)) = (stops[i - 1], stops[i]);
        let f = if p1 > p0 { (t - p0) / (p1 - p0) } else { 0.0 };
        let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
        [mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2])]
    }
}

/// An RGB image being drawn.
pub struct Image {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            rgb: vec![255; width * height * 3],
        }
    }

    fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Text in the 8×8 font, `scale` pixels per font pixel, top-left at (x, y).
    fn text(&mut self, x: usize, y: usize, s: &str, scale: usize) {
        for (k, ch) in s.chars().enumerate() {
            let glyph = font8x8::BASIC_FONTS
                .get(ch)
                .or_else(|| font8x8::BASIC_FONTS.get('?'))
                .unwrap_or([0; 8]);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                self.set(
                                    x + (k * 8 + col) * scale + dx,
                                    y + row * scale + dy,
                                    [0, 0, 0],
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Width, height, and the pixels (RGB, row-major).
    #[cfg(test)]
    pub fn pixels(&self) -> (usize, usize, &[u8]) {
        (self.width, self.height, &self.rgb)
    }

    /// Writes the image as a PNG file.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut enc = png::Encoder::new(
            std::io::BufWriter::new(file),
            self.width as u32,
            self.height as u32,
        );
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        w.write_image_data(&self.rgb)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The layout of a map image: title band, map, colour bar and its labels.
pub struct Layout {
    /// Font scale (pixels per font pixel).
    pub scale: usize,
    /// Rows above the map.
    pub top: usize,
    /// Rows below the map.
    pub bottom: usize,
}

impl Layout {
    /// The layout for a map `width` pixels wide.
    pub fn for_width(width: usize) -> Self {
        let scale = if width >= 600 { 2 } else { 1 };
        Self {
            scale,
            top: 12 * scale,
            bottom: 24 * scale,
        }
    }
}

/// Draws `field` (rows north to south) with `cmap` over [`vmin`, `vmax`], titled, with a
/// colour bar labelled with the range and `units`.
pub fn render(
    field: ArrayView2<'_, f64>,
    cmap: &Colormap,
    vmin: f64,
    vmax: f64,
    title: &str,
    units: &str,
) -> Image {
    let (rows, cols) = field.dim();
    let lay = Layout::for_width(cols);
    let mut img = Image::new(cols, lay.top + rows + lay.bottom);
    img.text(2, 2 * lay.scale, title, lay.scale);
    let span = if vmax > vmin { vmax - vmin } else { 1.0 };
    for ((r, c), &v) in field.indexed_iter() {
        let colour = if v.is_nan() {
            NAN_COLOUR
        } else {
            cmap.at((v - vmin) / span)
        };
        img.set(c, lay.top + r, colour);
    }
    // The colour bar: a ramp across the width, then the range and units under it.
    let bar_top = lay.top + rows + 3 * lay.scale;
    for c in 0..cols {
        let colour = cmap.at(c as f64 / (cols.max(2) - 1) as f64);
        for y in bar_top..bar_top + 8 * lay.scale {
            img.set(c, y, colour);
        }
    }
    let label_y = bar_top + 9 * lay.scale;
    let lo = format!("{vmin:.1}");
    let hi = format!("{vmax:.1} {units}");
    img.text(1, label_y, &lo, lay.scale);
    let hi_x = cols.saturating_sub(hi.len() * 8 * lay.scale + 1);
    img.text(hi_x, label_y, &hi, lay.scale);
    img
}

/// The finite minimum and maximum of `field` (0, 1 if it has no finite value).
pub fn range(field: ArrayView2<'_, f64>) -> (f64, f64) {
    let (lo, hi) = field
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colormaps_interpolate_between_anchors() {
        assert_eq!(BONE.at(0.0), [0, 0, 0]);
        assert_eq!(BONE.at(1.0), [255, 255, 255]);
        assert_eq!(RDBU_R.at(0.5), [247, 247, 247]);
        let mid = RDBU_R.at(0.95);
        assert!(mid[0] > mid[2], "the high end is red");
        assert_eq!(BONE.at(f64::NAN), [0, 0, 0]);
    }

    #[test]
    fn rendering_places_the_map_below_the_title() {
        let f = ndarray::Array2::from_shape_fn((3, 40), |(_, c)| c as f64);
        let img = render(f.view(), &BONE, 0.0, 39.0, "T", "K");
        let (w, h, px) = img.pixels();
        let lay = Layout::for_width(40);
        assert_eq!((w, h), (40, lay.top + 3 + lay.bottom));
        let at = |x: usize, y: usize| &px[(y * w + x) * 3..(y * w + x) * 3 + 3];
        assert_eq!(at(0, lay.top), &[0, 0, 0]);
        assert_eq!(at(39, lay.top + 2), &[255, 255, 255]);
    }
}
