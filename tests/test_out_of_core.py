"""The out-of-core example (partial_fit over chunks, dask-ml's Incremental) runs."""

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plot_out_of_core.py"


def test_out_of_core_example_trains_on_every_chunk_and_block():
    pytest.importorskip("dask_ml", reason="the example needs dask-ml")
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    # 10 generator chunks, then 8 Dask blocks and a second pass over them.
    assert namespace["reg"].n_iter_ == 10
    assert namespace["reg"].score(namespace["X_test"], namespace["y_test"]) > 0.8
    assert namespace["clf"].n_iter_ == 5
    assert namespace["accuracy"] > 0.6
    incremental = namespace["incremental"]
    assert incremental.estimator_.n_iter_ == 16
    assert namespace["score"] > 0.8
