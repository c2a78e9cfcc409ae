//! A synthetic dataset in the talk's layout: one NetCDF4 file per day, `t2m` of shape
//! (4, lat, lon) float32 — four 6-hourly temperatures on a regular grid — with a plausible
//! field: colder poles, seasons, a diurnal cycle that follows local solar time, land-like
//! texture and a little noise.

use std::path::{Path, PathBuf};

use floe::{Delayed, try_delayed};

/// Days in each month of 2014.
const MONTHS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// `2014-MM-DD` for day `d` (0-based) of 2014, wrapping after a year.
pub fn date(d: u32) -> String {
    let (mut day, mut month) = (d % 365, 0);
    while day >= MONTHS[month] {
        day -= MONTHS[month];
        month += 1;
    }
    format!("2014-{:02}-{:02}", month + 1, day + 1)
}

/// Temperature in kelvin at day `d`, hour `h` (UTC), latitude and longitude in degrees.
pub fn temperature(d: u32, h: u32, lat: f64, lon: f64) -> f64 {
    let phi = lat.to_radians();
    let lam = lon.to_radians();
    let season = (std::f64::consts::TAU * (f64::from(d) - 80.0) / 365.0).sin();
    let local = f64::from(h) + lon / 15.0;
    let diurnal = 6.0 * phi.cos() * (std::f64::consts::TAU * (local - 15.0) / 24.0).cos();
    let texture = 3.0 * (3.0 * lam).sin() * (2.0 * phi).cos() + 1.5 * (5.0 * lam + 2.0 * phi).cos();
    let mut z = (u64::from(d) << 40)
        ^ (u64::from(h) << 32)
        ^ ((lat * 4.0 + 400.0) as u64) << 12
        ^ (lon * 4.0) as u64;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let noise = ((z >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
    288.0 - 35.0 * phi.sin().powi(2) + 8.0 * phi.sin() * season + diurnal + texture + noise
}

/// Writes day `d` as `DIR/2014-MM-DD.nc` on a `lat × lon` grid.
fn write_day(dir: &Path, d: u32, lat: usize, lon: usize) -> Result<PathBuf, String> {
    let lats: Vec<f32> = (0..lat)
        .map(|i| 90.0 - 180.0 * i as f32 / (lat - 1).max(1) as f32)
        .collect();
    let lons: Vec<f32> = (0..lon).map(|j| 360.0 * j as f32 / lon as f32).collect();
    let mut values = Vec::with_capacity(4 * lat * lon);
    for h in [0, 6, 12, 18] {
        for &la in &lats {
            for &lo in &lons {
                values.push(temperature(d, h, f64::from(la), f64::from(lo)) as f32);
            }
        }
    }
    let path = dir.join(format!("{}.nc", date(d)));
    let err = |e: netcdf::Error| format!("{}: {e}", path.display());
    let mut f = netcdf::create(&path).map_err(err)?;
    f.add_dimension("time", 4).map_err(err)?;
    f.add_dimension("latitude", lat).map_err(err)?;
    f.add_dimension("longitude", lon).map_err(err)?;
    let mut v = f
        .add_variable::<f32>("latitude", &["latitude"])
        .map_err(err)?;
    v.put_attribute("units", "degrees_north").map_err(err)?;
    v.put_values(&lats, ..).map_err(err)?;
    let mut v = f
        .add_variable::<f32>("longitude", &["longitude"])
        .map_err(err)?;
    v.put_attribute("units", "degrees_east").map_err(err)?;
    v.put_values(&lons, ..).map_err(err)?;
    let hours: Vec<i32> = (0..4).map(|h| (d * 24 + h * 6) as i32).collect();
    let mut v = f.add_variable::<i32>("time", &["time"]).map_err(err)?;
    v.put_attribute("units", "hours since 2014-01-01 00:00:00")
        .map_err(err)?;
    v.put_values(&hours, ..).map_err(err)?;
    let mut v = f
        .add_variable::<f32>("t2m", &["time", "latitude", "longitude"])
        .map_err(err)?;
    v.put_attribute("units", "K").map_err(err)?;
    v.put_attribute("long_name", "2 metre temperature")
        .map_err(err)?;
    v.put_values(&values, ..).map_err(err)?;
    Ok(path)
}

/// Writes `days` daily files into `dir` (created if needed), in parallel; returns their paths
/// in date order.
pub fn generate(
    dir: &Path,
    days: u32,
    lat: usize,
    lon: usize,
) -> Result<Vec<PathBuf>, floe::Error> {
    std::fs::create_dir_all(dir).map_err(|e| floe::io::IoError::Os {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let dir = dir.to_path_buf();
    let write = try_delayed(move |d: &u32| write_day(&dir, *d, lat, lon));
    let files: Vec<Delayed<PathBuf>> = (0..days).map(&write).collect();
    floe::compute(&files)
}
