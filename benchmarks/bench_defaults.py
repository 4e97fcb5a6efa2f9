"""GMNM at its defaults against MLP, gradient boosting, a linear floor and RealMLP.

Run from the repository root::

    python benchmarks/bench_defaults.py --suite development --seeds 3 \\
        --out defaults.md --json defaults.json --plot defaults.png

On every data set of the suite (``suites.py``) and for every seed, the seed
sets the train/test split (a quarter held out, stratified for
classification) and every model's ``random_state``. Each model is fitted in
this one process, behind the same preprocessing (one-hot encoding of the
categorical columns, then ``StandardScaler``, as in ``run_benchmarks.py``):

- ``GMNM``: ``GMNMRegressor()`` / ``GMNMClassifier()``;
- ``MLP (adam)`` and ``MLP (lbfgs)``: ``MLPRegressor`` / ``MLPClassifier`` at
  their defaults, with ``solver='adam'`` (the default) and ``'lbfgs'``;
- ``HGB``: ``HistGradientBoostingRegressor`` / ``Classifier`` at defaults
  (one per output for multi-output regression);
- ``linear``: ``RidgeCV()`` / ``LogisticRegression(max_iter=1000)``;
- ``RealMLP-TD``: pytabkit's ``RealMLP_TD_Regressor`` / ``Classifier`` at
  their defaults, where pytabkit is installed.

Candidate GMNM defaults run beside the defaults as variants:
``--gmnm-params '{"max_iter": 60}'`` (repeatable) or ``--variants NAME``, a
name of ``GMNM_VARIANTS``.

Nothing is warmed up: the first fit of each model pays its one-time costs,
as a user's does (with ``--repeats N`` each model is fitted N times on each
split and the fastest time kept, which takes those costs, and most of a
shared machine's wander, out of the times). ``ConvergenceWarning``s are
counted per fit, not shown.
Scores are R^2 (uniform average over outputs) and accuracy on the held-out
quarter. On the count suites (task ``'count'``) every model uses the Poisson
loss (``GMNMRegressor(loss='poisson')``, ``MLPRegressor(loss='poisson')``,
``HistGradientBoostingRegressor(loss='poisson')``, and
``PoissonRegressor()`` as the linear floor; RealMLP-TD does not run) and
the score is D^2, the fraction of Poisson deviance explained
(``d2_tweedie_score(power=1)``): on one split, a higher D^2 is a lower mean
Poisson deviance. ``--busy`` keeps one extra CPU-bound process spinning during the
run, to measure on a loaded machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import multiprocessing
import os
import platform
import shlex
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, PoissonRegressor, RidgeCV
from sklearn.metrics import accuracy_score, d2_tweedie_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.multioutput import MultiOutputRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import suites  # noqa: E402
from run_benchmarks import (  # noqa: E402
    PREDICT_REPEATS,
    preprocessor,
    timed_fit_predict,
)

import sklearn_gmnm  # noqa: E402
from sklearn_gmnm import GMNMClassifier, GMNMRegressor  # noqa: E402

#: The model every other one is compared with.
REFERENCE = "MLP (adam)"

#: Command-line name of each model and its label in the reports.
MODELS = {
    "gmnm": "GMNM",
    "mlp-adam": "MLP (adam)",
    "mlp-lbfgs": "MLP (lbfgs)",
    "hgb": "HGB",
    "linear": "linear",
    "realmlp": "RealMLP-TD",
}

#: Named GMNM variants for ``--variants``: keyword settings that candidate
#: defaults are compared with (each runs beside GMNM at its defaults).
GMNM_VARIANTS = {
    "epochs-60": {"max_iter": 60},
    "early-stopping": {"early_stopping": True, "max_iter": 200},
}


def realmlp_unavailable() -> str | None:
    """Why RealMLP-TD cannot run here, or ``None`` when it can."""
    try:
        import pytabkit  # noqa: F401
    except Exception as exc:  # pytabkit's import can fail in several ways
        return f"pytabkit does not import ({type(exc).__name__}: {exc})"
    return None


def task_kind(task: str, y) -> str:
    """``'regression'``, ``'multi-output regression (k)'``, ``'count'``,
    ``'binary'`` or ``'multiclass (k)'``, ``k`` the number of outputs or
    classes."""
    if task == "count":
        return "count"
    if task == "regression":
        if np.ndim(y) == 2:
            return f"multi-output regression ({np.shape(y)[1]})"
        return "regression"
    n_classes = len(np.unique(y))
    return "binary" if n_classes == 2 else f"multiclass ({n_classes})"


def make_model(
    key: str, task: str, multioutput: bool, seed: int, params=None, threads=None
):
    """A fresh, unfitted model.

    Parameters
    ----------
    key : str
        A key of ``MODELS``.
    task : {'regression', 'classification', 'count'}
        The data set's task (``'count'``: every model with the Poisson loss).
    multioutput : bool
        Whether ``y`` has several columns.
    seed : int
        The model's ``random_state``.
    params : dict, default=None
        Keyword settings for GMNM (ignored by the other models).
    threads : int, default=None
        Passed to RealMLP-TD as ``n_threads`` (it sets torch's thread count
        itself, to the number of physical cores by default).

    Returns
    -------
    estimator : estimator
        The scikit-learn compatible model.
    """
    if task == "count":
        return _count_model(key, seed, params)
    regression = task == "regression"
    if key == "gmnm":
        gmnm = GMNMRegressor if regression else GMNMClassifier
        return gmnm(random_state=seed, **(params or {}))
    if key in ("mlp-adam", "mlp-lbfgs"):
        mlp = MLPRegressor if regression else MLPClassifier
        return mlp(solver=key.split("-")[1], random_state=seed)
    if key == "hgb":
        if not regression:
            return HistGradientBoostingClassifier(random_state=seed)
        hgb = HistGradientBoostingRegressor(random_state=seed)
        return MultiOutputRegressor(hgb) if multioutput else hgb
    if key == "linear":
        return RidgeCV() if regression else LogisticRegression(max_iter=1000)
    if key == "realmlp":
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        realmlp = RealMLP_TD_Regressor if regression else RealMLP_TD_Classifier
        extra = {"n_threads": threads} if threads else {}
        return realmlp(random_state=seed, **extra)
    raise ValueError(f"unknown model {key!r}")


def make_pipeline(X, est) -> Pipeline:
    """``est`` behind one-hot encoding of ``X``'s categorical columns and
    standard scaling."""
    return Pipeline(
        [("encode", preprocessor(X)), ("scale", StandardScaler()), ("model", est)]
    )


def _count_model(key: str, seed: int, params=None):
    """A fresh model of ``MODELS[key]`` with the Poisson loss."""
    if key == "gmnm":
        return GMNMRegressor(loss="poisson", random_state=seed, **(params or {}))
    if key in ("mlp-adam", "mlp-lbfgs"):
        return MLPRegressor(
            loss="poisson", solver=key.split("-")[1], random_state=seed
        )
    if key == "hgb":
        return HistGradientBoostingRegressor(loss="poisson", random_state=seed)
    if key == "linear":
        return PoissonRegressor()
    raise ValueError(f"model {key!r} has no Poisson loss here")


def score(task: str, y_true, y_pred) -> float:
    """Test R^2 (uniform average over outputs), accuracy, or the fraction of
    Poisson deviance explained (counts)."""
    if task == "count":
        return float(d2_tweedie_score(y_true, y_pred, power=1))
    if task == "regression":
        return float(r2_score(y_true, y_pred))
    return float(accuracy_score(y_true, y_pred))


def fit_and_score(pipe, task, X_train, y_train, X_test, y_test) -> dict:
    """Fit ``pipe``, time its fit and predict, count its warnings.

    Returns
    -------
    result : dict
        ``score``, ``fit_s``, ``predict_s`` (the fastest of
        ``PREDICT_REPEATS`` calls), ``convergence_warnings`` and
        ``other_warnings`` (the number of other warnings, shown as usual).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pred, fit_s, predict_s = timed_fit_predict(pipe, X_train, y_train, X_test)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    for w in others:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return {
        "score": score(task, y_test, pred),
        "fit_s": fit_s,
        "predict_s": predict_s,
        "convergence_warnings": len(convergence),
        "other_warnings": len(others),
    }


def run_dataset(
    name, loader, seeds, models, threads=None, verbose=True, repeats=1
) -> list[dict]:
    """Fit every model on one data set for every seed.

    Parameters
    ----------
    name : str
        The data set's name.
    loader : callable
        Returns ``(X, y, task)``.
    seeds : sequence of int
        Each seed sets the split and the models' ``random_state``.
    models : list of (label, key, params)
        The models to run: report label, key of ``MODELS`` and GMNM settings.
    threads : int, default=None
        The ``--threads`` limit, for the models that set their own.
    verbose : bool, default=True
        Print a line per fit.
    repeats : int, default=1
        Fits of each model on each split (a fresh estimator each time, the
        same seed, so the same model); its fit and predict times are the
        fastest, its score and warnings those of the first fit.

    Returns
    -------
    rows : list of dict
        One per seed and model, with the data set's name and kind, the
        seed, the model's label and settings, the sizes of the split and
        the results of ``fit_and_score`` (``error`` holds the message of a
        fit that raised; its score is NaN).
    """
    X, y, task = loader()
    kind = task_kind(task, y)
    rows = []
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X,
            y,
            test_size=0.25,
            random_state=seed,
            stratify=y if task == "classification" else None,
        )
        for label, key, params in models:
            est = make_model(key, task, np.ndim(y) == 2, seed, params, threads)
            row = {
                "dataset": name,
                "kind": kind,
                "seed": seed,
                "model": label,
                "params": params,
                "n_train": X_train.shape[0],
                "n_test": X_test.shape[0],
                "n_features": X.shape[1],
                "error": None,
            }
            try:
                for attempt in range(repeats):
                    if attempt:
                        est = make_model(
                            key, task, np.ndim(y) == 2, seed, params, threads
                        )
                    pipe = make_pipeline(X_train, est)
                    result = fit_and_score(pipe, task, X_train, y_train, X_test, y_test)
                    if not attempt:
                        row |= result
                    for time_key in ("fit_s", "predict_s"):
                        row[time_key] = min(row[time_key], result[time_key])
            except Exception as exc:  # one failed fit must not end the run
                row |= {
                    "score": np.nan,
                    "fit_s": np.nan,
                    "predict_s": np.nan,
                    "convergence_warnings": 0,
                    "other_warnings": 0,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            if verbose:
                status = f"ERROR {row['error']}" if row["error"] else ""
                print(
                    f"{name:16s} seed={seed} {label:24s} score={row['score']:.4f} "
                    f"fit={row['fit_s']:8.2f}s predict={row['predict_s']:.4f}s "
                    f"convergence warnings={row['convergence_warnings']} {status}",
                    flush=True,
                )
            rows.append(row)
    return rows


def _spin(stop) -> None:
    """Keep one CPU core busy until ``stop`` is set."""
    x = np.random.default_rng(0).random(100_000)
    while not stop.is_set():
        x = np.sqrt(x * x + 1.0) - 0.5


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """Limit torch, BLAS and OpenMP to ``threads`` threads in the block
    (no limit when ``None``)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def busy_machine(enabled: bool):
    """Run one extra CPU-bound process while the block runs (if ``enabled``)."""
    if not enabled:
        yield
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    stop = context.Event()
    worker = context.Process(target=_spin, args=(stop,), daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=10)
        if worker.is_alive():
            worker.terminate()


def _load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> dict:
    """Platform, CPU, thread count, load average and package versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {"python": platform.python_version()}
    for package in ("torch", "scikit-learn", "pytabkit"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    # The code that runs, not the metadata of an editable install's last build.
    versions["sklearn-gmnm"] = sklearn_gmnm.__version__
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "load_average_start": _load_average(),
        "versions": versions,
    }


def aggregate(rows) -> list[dict]:
    """Mean results over seeds, one entry per data set and model, in order.

    Each entry has the data set, kind, model, ``n_train`` (of the first
    seed), ``seeds``, the means ``score``, ``fit_s``, ``predict_s``, the
    standard deviation ``score_sd``, the summed ``convergence_warnings``,
    ``errors`` and, against ``REFERENCE`` on the same data set,
    ``score_diff`` (score minus its score) and ``fit_ratio`` (mean fit time
    over its mean fit time).
    """
    keys = dict.fromkeys((r["dataset"], r["model"]) for r in rows)
    table = []
    for dataset, model in keys:
        group = [r for r in rows if r["dataset"] == dataset and r["model"] == model]
        scores = np.array([r["score"] for r in group], float)
        table.append(
            {
                "dataset": dataset,
                "kind": group[0]["kind"],
                "model": model,
                "n_train": group[0]["n_train"],
                "seeds": len(group),
                "score": float(np.mean(scores)),
                "score_sd": float(np.std(scores)),
                "fit_s": float(np.mean([r["fit_s"] for r in group])),
                "predict_s": float(np.mean([r["predict_s"] for r in group])),
                "convergence_warnings": sum(r["convergence_warnings"] for r in group),
                "errors": sorted({r["error"] for r in group if r["error"]}),
            }
        )
    for entry in table:
        ref = next(
            (
                e
                for e in table
                if e["dataset"] == entry["dataset"] and e["model"] == REFERENCE
            ),
            None,
        )
        entry["score_diff"] = entry["score"] - ref["score"] if ref else np.nan
        entry["fit_ratio"] = entry["fit_s"] / ref["fit_s"] if ref else np.nan
    return table


def summarize(table) -> list[dict]:
    """How each GMNM model fares against the others, over the data sets.

    Returns
    -------
    summaries : list of dict
        One per GMNM model (defaults and variants): ``model``, ``datasets``,
        ``wins`` (for every non-GMNM model, and for a variant GMNM at its
        defaults too, the number of data sets on which the GMNM model's
        mean score is at least its mean score, and the number compared),
        ``median_fit_ratio`` against ``REFERENCE`` and
        ``worst`` (the data set of the largest deficit against
        ``REFERENCE``, and that score difference).
    """
    models = list(dict.fromkeys(e["model"] for e in table))
    gmnms = [m for m in models if m.startswith("GMNM")]
    others = [m for m in models if not m.startswith("GMNM")]
    summaries = []
    for gmnm in gmnms:
        mine = {e["dataset"]: e for e in table if e["model"] == gmnm}
        wins = {}
        defaults = ["GMNM"] if gmnm != "GMNM" and "GMNM" in models else []
        for other in defaults + others:
            theirs = {e["dataset"]: e for e in table if e["model"] == other}
            pairs = [
                (mine[d]["score"], theirs[d]["score"])
                for d in mine
                if d in theirs and np.isfinite(theirs[d]["score"])
            ]
            wins[other] = (sum(a >= b for a, b in pairs), len(pairs))
        diffs = {d: e["score_diff"] for d, e in mine.items()}
        finite = {d: v for d, v in diffs.items() if np.isfinite(v)}
        ratios = [e["fit_ratio"] for e in mine.values() if np.isfinite(e["fit_ratio"])]
        worst = min(finite.items(), key=lambda item: item[1]) if finite else None
        summaries.append(
            {
                "model": gmnm,
                "datasets": len(mine),
                "wins": wins,
                "median_fit_ratio": float(np.median(ratios)) if ratios else np.nan,
                "worst": worst,
            }
        )
    return summaries


def _fmt(value: float, spec: str) -> str:
    """``value`` formatted by ``spec``; empty when it is not a finite number."""
    return format(value, spec) if np.isfinite(value) else ""


def markdown(rows, meta) -> str:
    """The report: run description, per-data-set table and summary."""
    table = aggregate(rows)
    m = meta["machine"]
    lines = [
        f"# GMNM defaults benchmark: {meta['suite']} suite",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"- Suite: {meta['suite']} ({', '.join(meta['datasets'])})",
        f"- Seeds: {', '.join(map(str, meta['seeds']))} (each sets the split "
        "and every model's random_state; figures are means over seeds)",
        f"- Machine: {m['platform']}; {m['cpu_count']} CPU cores ({m['cpu']}); "
        f"GPU: {m['gpu'] or 'none'}; torch threads: {m['torch_threads']}",
        f"- Load average (1, 5, 15 min) at start: {m['load_average_start']}; "
        f"at end: {meta['load_average_end']}",
        "- Extra CPU-bound process during the run (--busy): "
        + ("yes" if meta["busy"] else "no"),
        "- Threads per model (--threads): "
        + (str(meta["threads"]) if meta["threads"] else "each library's default"),
        f"- Fits per model and split (--repeats): {meta.get('repeats', 1)}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- Started {meta['started']}, took {meta['duration_s'] / 60:.1f} min",
    ]
    for label, params in meta["gmnm_variants"].items():
        lines.append(f"- {label}: GMNM with {json.dumps(params)}")
    for label, reason in meta["skipped"].items():
        lines.append(f"- {label} skipped: {reason}")
    lines += [
        "",
        "Scores: test R^2 (regression, averaged over outputs), accuracy, and "
        "D^2 (counts: fraction of Poisson deviance explained), on a "
        "held-out quarter. Fit and predict times in seconds"
        + (
            f", the fastest of {meta['repeats']} fits of the same model"
            if meta.get("repeats", 1) > 1
            else ""
        )
        + f"; predict is the fastest of {PREDICT_REPEATS} calls"
        + (" (of each fit)" if meta.get("repeats", 1) > 1 else "")
        + ". Conv.: ConvergenceWarnings over "
        f"all seeds. The last two columns compare with {REFERENCE}.",
        "",
        "| data set | task | n_train | model | score | sd | fit (s) | predict (s) "
        f"| conv. | score - {REFERENCE} | fit / {REFERENCE} |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in table:
        error = "; ".join(e["errors"]).replace("|", "/").replace("\n", " ")
        error = f" (failed: {error[:200]})" if error else ""
        lines.append(
            f"| {e['dataset']} | {e['kind']} | {e['n_train']} | "
            f"{e['model']}{error} | {e['score']:.4f} | {e['score_sd']:.4f} | "
            f"{e['fit_s']:.2f} | {e['predict_s']:.4f} | "
            f"{e['convergence_warnings']} | {_fmt(e['score_diff'], '+.4f')} | "
            f"{_fmt(e['fit_ratio'], '.2f')} |"
        )
    for s in summarize(table):
        lines += ["", f"{s['model']}:", ""]
        for other, (wins, n) in s["wins"].items():
            lines.append(f"- score >= {other} on {wins} of {n} data sets")
        if np.isfinite(s["median_fit_ratio"]):
            lines.append(
                f"- median fit-time ratio {s['model']} / {REFERENCE}: "
                f"{s['median_fit_ratio']:.2f}"
            )
        if s["worst"]:
            name, diff = s["worst"]
            lines.append(
                f"- worst score difference to {REFERENCE}: {diff:+.4f} ({name})"
            )
    return "\n".join(lines) + "\n"


def plot(rows, path) -> None:
    """Plot score against fit time, a point per data set and model.

    One panel for regression and one for classification. With ``REFERENCE``
    in the run, the axes are the score difference to it (symlog) and the
    fit-time ratio to it (log); without it, the score and the fit time.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = aggregate(rows)
    relative = any(e["model"] == REFERENCE for e in table)
    if relative:
        table = [e for e in table if e["model"] != REFERENCE]
        x_key, y_key = "fit_ratio", "score_diff"
        x_label = f"fit time / {REFERENCE} fit time (log)"
        y_label = f"score - {REFERENCE} score (symlog)"
    else:
        x_key, y_key = "fit_s", "score"
        x_label, y_label = "fit time (s, log)", "test score (R^2 / accuracy / D^2)"
    models = list(dict.fromkeys(e["model"] for e in table))
    colors = {m: plt.cm.tab10(i % 10) for i, m in enumerate(models)}
    panels = {
        "regression": [e for e in table if "regression" in e["kind"]],
        "classification": [e for e in table if "regression" not in e["kind"]],
    }
    panels = {k: v for k, v in panels.items() if v}
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False
    )
    for ax, (title, entries) in zip(axes[0], panels.items(), strict=True):
        for model in models:
            sel = [
                e
                for e in entries
                if e["model"] == model
                and np.isfinite(e[x_key])
                and np.isfinite(e[y_key])
            ]
            ax.scatter(
                [e[x_key] for e in sel],
                [e[y_key] for e in sel],
                color=colors[model],
                label=model,
                alpha=0.8,
                s=28,
            )
        if relative:
            ax.axhline(0, color="grey", lw=0.8)
            ax.axvline(1, color="grey", lw=0.8)
            ax.set_yscale("symlog", linthresh=0.01)
            # Room around the extreme points on both sides of zero.
            values = [e[y_key] for e in entries if np.isfinite(e[y_key])]
            ax.set_ylim(2 * min(values + [-0.01]), 2 * max(values + [0.01]))
        ax.set_xscale("log")
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(f"{title} ({len({e['dataset'] for e in entries})} data sets)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=list(suites.SUITES), required=True)
    parser.add_argument(
        "--seeds", type=int, default=3, help="number of seeds: 0, 1, ..., N-1"
    )
    parser.add_argument(
        "--datasets", nargs="+", help="data sets of the suite to run (default: all)"
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        help="models to run (default: all)",
    )
    parser.add_argument(
        "--gmnm-params",
        action="append",
        default=[],
        metavar="JSON",
        help="a GMNM variant as JSON keyword settings, e.g. '{\"max_iter\": 60}' "
        "(repeatable)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=[],
        choices=list(GMNM_VARIANTS),
        help="named GMNM variants of GMNM_VARIANTS",
    )
    parser.add_argument(
        "--busy", action="store_true", help="keep one extra CPU-bound process running"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="threads of every model: torch's and those of the BLAS and OpenMP "
        "libraries (default: each library's own default)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="fits of each model on each split, the fastest time kept (more "
        "than 1 takes the one-time costs of a first fit out of the times, "
        "and most of the machine's wander)",
    )
    parser.add_argument("--out", help="markdown report")
    parser.add_argument("--json", help="raw per-seed results")
    parser.add_argument("--plot", help="PNG plot of score against fit time")
    args = parser.parse_args(argv)
    loaders = suites.SUITES[args.suite]
    unknown = set(args.datasets or []) - set(loaders)
    if unknown:
        parser.error(
            f"not in the {args.suite} suite: {', '.join(sorted(unknown))} "
            f"(it has: {', '.join(loaders)})"
        )
    return args


def gmnm_variants(args) -> dict:
    """Report label -> keyword settings of each GMNM variant asked for."""
    variants = {f"GMNM [{name}]": GMNM_VARIANTS[name] for name in args.variants}
    for text in args.gmnm_params:
        params = json.loads(text)
        variants[f"GMNM {json.dumps(params, sort_keys=True)}"] = params
    for params in variants.values():
        # Fail now, not after an hour, on a misspelt setting.
        GMNMRegressor().set_params(**params)
    return variants


def main(argv=None) -> list[dict]:
    """Run the benchmark; returns the per-seed rows."""
    args = parse_args(argv)
    loaders = suites.SUITES[args.suite]
    names = args.datasets or list(loaders)
    seeds = list(range(args.seeds))
    variants = gmnm_variants(args)
    skipped = {}
    if "realmlp" in args.models:
        reason = (
            "no Poisson loss" if args.suite.startswith("count")
            else realmlp_unavailable()
        )
        if reason:
            skipped[MODELS["realmlp"]] = reason
            print(f"RealMLP-TD skipped: {reason}", flush=True)
    models = []
    for key in args.models:
        if MODELS[key] in skipped:
            continue
        models.append((MODELS[key], key, None))
        if key == "gmnm":
            models += [(label, "gmnm", p) for label, p in variants.items()]
    if "gmnm" not in args.models:
        models += [(label, "gmnm", p) for label, p in variants.items()]

    if argv is None:
        command = shlex.join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    else:
        command = shlex.join(["python", "benchmarks/bench_defaults.py", *argv])
    meta = {
        "suite": args.suite,
        "command": command,
        "datasets": names,
        "seeds": seeds,
        "models": [label for label, _, _ in models],
        "gmnm_variants": variants,
        "skipped": skipped,
        "busy": args.busy,
        "threads": args.threads,
        "repeats": args.repeats,
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    start = time.perf_counter()
    rows = []
    with busy_machine(args.busy), thread_limit(args.threads):
        meta["machine"] = machine()
        for name in names:
            rows += run_dataset(
                name, loaders[name], seeds, models, args.threads, repeats=args.repeats
            )
    meta["duration_s"] = time.perf_counter() - start
    meta["load_average_end"] = _load_average()

    text = markdown(rows, meta)
    if args.out:
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"meta": meta, "results": rows}, indent=1, default=float)
        )
    if args.plot:
        plot(rows, args.plot)
    print(text)
    return rows


if __name__ == "__main__":
    main()
