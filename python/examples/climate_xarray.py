"""The talk's climate analysis as an xarray notebook, with floe arrays inside.

    python examples/climate_xarray.py DIR [OUT]

DIR holds daily NetCDF files named 2014-*.nc with a ``t2m(time, latitude, longitude)``
variable (``floe climate --synthetic 8`` writes some to floe-climate/data). xarray opens
them as one dataset whose variables are lazy floe arrays (``chunked_array_type="floe"``);
the three maps are computed in one run and drawn with xarray's plotting into OUT (default:
the current directory) as PNG files.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")  # files, not windows
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402


def main(directory, out="."):
    # One dataset over all the daily files, each file one block along time.
    ds = xr.open_mfdataset(os.path.join(directory, "2014-*.nc"), combine="nested",
                           concat_dim="time", chunked_array_type="floe", chunks={})
    t2m = ds["t2m"]
    print(t2m)

    i = 1000 if t2m.sizes["time"] > 1000 else t2m.sizes["time"] // 2
    mean = t2m.mean("time")
    maps = xr.Dataset({
        "mean": mean,
        "anomaly": t2m.isel(time=i) - mean,
        "day-vs-night": (t2m.isel(time=slice(0, None, 4)).mean("time")
                         - t2m.isel(time=slice(2, None, 4)).mean("time")),
    })
    # One run for the three: every block is read once.
    maps = maps.compute()
    ds.close()

    for name, cmap in [("mean", "bone"), ("anomaly", "RdBu_r"), ("day-vs-night", "RdBu_r")]:
        plt.figure(figsize=(10, 5))
        maps[name].plot(cmap=cmap)
        plt.title(name)
        plt.savefig(os.path.join(out, f"{name}.png"))
        plt.close()
    return maps


if __name__ == "__main__":
    main(sys.argv[1], *(sys.argv[2:3] or ["."]))
