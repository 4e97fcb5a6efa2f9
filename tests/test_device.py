"""Device handling: where fit trains, where predict runs, GPU memory after fit.

The CUDA tests skip on machines without a GPU.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris, make_regression

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._device import predict_device

X_reg, y_reg = make_regression(n_samples=150, n_features=4, noise=1.0, random_state=0)
X_iris, y_iris = load_iris(return_X_y=True)
FAST = {"n_components": 6, "max_iter": 5, "random_state": 0}

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"
)


def test_a_model_trained_on_a_missing_gpu_predicts_on_the_cpu():
    # As after unpickling a GPU-trained model on a CPU-only machine.
    reg = GMNMRegressor(device="cpu", **FAST).fit(X_reg, y_reg)
    expected = reg.predict(X_reg)
    missing = torch.device("cuda", 99)
    assert predict_device(missing) == torch.device("cpu")
    reg.device_ = missing
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.predict(X_reg), expected)


def test_cuda_hidden_by_cuda_visible_devices_is_a_clear_error():
    code = (
        "from sklearn_gmnm import GMNMRegressor\n"
        "try:\n"
        "    GMNMRegressor(device='cuda', max_iter=1).fit([[0.0], [1.0]], [0.0, 1.0])\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "CUDA is not available" in out
    assert "CUDA_VISIBLE_DEVICES=''" in out


@needs_cuda
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("Estimator, X, y", [
    (GMNMRegressor, X_reg, y_reg),
    (GMNMClassifier, X_iris, y_iris),
])
def test_fit_on_cuda_keeps_the_model_on_the_cpu_and_releases_gpu_memory(
    Estimator, X, y, solver
):
    # A first fit and predict set up CUDA's own per-process state (cuBLAS
    # workspaces); the second fit must leave nothing more behind.
    Estimator(device="cuda", solver=solver, **FAST).fit(X, y).predict(X)
    before = torch.cuda.memory_allocated()
    est = Estimator(device="cuda", solver=solver, **FAST).fit(X, y)
    assert est.device_.type == "cuda"
    assert all(p.device.type == "cpu" for p in est.module_.parameters())
    assert torch.cuda.memory_allocated() == before

    # Predictions from CPU arrays run on the GPU, and match the CPU's.
    on_gpu = est.predict(X)
    assert torch.cuda.memory_allocated() == before
    est_cpu = pickle.loads(pickle.dumps(est))
    est_cpu.device_ = torch.device("cpu")
    if Estimator is GMNMRegressor:
        np.testing.assert_allclose(on_gpu, est_cpu.predict(X), rtol=1e-4, atol=1e-4)
    else:
        np.testing.assert_allclose(
            est.predict_proba(X), est_cpu.predict_proba(X), atol=1e-5
        )


@needs_cuda
def test_cuda_index_is_honoured():
    last = torch.cuda.device_count() - 1
    reg = GMNMRegressor(device=f"cuda:{last}", **FAST).fit(X_reg, y_reg)
    assert reg.device_ == torch.device("cuda", last)
    assert reg.predict(X_reg).shape == y_reg.shape
    with pytest.raises(ValueError, match="CUDA device"):
        GMNMRegressor(device=f"cuda:{last + 1}", **FAST).fit(X_reg, y_reg)
