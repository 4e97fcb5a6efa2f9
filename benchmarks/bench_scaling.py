"""Fit time and training memory of GMNMRegressor on 40k vs 400k rows.

The same number of epochs on 10x the rows should take at most about 10x the
time (one epoch is linear in the rows), and the memory a fit adds on top of
its input should grow with rows x features (copies of the data) but not with
rows x components: the Gaussian activations are only ever materialised for a
mini-batch or a prediction chunk.

Each measurement runs in a fresh Python process, which reports:

- ``fit_s``: wall time of ``fit``; ``epoch_s``: median duration of one epoch
  (skorch's history), so initialisation is separated from training;
- ``fit_peak_mib``: peak resident memory (``ru_maxrss``) of the process
  during ``fit`` above its peak before ``fit`` (the data already loaded).

Usage::

    python benchmarks/bench_scaling.py --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

#: The checkout's package is benchmarked, whatever is installed.
ROOT = Path(__file__).resolve().parents[1]
N_FEATURES = 20


def measure(rows: int, n_components: int, epochs: int, n_jobs: int | None) -> dict:
    import resource
    import time

    import numpy as np

    import sklearn_gmnm._solvers as solvers
    from sklearn_gmnm import GMNMRegressor

    durations: list[float] = []

    class TimedNet(solvers.GMNMNet):
        def on_train_end(self, net, **kwargs):
            durations.extend(self.history[:, "dur"])
            return super().on_train_end(net, **kwargs)

    solvers.GMNMNet = TimedNet
    rng = np.random.RandomState(0)
    X = rng.standard_normal((rows, N_FEATURES))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(rows)
    reg = GMNMRegressor(
        n_components=n_components,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs,
        random_state=0,
        device="cpu",
        n_jobs=n_jobs,
    )
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    reg.fit(X, y)
    fit_s = time.perf_counter() - start
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert reg.n_iter_ == epochs
    return {
        "rows": rows,
        "n_components": n_components,
        "epochs": epochs,
        "n_jobs": n_jobs,
        "fit_s": fit_s,
        "epoch_s": statistics.median(durations),
        "data_mib": X.nbytes / 2**20,
        "fit_peak_mib": (peak_after - peak_before) / 1024,  # ru_maxrss is KiB
    }


def _child_env() -> dict:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rows", type=int, nargs="+", default=[40_000, 400_000])
    parser.add_argument("--components", type=int, nargs="+", default=[16, 64])
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="estimator n_jobs (torch threads)"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        rows, n_components, epochs, n_jobs = args.child
        n_jobs = None if n_jobs == "None" else int(n_jobs)
        print(json.dumps(measure(int(rows), int(n_components), int(epochs), n_jobs)))
        return

    results: dict[tuple[int, int], list[dict]] = {}
    for _ in range(args.repeats):
        for n_components in args.components:
            for rows in args.rows:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(rows),
                     str(n_components), str(args.epochs), str(args.n_jobs)],
                    capture_output=True, text=True, check=True, env=_child_env(),
                ).stdout
                r = json.loads(out.strip().splitlines()[-1])
                results.setdefault((rows, n_components), []).append(r)
                print(f"rows={rows:>7d} K={n_components:>3d}  fit {r['fit_s']:7.2f} s"
                      f"  epoch {r['epoch_s']:6.2f} s  data {r['data_mib']:6.1f} MiB"
                      f"  fit peak +{r['fit_peak_mib']:7.1f} MiB", flush=True)

    print(f"\n{N_FEATURES} features, {args.epochs} epochs, n_jobs={args.n_jobs}, "
          f"medians of {args.repeats} runs")
    print("| rows | K | fit s | epoch s | data MiB | fit peak +MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    med = {}
    for (rows, k), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        m = {key: statistics.median(r[key] for r in runs)
             for key in ("fit_s", "epoch_s", "data_mib", "fit_peak_mib")}
        med[rows, k] = m
        print(f"| {rows} | {k} | {m['fit_s']:.2f} | {m['epoch_s']:.2f} | "
              f"{m['data_mib']:.0f} | {m['fit_peak_mib']:.0f} |")
    small, large = min(args.rows), max(args.rows)
    for k in args.components:
        a, b = med[small, k], med[large, k]
        print(f"K={k}: {large // small}x rows -> "
              f"fit time x{b['fit_s'] / a['fit_s']:.1f}, "
              f"epoch time x{b['epoch_s'] / a['epoch_s']:.1f}, "
              f"fit peak memory x{b['fit_peak_mib'] / max(a['fit_peak_mib'], 1):.1f}")


if __name__ == "__main__":
    main()
