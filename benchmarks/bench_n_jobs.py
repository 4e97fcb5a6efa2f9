"""Wall time of a moderate GridSearchCV with n_jobs=1 and n_jobs=2.

Each configuration runs in a fresh Python process (so the worker start-up of
``n_jobs=2`` is paid, as a user pays it) and is repeated ``--repeats`` times.
Configurations:

- ``search n_jobs=1``: one process; torch uses all the CPUs.
- ``search n_jobs=2``: two loky workers; each fit keeps to the thread limit
  joblib sets in its workers (``cpu_count // 2`` threads).
- ``search n_jobs=2, estimator n_jobs=-1``: two workers, each asking torch for
  all the CPUs (oversubscription, for comparison).

Usage::

    python benchmarks/bench_n_jobs.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The checkout's package is benchmarked, whatever is installed.
ROOT = Path(__file__).resolve().parents[1]

CONFIGS = {
    "search n_jobs=1": (1, None),
    "search n_jobs=2": (2, None),
    "search n_jobs=2, estimator n_jobs=-1": (2, -1),
}


def run_search(search_n_jobs: int, estimator_n_jobs: int | None, rows: int) -> dict:
    from sklearn.datasets import make_friedman1
    from sklearn.model_selection import GridSearchCV

    from sklearn_gmnm import GMNMRegressor

    X, y = make_friedman1(n_samples=rows, n_features=10, noise=0.5, random_state=0)
    grid = {"n_components": [16, 32], "covariance_type": ["full", "diag"]}
    estimator = GMNMRegressor(
        max_iter=15,
        tol=0.0,
        n_iter_no_change=15,
        random_state=0,
        n_jobs=estimator_n_jobs,
    )
    start = time.perf_counter()
    search = GridSearchCV(estimator, grid, cv=3, n_jobs=search_n_jobs).fit(X, y)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "best_score": float(search.best_score_)}


def _child_env() -> dict:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        search_n_jobs, estimator_n_jobs = args.child
        estimator = None if estimator_n_jobs == "None" else int(estimator_n_jobs)
        print(json.dumps(run_search(int(search_n_jobs), estimator, args.rows)))
        return

    times: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(args.repeats):
        for name, (search_n_jobs, estimator_n_jobs) in CONFIGS.items():
            out = subprocess.run(
                [sys.executable, __file__, "--rows", str(args.rows),
                 "--child", str(search_n_jobs), str(estimator_n_jobs)],
                capture_output=True, text=True, check=True, env=_child_env(),
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            times[name].append(result["seconds"])
            print(f"{name:40s} {result['seconds']:7.2f} s  "
                  f"(best CV R^2 {result['best_score']:.4f})", flush=True)
    print(f"\n{args.rows} rows x 10 features, 4 candidates x 3 folds, 15 epochs")
    print(f"{'configuration':40s} {'median':>8s} {'min':>8s} {'max':>8s}")
    for name, values in times.items():
        print(f"{name:40s} {statistics.median(values):8.2f} {min(values):8.2f} "
              f"{max(values):8.2f}")


if __name__ == "__main__":
    main()
