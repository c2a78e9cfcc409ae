"""The talk's climate analysis with floe, line for line (``da`` → ``fa``).

    python examples/climate.py DIR [OUT]

DIR holds daily NetCDF files named 2014-*.nc with a (4, 721, 1440) ``t2m`` variable (for
example ``floe climate --synthetic 8`` writes some to floe-climate/data). The three maps
are written to OUT (default: the current directory) as PNG files.
"""

import os
import sys
from glob import glob

import matplotlib

matplotlib.use("Agg")  # files, not windows
import matplotlib.pyplot as plt  # noqa: E402
import netCDF4  # noqa: E402

import floe  # noqa: E402
import floe.array as fa  # noqa: E402


def main(directory, out="."):
    # Point to directory of NetCDF datasets
    filenames = sorted(glob(os.path.join(directory, "2014-*.nc")))
    temps = [netCDF4.Dataset(fn).variables["t2m"] for fn in filenames]

    # Wrap each with floe.array
    arrays = [fa.from_array(t, chunks=(4, 200, 200)) for t in temps]

    # Manipulate arrays with numpy syntax
    x = fa.concatenate(arrays, axis=0)
    print(x.shape)

    i = 1000 if x.shape[0] > 1000 else x.shape[0] // 2
    mean = x.mean(axis=0)
    anomaly = x[i] - x.mean(axis=0)
    day_night = x[::4].mean(axis=0) - x[2::4].mean(axis=0)
    # One run for the three: every block is read once.
    mean, anomaly, day_night = floe.compute(mean, anomaly, day_night)

    # Interact with the ecosystem
    for name, field, cmap in [("mean", mean, "bone"), ("anomaly", anomaly, "RdBu_r"),
                              ("day-vs-night", day_night, "RdBu_r")]:
        plt.figure(figsize=(10, 5))
        plt.imshow(field, cmap=cmap)
        plt.colorbar()
        plt.title(name)
        plt.savefig(os.path.join(out, f"{name}.png"))
        plt.close()
    return mean, anomaly, day_night


if __name__ == "__main__":
    main(sys.argv[1], *(sys.argv[2:3] or ["."]))
