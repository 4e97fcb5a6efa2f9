"""Predict time of a default GMNMRegressor against a default MLPRegressor.

Both models are fitted with their default settings on 20 features (a few
epochs: predict time does not depend on training), then ``predict`` is timed
on 1, 100, 10,000 and 200,000 rows; each time is the median of ``--repeats``
calls, after one warm-up call. ``--busy`` starts one CPU-bound process (a
pure-Python loop) for the duration of the measurements, as another user's
job would be. ``--threads`` adds GMNM with ``n_jobs=1`` and ``n_jobs=-1`` for
comparison, and ``--chunk-budgets`` times the chunk sizes given.

Usage::

    python benchmarks/bench_predict.py
    python benchmarks/bench_predict.py --busy --threads
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

#: The checkout's package is benchmarked, whatever is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from sklearn_gmnm import GMNMRegressor, _base  # noqa: E402

ROWS = (1, 100, 10_000, 200_000)
N_FEATURES = 20


def _spin() -> None:  # pragma: no cover - runs in a child process
    x = 0
    while True:
        x = (x + 1) % 1_000_003


def _median_seconds(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fitted(n_jobs: int | None = None) -> dict:
    rng = np.random.RandomState(0)
    X = rng.randn(20_000, N_FEATURES)
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models = {
            "MLP default": MLPRegressor(max_iter=3, random_state=0).fit(X, y),
            "GMNM default": GMNMRegressor(max_iter=3, random_state=0).fit(X, y),
        }
    return models


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busy", action="store_true",
                        help="run one CPU-bound process during the measurements")
    parser.add_argument("--threads", action="store_true",
                        help="also time GMNM with n_jobs=1 and n_jobs=-1")
    parser.add_argument("--chunk-budgets", type=int, nargs="*", default=[],
                        help="also time these values of _PREDICT_BUDGET")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, nargs="*", default=list(ROWS))
    args = parser.parse_args(argv)

    models = _fitted()
    gmnm = models["GMNM default"]
    variants = dict(models)
    if args.threads:
        for n_jobs in (1, -1):
            clone = GMNMRegressor(**{**gmnm.get_params(), "n_jobs": n_jobs})
            clone.__dict__.update(
                {k: v for k, v in gmnm.__dict__.items() if k.endswith("_")
                 or k.startswith("_")}
            )
            variants[f"GMNM n_jobs={n_jobs}"] = clone

    spinner = None
    if args.busy:
        spinner = multiprocessing.Process(target=_spin, daemon=True)
        spinner.start()
        time.sleep(0.5)
    try:
        print(f"# predict seconds (median of {args.repeats}), {N_FEATURES} "
              f"features, {os.cpu_count()} CPUs, torch {torch.__version__}, "
              f"torch threads {torch.get_num_threads()}, "
              f"{'one busy process' if args.busy else 'quiet'}")
        print(f"# GMNM: {gmnm.module_.n_components} components, "
              f"{gmnm.covariance_type}, rank {gmnm.module_.rank}")
        print("| model | " + " | ".join(f"{n} rows" for n in args.rows) + " |")
        print("| --- |" + " --- |" * len(args.rows))
        rng = np.random.RandomState(1)
        inputs = {n: rng.randn(n, N_FEATURES) for n in args.rows}
        for name, model in variants.items():
            cells = [
                _median_seconds(lambda X=inputs[n], m=model: m.predict(X), args.repeats)
                for n in args.rows
            ]
            print(f"| {name} | " + " | ".join(f"{c:.4g}" for c in cells) + " |")
        default_budget = _base._PREDICT_BUDGET
        for budget in args.chunk_budgets:
            _base._PREDICT_BUDGET = budget
            cells = [
                _median_seconds(lambda X=inputs[n]: gmnm.predict(X), args.repeats)
                for n in args.rows
            ]
            print(f"| GMNM budget {budget} | "
                  + " | ".join(f"{c:.4g}" for c in cells) + " |")
        _base._PREDICT_BUDGET = default_budget
    finally:
        if spinner is not None:
            spinner.terminate()
            spinner.join()


if __name__ == "__main__":
    main()
