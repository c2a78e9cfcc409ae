"""Complex arrays and Fourier transforms, floe against Dask side by side (threaded
scheduler, both on 2 threads): a random 4000 x 16384 float64 array in blocks of 250 whole
rows (512 MB; 32 MB blocks), as a spectrum is taken along each row of a signal.

  source       x.sum()                                   making and reducing x alone
  power        (abs(np.fft.rfft(x, axis=1)) ** 2).mean(axis=0)   the mean power spectrum
  roundtrip    np.fft.ifft(np.fft.fft(x, axis=1), axis=1).real.std()
  complex_ew   abs(x * np.exp(1j * x) - 0.5j).sum()      complex elementwise math, reduced
  complex_mean (x * (1 + 2j)).mean(axis=0)               a complex mean, by columns

Each case runs in a fresh process (peak RSS is the process's); JSON lines on stdout:

  ~/.cache/floe-bench/venv/bin/python scripts/bench/spectra.py --reps 2
"""
import argparse
import json
import resource
import subprocess
import sys
import time

ROWS, COLS, BLOCK = 4000, 16384, 250
CASES = ["source", "power", "roundtrip", "complex_ew", "complex_mean"]


def run_case(lib, case):
    import numpy as np
    if lib == "floe":
        import floe
        import floe.array as xa
        floe.config.set(threads=2)
        x = xa.random.random((ROWS, COLS), chunks=(BLOCK, -1), seed=0)
    else:
        import dask
        import dask.array as xa
        dask.config.set(scheduler="threads", num_workers=2)
        x = xa.random.random((ROWS, COLS), chunks=(BLOCK, -1))
    t = time.perf_counter()
    if case == "source":
        out = x.sum().compute()
    elif case == "power":
        out = (abs(np.fft.rfft(x, axis=1)) ** 2).mean(axis=0).compute()[1]
    elif case == "roundtrip":
        out = np.fft.ifft(np.fft.fft(x, axis=1), axis=1).real.std().compute()
    elif case == "complex_ew":
        out = abs(x * np.exp(1j * x) - 0.5j).sum().compute()
    elif case == "complex_mean":
        out = abs((x * (1 + 2j)).mean(axis=0).compute()).sum()
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"case": case, "lib": lib, "seconds": round(seconds, 3),
                      "peak_rss_mb": round(rss), "check": float(out)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--case")
    p.add_argument("--lib")
    p.add_argument("--cases", default=",".join(CASES))
    a = p.parse_args()
    if a.case:
        run_case(a.lib, a.case)
        return
    for case in a.cases.split(","):
        for _ in range(a.reps):
            for lib in ["floe", "dask"]:
                subprocess.run([sys.executable, __file__, "--case", case, "--lib", lib], check=True)


if __name__ == "__main__":
    main()
