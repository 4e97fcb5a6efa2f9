"""Cost of the skorch engine: a GMNMRegressor fit against a bare torch loop.

Run from the repository root::

    python benchmarks/bench_engine_overhead.py

Both train the same initialised module (the estimator's own initialisation),
on the same mini-batches, with the same optimiser, loss and number of epochs;
the bare loop is the minimum a hand-written training needs (slice a batch,
forward, loss, backward, step). The overhead ratio is estimator fit time over
bare-loop time (initialisation included on both sides); each side is run
``--repeats`` times, interleaved, and the fastest run is kept.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn_gmnm import GMNMRegressor, init_from_data  # noqa: E402
from sklearn_gmnm._base import auto_batch_size, auto_n_components  # noqa: E402
from sklearn_gmnm._optim import Adam  # noqa: E402
from sklearn_gmnm._parallel import limit_threads  # noqa: E402
from sklearn_gmnm.nn import GMNM  # noqa: E402


def make_data(n_samples: int, n_features: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n_samples)
    return X, y


def estimator(epochs: int, **params: object) -> GMNMRegressor:
    # tol=0 with n_iter_no_change=epochs: every epoch runs.
    return GMNMRegressor(
        max_iter=epochs, tol=0.0, n_iter_no_change=epochs, random_state=0, **params
    )


def bare_fit(X, y, epochs: int, est: GMNMRegressor) -> GMNM:
    """The same training as ``est.fit`` written as a plain torch loop."""
    Xs = (X - X.mean(0)) / X.std(0)
    ys = ((y - y.mean()) / y.std())[:, None]
    n, d = Xs.shape
    rng = np.random.RandomState(est.random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        n_components = (
            auto_n_components(n) if est.n_components == "auto" else est.n_components
        )
        module = GMNM(
            d, 1, n_components=n_components, linear_term=est.linear_term
        )
    init_from_data(module, Xs, ys, random_state=rng)
    batch_size = auto_batch_size(n) if est.batch_size == "auto" else est.batch_size
    optimizer = Adam(
        [
            {
                "params": [
                    p for p in (module.weight, module.linear_weight) if p is not None
                ],
                "weight_decay": est.alpha / batch_size,
            },
            {"params": [module.centers, module.projections, module.bias]},
        ],
        lr=est.learning_rate_init,
    )
    Xt = torch.as_tensor(Xs, dtype=torch.float32)
    yt = torch.as_tensor(ys, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = 0.5 * (module(Xt[idx]) - yt[idx]).square().mean()
            loss.backward()
            optimizer.step()
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-features", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", default="auto")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of both (the estimator's n_jobs)",
    )
    args = parser.parse_args(argv)
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)

    warnings.filterwarnings("ignore", message=".*maximum number of epochs")
    X, y = make_data(args.n_samples, args.n_features)
    est = estimator(args.epochs, batch_size=batch_size, n_jobs=args.threads)
    times = {"estimator": [], "bare": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        est.fit(X, y)
        times["estimator"].append(time.perf_counter() - start)
        with limit_threads(args.threads):
            start = time.perf_counter()
            bare_fit(X, y, args.epochs, est)
            times["bare"].append(time.perf_counter() - start)
    fit, bare = min(times["estimator"]), min(times["bare"])
    n_batches = -(
        -args.n_samples
        // (auto_batch_size(args.n_samples) if batch_size == "auto" else batch_size)
    )
    steps = n_batches * args.epochs
    print(
        f"{args.n_samples} rows x {args.n_features} features, {args.epochs} epochs, "
        f"{steps} steps, torch threads {args.threads}"
    )
    print(f"GMNMRegressor.fit: {fit:.3f} s   bare torch loop: {bare:.3f} s")
    print(
        f"overhead ratio (fit / bare): {fit / bare:.3f}; "
        f"per step: {(fit - bare) / steps * 1e6:.0f} us"
    )


if __name__ == "__main__":
    main()
