"""A GMNM head on one hidden layer of 100 units against MLP's default.

Run from the repository root::

    python benchmarks/bench_depth.py --repeats 3

On each data set, with the train/test split and the preprocessing of
``run_benchmarks.py`` (one-hot encoding of categorical columns, then
``StandardScaler``), it fits:

- ``GMNM (100,)``: GMNMRegressor / GMNMClassifier with
  ``hidden_layer_sizes=(100,)``, otherwise at their defaults;
- ``MLP``: MLPRegressor / MLPClassifier at their defaults (one hidden layer
  of 100 units);
- ``GMNM``: the estimators at their defaults (no hidden layer).

``--scale-target`` also standardises the regression targets for every model
(``TransformedTargetRegressor``): the GMNM does that internally, MLP does
not. It prints a markdown table of the test score (R^2 or accuracy), the
fastest of ``--repeats`` fit times, and the epochs run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402
from run_benchmarks import RANDOM_STATE, make_pipeline, score, split  # noqa: E402

from sklearn_gmnm import GMNMClassifier, GMNMRegressor  # noqa: E402


def run_dataset(name: str, repeats: int, scale_target: bool) -> list[dict]:
    X, y, task = datasets.BENCHMARK.get(name, datasets.HOLDOUT.get(name))()
    X_train, X_test, y_train, y_test = split(X, y, task)
    regression = task == "regression"
    gmnm = GMNMRegressor if regression else GMNMClassifier
    mlp = MLPRegressor if regression else MLPClassifier
    models = {
        "GMNM (100,)": gmnm(hidden_layer_sizes=(100,), random_state=RANDOM_STATE),
        "MLP": mlp(random_state=RANDOM_STATE),
        "GMNM": gmnm(random_state=RANDOM_STATE),
    }
    rows = []
    for label, est in models.items():
        fit_s = float("inf")
        for _ in range(repeats):
            pipe = make_pipeline(X_train, est)
            if regression and scale_target:
                pipe = TransformedTargetRegressor(pipe, transformer=StandardScaler())
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pipe.fit(X_train, y_train)
            fit_s = min(fit_s, time.perf_counter() - start)
        if isinstance(pipe, TransformedTargetRegressor):
            fitted = pipe.regressor_
        else:
            fitted = pipe
        rows.append(
            {
                "data": name,
                "rows": X_train.shape[0],
                "model": label,
                "score": score(task, y_test, pipe.predict(X_test)),
                "fit_s": fit_s,
                "n_iter": fitted[-1].n_iter_,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["diabetes", "breast_cancer", "housing", "diamonds"],
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--scale-target", action="store_true")
    args = parser.parse_args(argv)
    print("| data | train rows | model | test score | fit s | epochs |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.datasets:
        for row in run_dataset(name, args.repeats, args.scale_target):
            print(
                f"| {row['data']} | {row['rows']} | {row['model']} | "
                f"{row['score']:.4f} | {row['fit_s']:.2f} | {row['n_iter']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
