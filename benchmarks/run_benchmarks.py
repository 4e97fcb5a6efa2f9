"""GMNM against MLP and histogram gradient boosting, side by side.

Run from the repository root::

    python benchmarks/run_benchmarks.py

It fits, on each data set, with the same train/test split (``random_state=0``)
and the same preprocessing (one-hot encoding of categorical columns, then
``StandardScaler``):

- ``GMNM``: GMNMRegressor / GMNMClassifier at their defaults;
- ``MLP``: MLPRegressor / MLPClassifier at their defaults;
- ``MLP (matched)``: the same with one hidden layer sized to GMNM's parameter
  count, trained for as many epochs as GMNM was (its time per epoch is the
  fair comparison, its score is not);
- ``HGB``: HistGradientBoostingRegressor / Classifier at their defaults.

and writes a markdown table and a PNG plot (``--out``, ``--plot``). Scores are
R^2 (regression) and accuracy (classification) on the held-out quarter.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402

from sklearn_gmnm import GMNMClassifier, GMNMRegressor  # noqa: E402

RANDOM_STATE = 0


def preprocessor(X):
    """One-hot encode the non-numeric columns, keep the numeric ones."""
    categorical = X.select_dtypes(exclude="number").columns.tolist()
    encoder = OneHotEncoder(
        handle_unknown="infrequent_if_exist", min_frequency=10, sparse_output=False
    )
    return ColumnTransformer(
        [("onehot", encoder, categorical)], remainder="passthrough"
    )


def gmnm_parameter_count(n_features: int, n_outputs: int, est) -> int:
    """Trainable parameters of a fitted GMNM estimator's module."""
    return sum(p.numel() for p in est.module_.parameters() if p.requires_grad)


def matched_hidden_units(n_params: int, n_features: int, n_outputs: int) -> int:
    """Hidden units of a one-layer MLP with about ``n_params`` parameters."""
    return max(1, round((n_params - n_outputs) / (n_features + 1 + n_outputs)))


def make_pipeline(X, est):
    return Pipeline(
        [("encode", preprocessor(X)), ("scale", StandardScaler()), ("model", est)]
    )


#: Predict calls timed per fit (the fastest counts): a predict takes
#: milliseconds, so one call is at the mercy of the scheduler.
PREDICT_REPEATS = 5


def timed_fit_predict(pipe, X_train, y_train, X_test):
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    predict_time = np.inf
    for _ in range(PREDICT_REPEATS):
        start = time.perf_counter()
        pred = pipe.predict(X_test)
        predict_time = min(predict_time, time.perf_counter() - start)
    return pred, fit_time, predict_time


class EpochClock(Callback):
    """skorch callback noting when each training epoch of GMNM ends.

    The times go to the class attribute ``ends``: the estimator trains with
    a copy of its callbacks, so an instance attribute would not be seen.
    """

    ends: list = []

    def on_epoch_end(self, net, **kwargs):
        EpochClock.ends.append(time.perf_counter())


@contextlib.contextmanager
def skorch_epoch_clock():
    """Collect GMNM's epoch end times (with an ``EpochClock`` callback)."""
    EpochClock.ends = []
    yield EpochClock.ends


class _IterationLines(io.TextIOBase):
    """Stand-in stdout noting when MLP(verbose=True) reports an epoch."""

    def __init__(self):
        self.ends = []

    def write(self, text):
        if text.startswith("Iteration"):
            self.ends.append(time.perf_counter())
        return len(text)


@contextlib.contextmanager
def mlp_epoch_clock():
    """Collect an MLP's epoch end times from its per-epoch report lines."""
    lines = _IterationLines()
    with contextlib.redirect_stdout(lines):
        yield lines.ends


def score(task, y_true, y_pred):
    if task == "regression":
        from sklearn.metrics import r2_score

        return r2_score(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def split(X, y, task):
    """The benchmark's split: a quarter held out, stratified for classification."""
    stratify = y if task == "classification" else None
    return train_test_split(
        X, y, test_size=0.25, random_state=RANDOM_STATE, stratify=stratify
    )


def run_dataset(name, loader, repeats=1):
    X, y, task = loader()
    X_train, X_test, y_train, y_test = split(X, y, task)
    regression = task == "regression"
    gmnm = GMNMRegressor if regression else GMNMClassifier
    mlp = MLPRegressor if regression else MLPClassifier
    hgb = (
        HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    )

    rows = []

    def run(label, est, clock=None):
        best = None
        epoch_s = np.inf
        for _ in range(repeats):
            pipe = make_pipeline(X_train, est)
            with clock() if clock else contextlib.nullcontext() as ends:
                pred, fit_time, predict_time = timed_fit_predict(
                    pipe, X_train, y_train, X_test
                )
            if clock and len(ends) > 1:
                epoch_s = min(epoch_s, float(np.median(np.diff(ends))))
            if best is None or fit_time < best[1]:
                best = (pred, fit_time, predict_time, pipe)
        pred, fit_time, predict_time, pipe = best
        model = pipe.named_steps["model"]
        n_iter = getattr(model, "n_iter_", None)
        rows.append(
            {
                "dataset": name,
                "task": task,
                "n_train": X_train.shape[0],
                "model": label,
                "score": score(task, y_test, pred),
                "fit_s": fit_time,
                "predict_s": predict_time,
                "n_iter": n_iter,
                "s_per_epoch": fit_time / n_iter if n_iter else None,
                "s_per_training_epoch": epoch_s if clock else None,
            }
        )
        return pipe

    # The clock callback only reads the time; the model is the default one.
    pipe = run(
        "GMNM",
        gmnm(random_state=RANDOM_STATE, callbacks=[EpochClock()]),
        clock=skorch_epoch_clock,
    )
    fitted = pipe.named_steps["model"]
    n_features = fitted.n_features_in_
    n_outputs = fitted.module_.out_features
    n_params = gmnm_parameter_count(n_features, n_outputs, fitted)
    run("MLP", mlp(random_state=RANDOM_STATE))
    hidden = matched_hidden_units(n_params, n_features, n_outputs)
    # Same parameter count and the same number of epochs as GMNM (tol=0 so
    # that every epoch runs): its time per epoch is the fair comparison.
    run(
        f"MLP (matched, {hidden} units, {fitted.n_iter_} epochs)",
        mlp(
            hidden_layer_sizes=(hidden,),
            max_iter=fitted.n_iter_,
            tol=0.0,
            random_state=RANDOM_STATE,
            verbose=True,
        ),
        clock=mlp_epoch_clock,
    )
    run("HGB", hgb(random_state=RANDOM_STATE))
    for row in rows:
        row["n_features"] = n_features
        row["gmnm_params"] = n_params
    return rows


def warm_up() -> None:
    """Fit every model once on tiny data, so no timing pays one-time start-up
    costs (thread pools, lazy imports, first-call dispatch)."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 5))
    y = X[:, 0] + X[:, 1] ** 2
    for est in (
        GMNMRegressor(max_iter=2),
        MLPRegressor(max_iter=2),
        HistGradientBoostingRegressor(max_iter=2),
    ):
        est.fit(X, y)
    for est in (
        GMNMClassifier(max_iter=2),
        MLPClassifier(max_iter=2),
        HistGradientBoostingClassifier(max_iter=2),
    ):
        est.fit(X, y > 1)


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (
        f"{os.cpu_count()} CPU cores ({cpu}), GPU: {gpu}; torch {torch.__version__} "
        f"with {torch.get_num_threads()} threads; Python {platform.python_version()}"
    )


def fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def markdown(rows, command) -> str:
    lines = [
        "| data set | n_train | model | score | fit (s) | predict (s) | epochs "
        "| fit / epochs (s) | s/epoch, training | fit / GMNM fit |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        group = [r for r in rows if r["dataset"] == name]
        gmnm_fit = group[0]["fit_s"]
        for r in group:
            lines.append(
                f"| {name} | {r['n_train']} | {r['model']} | {r['score']:.4f} | "
                f"{r['fit_s']:.2f} | {r['predict_s']:.4f} | {r['n_iter'] or ''} | "
                f"{fmt(r['s_per_epoch'], 4)} | {fmt(r['s_per_training_epoch'], 4)} | "
                f"{r['fit_s'] / gmnm_fit:.2f} |"
            )
    summary = summarize(rows)
    lines += ["", "GMNM against MLP at defaults:", ""]
    lines += [
        "| data set | score GMNM - MLP | fit time GMNM / MLP "
        "| predict time GMNM / MLP | s/epoch GMNM / MLP (matched), fit / epochs "
        "| same, training alone |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summary["per_dataset"]:
        lines.append(
            f"| {s['dataset']} | {s['score_diff']:+.4f} | {s['fit_ratio']:.2f} | "
            f"{s['predict_ratio']:.2f} | {s['epoch_ratio']:.2f} | "
            f"{s['training_epoch_ratio']:.2f} |"
        )
    lines += [
        "",
        f"- GMNM scores at least as well as MLP on {summary['wins']} of "
        f"{len(summary['per_dataset'])} data sets.",
        f"- Median fit-time ratio GMNM / MLP: {summary['median_fit_ratio']:.2f}.",
        "- Median predict-time ratio GMNM / MLP: "
        f"{summary['median_predict_ratio']:.2f}.",
        "- Median time-per-epoch ratio GMNM / MLP at matched parameter count, "
        f"whole fit / epochs: {summary['median_epoch_ratio']:.2f}; training "
        f"epochs alone: {summary['median_training_epoch_ratio']:.2f}.",
    ]
    return "\n".join(lines) + "\n"


def summarize(rows):
    per = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        group = {
            r["model"].split(" (")[0] + ("*" if "matched" in r["model"] else ""): r
            for r in rows
            if r["dataset"] == name
        }
        g, m, mm = group["GMNM"], group["MLP"], group["MLP*"]
        per.append(
            {
                "dataset": name,
                "score_diff": g["score"] - m["score"],
                "fit_ratio": g["fit_s"] / m["fit_s"],
                "predict_ratio": g["predict_s"] / m["predict_s"],
                "epoch_ratio": g["s_per_epoch"] / mm["s_per_epoch"],
                "training_epoch_ratio": g["s_per_training_epoch"]
                / mm["s_per_training_epoch"],
            }
        )
    return {
        "per_dataset": per,
        "wins": sum(s["score_diff"] >= 0 for s in per),
        "median_fit_ratio": float(np.median([s["fit_ratio"] for s in per])),
        "median_predict_ratio": float(np.median([s["predict_ratio"] for s in per])),
        "median_epoch_ratio": float(np.median([s["epoch_ratio"] for s in per])),
        "median_training_epoch_ratio": float(
            np.median([s["training_epoch_ratio"] for s in per])
        ),
    }


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["dataset"] for r in rows))
    models = ["GMNM", "MLP", "MLP*", "HGB"]

    def key(r):
        return r["model"].split(" (")[0] + ("*" if "matched" in r["model"] else "")

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.2
    x = np.arange(len(names))
    for j, model in enumerate(models):
        sel = [
            next(r for r in rows if r["dataset"] == n and key(r) == model)
            for n in names
        ]
        label = "MLP (matched params)" if model == "MLP*" else model
        axes[0].bar(
            x + (j - 1.5) * width, [r["score"] for r in sel], width, label=label
        )
        axes[1].bar(
            x + (j - 1.5) * width, [r["fit_s"] for r in sel], width, label=label
        )
    axes[0].set_ylabel("test score (R^2 / accuracy)")
    axes[0].set_ylim(0, 1.02)
    axes[1].set_ylabel("fit time (s, log scale)")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xticks(x, names, rotation=35, ha="right")
    axes[0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parent
    parser.add_argument(
        "--datasets",
        nargs="*",
        default=list(datasets.BENCHMARK),
        help="data sets to run (default: the benchmark's nine); "
        f"also available: {', '.join(datasets.HOLDOUT)}",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="fits per model; the fastest is reported"
    )
    parser.add_argument("--out", default=str(here / "results.md"))
    parser.add_argument("--plot", default=str(here / "results.png"))
    args = parser.parse_args(argv)

    loaders = {**datasets.BENCHMARK, **datasets.HOLDOUT}
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warm_up()
    rows = []
    for name in args.datasets:
        new = run_dataset(name, loaders[name], repeats=args.repeats)
        for r in new:
            print(
                f"{name:14s} {r['model']:26s} score={r['score']:.4f} "
                f"fit={r['fit_s']:7.2f}s predict={r['predict_s']:.4f}s "
                f"epochs={r['n_iter']}",
                flush=True,
            )
        rows += new
    command = "python " + " ".join(
        [Path(sys.argv[0]).as_posix(), *(argv or sys.argv[1:])]
    )
    text = f"Command: `{command}`\n\nMachine: {machine_description()}\n\n" + markdown(
        rows, command
    )
    Path(args.out).write_text(text)
    plot(rows, args.plot)
    print(text)


if __name__ == "__main__":
    main()
