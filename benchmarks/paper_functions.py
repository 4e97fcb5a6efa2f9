"""Function approximation: GMNM vs MLP vs KAN, both solvers, matched sizes.

The first experiment of arXiv 2510.06660 fits smooth functions with a GMNM,
an MLP and a KAN of about the same number of trainable parameters. This
program repeats it, estimator against estimator, on six smooth functions of
one to four variables (among them the KAN paper's), and writes test RMSE and
fit time as one markdown table:

- ``GMNM (adam)`` and ``GMNM (lbfgs)``: :class:`sklearn_gmnm.GMNMRegressor`
  at its defaults, with ``solver='adam'`` and ``solver='lbfgs'``. Its
  parameter count (with ``n_components='auto'``) is the budget the others
  are matched to.
- ``MLP (adam)`` and ``MLP (lbfgs)``:
  :class:`sklearn.neural_network.MLPRegressor` at its defaults, but with two
  hidden layers of equal width chosen so that its parameter count is the
  closest to the GMNM's (as the paper's MLPs).
- ``MLP (lbfgs, tanh, 500 it.)``: the strongest MLP recipe found for these
  functions: L-BFGS with tanh units and GMNM's 500-iteration budget.
- ``KAN``: ``kan.KAN`` from pykan, widths ``[d, h, 1]``, grid 5, cubic
  splines, ``h`` matched; trained by full-batch Adam (2000 steps, learning
  rate 0.01), the recipe of the paper's comparison.

Every fit runs on one thread (torch and BLAS), and its time is the CPU time
of the process (``time.process_time``): on a shared machine wall time
measures the neighbours as much as the model. Run from the repository root
(about 15 minutes on one core)::

    python benchmarks/paper_functions.py --output benchmarks/PAPER.md
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from sklearn_gmnm import GMNMRegressor


@dataclass(frozen=True)
class Task:
    name: str
    formula: str
    dim: int
    func: Callable[[np.ndarray], np.ndarray]


def _bessel_j0(X: np.ndarray) -> np.ndarray:
    return torch.special.bessel_j0(torch.as_tensor(20.0 * X[:, 0])).numpy()


TASKS = (
    Task("1-D Bessel", "J0(20 x)", 1, _bessel_j0),
    Task("1-D", "sin(6 x) exp(-x^2) + 0.3 x", 1,
         lambda X: np.sin(6 * X[:, 0]) * np.exp(-X[:, 0] ** 2) + 0.3 * X[:, 0]),
    Task("2-D", "exp(sin(pi x1) + x2^2)", 2,
         lambda X: np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)),
    Task("2-D product", "x1 x2", 2, lambda X: X[:, 0] * X[:, 1]),
    Task("3-D bump", "exp(-|x|^2) cos(2 x1)", 3,
         lambda X: np.exp(-np.sum(X**2, axis=1)) * np.cos(2 * X[:, 0])),
    Task("4-D", "exp((sin(pi(x1^2+x2^2)) + sin(pi(x3^2+x4^2)))/2)", 4,
         lambda X: np.exp(0.5 * (np.sin(np.pi * (X[:, 0] ** 2 + X[:, 1] ** 2))
                                 + np.sin(np.pi * (X[:, 2] ** 2 + X[:, 3] ** 2))))),
)


def gmnm_parameters(reg: GMNMRegressor) -> int:
    return sum(p.numel() for p in reg.module_.parameters() if p.requires_grad)


def mlp_parameters(dim: int, width: int) -> int:
    """Two hidden layers of ``width`` units, one output."""
    return (dim + 1) * width + (width + 1) * width + width + 1


def kan_parameters(dim: int, width: int) -> int:
    """pykan ``[dim, width, 1]``, grid 5, k 3: trainable entries per edge."""
    from kan import KAN

    model = KAN(width=[dim, width, 1], grid=5, k=3, seed=0, auto_save=False,
                symbolic_enabled=False, save_act=False, device="cpu")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def matched_width(count: Callable[[int], int], budget: int) -> int:
    """Width whose parameter count is closest to ``budget``."""
    widths = range(1, 400)
    return min(widths, key=lambda w: abs(count(w) - budget))


def fit_kan(dim, width, X, y, seed, steps=2000, lr=1e-2):
    from kan import KAN

    torch.manual_seed(seed)
    model = KAN(width=[dim, width, 1], grid=5, k=3, seed=seed, auto_save=False,
                symbolic_enabled=False, save_act=False, device="cpu")
    X_t = torch.as_tensor(X, dtype=torch.float32)
    y_t = torch.as_tensor(y, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        ((model(X_t).squeeze(-1) - y_t) ** 2).mean().backward()
        optimizer.step()
    return lambda Z: model(torch.as_tensor(Z, dtype=torch.float32)).detach(
    ).numpy().ravel()


def run_task(
    task: Task, seed: int, n_train: int, n_test: int, kan: bool,
    n_components: int | str = "auto",
) -> dict:
    """Every model on one function and seed: name -> (parameters, RMSE, s)."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n_train + n_test, task.dim))
    y = task.func(X)
    X_train, X_test = X[:n_train], X[n_train:]
    y_train, y_test = y[:n_train], y[n_train:]
    results = {}

    def record(name, params, fit):
        start = time.process_time()
        predict = fit()
        seconds = time.process_time() - start
        rmse = float(np.sqrt(np.mean((predict(X_test) - y_test) ** 2)))
        results[name] = (params, rmse, seconds)

    fitted = {}
    for solver in ("adam", "lbfgs"):
        def fit_gmnm(solver=solver):
            reg = GMNMRegressor(
                n_components=n_components, solver=solver, random_state=seed
            )
            fitted[solver] = reg.fit(X_train, y_train)
            return reg.predict
        record(f"GMNM ({solver})", None, fit_gmnm)
    budget = gmnm_parameters(fitted["lbfgs"])
    for name in ("GMNM (adam)", "GMNM (lbfgs)"):
        results[name] = (budget, *results[name][1:])

    width = matched_width(lambda w: mlp_parameters(task.dim, w), budget)
    mlps = {
        "MLP (adam)": {"solver": "adam"},
        "MLP (lbfgs)": {"solver": "lbfgs"},
        "MLP (lbfgs, tanh, 500 it.)": {
            "solver": "lbfgs", "activation": "tanh", "max_iter": 500,
        },
    }
    for name, settings in mlps.items():
        def fit_mlp(settings=settings):
            mlp = MLPRegressor(hidden_layer_sizes=(width, width),
                               random_state=seed, **settings)
            return mlp.fit(X_train, y_train).predict
        record(name, mlp_parameters(task.dim, width), fit_mlp)

    if kan:
        kan_width = matched_width(lambda w: kan_parameters(task.dim, w), budget)
        record("KAN", kan_parameters(task.dim, kan_width),
               lambda: fit_kan(task.dim, kan_width, X_train, y_train, seed))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/PAPER.md")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=5000)
    parser.add_argument("--no-kan", action="store_true", help="leave KAN out")
    parser.add_argument(
        "--n-components", default="auto",
        help="GMNM's n_components (default: its own default, 'auto')",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    n_components = (
        args.n_components if args.n_components == "auto" else int(args.n_components)
    )

    command = (
        f"python benchmarks/paper_functions.py --seeds {args.seeds} "
        f"--n-train {args.n_train} --n-test {args.n_test}"
        + (" --no-kan" if args.no_kan else "")
        + (f" --n-components {n_components}" if n_components != "auto" else "")
    )
    lines = [
        "# Function approximation: GMNM vs MLP vs KAN",
        "",
        f"Written by `{command}`.",
        "",
        f"Inputs uniform on [-1, 1]^d, {args.n_train} training and "
        f"{args.n_test} test points, {args.seeds} seeds (mean +- standard "
        "deviation). GMNM at its defaults"
        + ("" if n_components == "auto" else f" but {n_components} components")
        + " with each solver; the MLPs at "
        "their defaults with two hidden layers of equal width, matched to "
        "the GMNM's parameter count; `MLP (lbfgs, tanh, 500 it.)` the "
        "strongest MLP recipe found; KAN trained by full-batch Adam. Time is "
        "the CPU time of the fit on one thread (torch and BLAS).",
        "",
        "| function | model | parameters | test RMSE | fit CPU time (s) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    summary = []
    with threadpool_limits(limits=1):
        for task in TASKS:
            runs = [
                run_task(task, seed, args.n_train, args.n_test, not args.no_kan,
                         n_components)
                for seed in range(args.seeds)
            ]
            mean_rmse = {}
            for name in runs[0]:
                params = runs[0][name][0]
                rmse = np.array([r[name][1] for r in runs])
                secs = np.array([r[name][2] for r in runs])
                mean_rmse[name] = rmse.mean()
                line = (
                    f"| {task.name}: `{task.formula}` | {name} | {params} | "
                    f"{rmse.mean():.2e} +- {rmse.std():.1e} | "
                    f"{secs.mean():.2f} +- {secs.std():.2f} |"
                )
                print(line, flush=True)
                lines.append(line)
            best_mlp = min(v for k, v in mean_rmse.items() if k.startswith("MLP ("))
            best_default_mlp = min(mean_rmse["MLP (adam)"], mean_rmse["MLP (lbfgs)"])
            summary.append((task.name, mean_rmse["GMNM (lbfgs)"] / best_default_mlp,
                            mean_rmse["GMNM (lbfgs)"] / best_mlp,
                            mean_rmse["GMNM (adam)"] / mean_rmse["GMNM (lbfgs)"]))
    lines += [
        "",
        "Ratios of mean test RMSE (below 1: GMNM (lbfgs) is more accurate):",
        "",
        "| function | GMNM (lbfgs) / better of MLP (adam), MLP (lbfgs) | "
        "GMNM (lbfgs) / best MLP recipe | GMNM (adam) / GMNM (lbfgs) |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {a:.3f} | {b:.3f} | {c:.1f} |" for name, a, b, c in summary]
    ratios = np.array([row[1] for row in summary])
    lines += [
        "",
        f"GMNM (lbfgs) is more accurate than the better default-solver MLP on "
        f"{int((ratios < 1).sum())} of {len(ratios)} functions; median ratio "
        f"{np.median(ratios):.3f}.",
    ]
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines[-len(summary) - 6:]))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
