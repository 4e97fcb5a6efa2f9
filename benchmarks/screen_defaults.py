"""Screen candidate defaults on the development suite (the runs of RESULTS.md).

Scratch tool behind "Defaults chosen on the development suite" in
``RESULTS.md``: fits GMNM with ``--params`` (estimator settings) and
``--patch`` (values of the private constants of ``sklearn_gmnm._base`` that
the 'auto' rules read, e.g. ``'{"set": {"_AUTO_PATIENCE_STEPS": 30}}'``) on
every data set of a suite for 3 seeds, on one torch thread, timing CPU
seconds, and compares with the stored reference models of
``--reference`` (same splits and seeds; by default the baseline run of the
previous defaults, ``defaults-development-baseline.json``, whose GMNM row is
the ``base=`` column). Example::

    OMP_NUM_THREADS=1 python benchmarks/screen_defaults.py --name lr3e-3 \
        --params '{"learning_rate_init": 0.003}'

Some patch keys stand in for rules as they were being screened (``rows_per``,
``lo``, ``hi``, ``per_class``: the ``n_components`` rule, the package's own
unless one of them is given, the others then keeping the package's values;
``min_steps``, ``patience_steps``: the step-based epoch rules; ``refit``:
validation then refit on all rows); they replace functions of the package
for the run only.
"""

import argparse
import json
import sys
import time
import warnings

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
import bench_defaults as bd
import numpy as np
import suites
import torch
from sklearn.model_selection import train_test_split

import sklearn_gmnm._base as base

ap = argparse.ArgumentParser()
ap.add_argument("--name")
ap.add_argument("--params", default="{}")
ap.add_argument("--patch", default="{}")
ap.add_argument("--seeds", type=int, default=3)
ap.add_argument("--suite", default="development")
ap.add_argument("--datasets", nargs="*")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument(
    "--reference",
    default="defaults-development-baseline.json",
    help="bench_defaults.py JSON (in benchmarks/) of the reference models",
)
a = ap.parse_args()
torch.set_num_threads(a.threads)
params = json.loads(a.params)
patch = json.loads(a.patch)
# patches: rows_per, lo, hi, per_class, es_rows, adam_iter
# The n_components rule is the package's own unless the patch names one of
# its keys; the keys it does not name keep the package's values.
RULE_KEYS = ("rows_per", "lo", "hi", "per_class")
if any(key in patch for key in RULE_KEYS):
    rp, lo, hi, pc = (
        patch.get("rows_per", 10),
        patch.get("lo", 8),
        patch.get("hi", 64),
        patch.get("per_class", 5),
    )

    def auto(n, o=1):
        top = max(hi, pc * o)
        return int(min(top, max(lo, n // rp)))

    base.auto_n_components = auto
if "clip" in patch:
    base.SMOOTH_CLIP_BOUND = patch["clip"]
if "iqr_div" in patch:
    _rcs = base.robust_center_and_scale
    base.robust_center_and_scale = lambda X, w: (
        lambda c, s: (c, s / patch["iqr_div"])
    )(*_rcs(X, w))
if "es_rows" in patch:
    base.AUTO_MIN_VALIDATION_ROWS = patch["es_rows"]
if "adam_iter" in patch:
    base._AUTO_ADAM_EPOCHS = patch["adam_iter"]
if "min_steps" in patch:
    import math

    _abs = base.auto_batch_size
    state = {}

    def abs_(n):
        b = _abs(n)
        state["spe"] = math.ceil(n / b)
        return b

    base.auto_batch_size = abs_

    def mi(self):
        if self.max_iter != "auto":
            return self.max_iter
        if self.solver == "lbfgs":
            return 500
        if "patience_steps" in patch:
            self.n_iter_no_change = max(
                10, math.ceil(patch["patience_steps"] / state["spe"])
            )
        return int(
            min(
                patch.get("max_epochs", 200),
                max(
                    patch.get("min_epochs", 20),
                    math.ceil(patch["min_steps"] / state["spe"]),
                ),
            )
        )

    base.BaseGMNM._max_iter = mi
for k, v in patch.get("set", {}).items():
    assert hasattr(base, k), k
    setattr(base, k, v)
ref = (
    json.load(
        open(
            __import__("pathlib").Path(__file__).resolve().parent
            / a.reference
        )
    )["results"]
    if a.suite == "development"
    else []
)
refs = {}
for r in ref:
    refs.setdefault((r["dataset"], r["model"]), []).append(r["score"])
    refs.setdefault((r["dataset"], r["model"] + "_t"), []).append(r["fit_s"])
names = a.datasets or list(suites.SUITES[a.suite])
out = []
for name in names:
    X, y, task = suites.SUITES[a.suite][name]()
    sc, ts, nit = [], [], []
    for seed in range(a.seeds):
        Xa, Xb, ya, yb = train_test_split(
            X,
            y,
            test_size=0.25,
            random_state=seed,
            stratify=y if task == "classification" else None,
        )
        est = bd.make_model("gmnm", task, np.ndim(y) == 2, seed, params)
        pipe = bd.make_pipeline(Xa, est)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.process_time()
            pipe.fit(Xa, ya)
            ts.append(time.process_time() - t)
            if patch.get("refit") and len(Xa) < patch.get("refit_rows", 10**9):
                vs = est.validation_scores_
                e = (
                    int(np.argmax(vs)) + 1
                    if max(vs) >= est.best_validation_score_
                    else 0
                )
                nit.append(e)
                est = bd.make_model(
                    "gmnm",
                    task,
                    np.ndim(y) == 2,
                    seed,
                    {**params, "early_stopping": False, "max_iter": max(1, e)},
                )
                pipe = bd.make_pipeline(Xa, est)
                pipe.fit(Xa, ya)
                ts[-1] = time.process_time() - t
            else:
                nit.append(est.n_iter_)
        sc.append(bd.score(task, yb, pipe.predict(Xb)))
    row = dict(
        dataset=name,
        score=float(np.mean(sc)),
        cpu=float(np.mean(ts)),
        n_iter=float(np.mean(nit)),
    )
    for m in ["GMNM", "MLP (adam)", "HGB", "linear", "MLP (lbfgs)"]:
        if (name, m) in refs:
            row[m] = float(np.mean(refs[(name, m)]))
            row[m + "_t"] = float(np.mean(refs[(name, m + "_t")]))
    out.append(row)
    print(
        f"{name:14s} {row['score']:.4f}"
        f" base={row.get('GMNM', np.nan):.4f}"
        f" mlp={row.get('MLP (adam)', np.nan):.4f}"
        f" hgb={row.get('HGB', np.nan):.4f}"
        f" lin={row.get('linear', np.nan):.4f}"
        f" cpu={row['cpu']:.2f}s it={row['n_iter']:.0f}",
        flush=True,
    )
json.dump(
    dict(name=a.name, params=params, patch=patch, rows=out), open(f"{a.name}.json", "w")
)
d = [r["score"] - r["MLP (adam)"] for r in out if "MLP (adam)" in r]
h = [r["score"] - r["HGB"] for r in out if "HGB" in r]
b = [r["score"] - r["GMNM"] for r in out if "GMNM" in r]
if not d:
    print(f"(no reference models for these sets in {a.reference}: pass --reference)")
print(
    f"SUMMARY {a.name}: >=MLP {sum(x >= 0 for x in d)}/{len(d)}"
    f" worst {min(d, default=np.nan):+.4f}; >=HGB {sum(x >= 0 for x in h)}/{len(h)};"
    f" vs base mean {np.mean(b) if b else np.nan:+.4f} wins {sum(x > 0 for x in b)};"
    f" cpu total {sum(r['cpu'] for r in out):.1f}s"
)
