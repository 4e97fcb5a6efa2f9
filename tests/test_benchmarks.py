"""Smoke test of the benchmark program on scikit-learn's bundled diabetes data."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def run_benchmarks():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(
            "run_benchmarks", BENCHMARKS / "run_benchmarks.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))


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
