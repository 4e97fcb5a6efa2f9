"""What the first fit of a session costs over the second.

Each run starts a fresh Python process that imports ``sklearn_gmnm``, loads
scikit-learn's diabetes data, and fits the same default estimator twice,
timing both fits by wall clock and by process CPU time; the extra cost of
the first fit is what a newcomer waits for once per session (one-time
imports and set-up). Run from the repository root::

    python benchmarks/bench_first_fit.py --runs 5

It prints the median over runs of each figure. CPU time is the steadier one
on a shared machine: other processes lengthen the wall time, not the CPU
time, of a single-threaded import.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, time, warnings
t0, c0 = time.perf_counter(), time.process_time()
from sklearn.datasets import load_diabetes
from sklearn_gmnm import {estimator}
import_wall, import_cpu = time.perf_counter() - t0, time.process_time() - c0
X, y = load_diabetes(return_X_y=True)
warnings.simplefilter("ignore")
times = []
for _ in range(2):
    t, c = time.perf_counter(), time.process_time()
    {estimator}(random_state=0, **{params}).fit(X, y)
    times.append((time.perf_counter() - t, time.process_time() - c))
print(json.dumps({{"import": [import_wall, import_cpu], "fits": times}}))
"""


def run_once(estimator: str, params: dict) -> dict:
    code = CHILD.format(estimator=estimator, params=repr(params))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--solver", default="adam", choices=["adam", "lbfgs"])
    args = parser.parse_args()
    params = {} if args.solver == "adam" else {"solver": args.solver}
    runs = [run_once("GMNMRegressor", params) for _ in range(args.runs)]
    fits = np.array([r["fits"] for r in runs])  # (runs, 2 fits, wall/cpu)
    imports = np.array([r["import"] for r in runs])
    median = np.median
    print(f"GMNMRegressor(solver={args.solver!r}) on load_diabetes, "
          f"median of {args.runs} fresh processes:")
    print(f"  import sklearn_gmnm: {median(imports[:, 0]):.3f} s wall, "
          f"{median(imports[:, 1]):.3f} s CPU")
    for k, label in ((0, "wall"), (1, "CPU")):
        first, second = fits[:, 0, k], fits[:, 1, k]
        print(f"  {label}: first fit {median(first):.3f} s, second "
              f"{median(second):.3f} s, extra {median(first - second):.3f} s")


if __name__ == "__main__":
    main()
