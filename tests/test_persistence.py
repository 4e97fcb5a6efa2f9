"""Persistence, device independence, determinism and thread safety."""

import io
import pickle
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import skops.io as sio
import torch
from sklearn.datasets import load_iris, make_regression

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

X_reg, y_reg = make_regression(n_samples=200, n_features=4, noise=1.0, random_state=0)
X_iris, y_iris = load_iris(return_X_y=True)
names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y_iris]
FAST = {"n_components": 8, "max_iter": 5, "random_state": 0}

#: The types to pass as ``trusted`` to ``skops.io.load``, as the README says.
SKOPS_TRUSTED = [
    "sklearn_gmnm._classifier.GMNMClassifier",
    "sklearn_gmnm._regressor.GMNMRegressor",
]


@pytest.fixture(scope="module", params=["full", "diag", "spherical", "tied"])
def fitted(request):
    kw = {**FAST, "covariance_type": request.param}
    trunk = {"hidden_layer_sizes": (6, 5), "activation": "tanh"}
    return [
        (GMNMRegressor(**kw).fit(X_reg, y_reg), X_reg),
        (GMNMRegressor(**kw).fit(X_reg, np.c_[y_reg, -y_reg]), X_reg),
        (GMNMClassifier(**kw).fit(X_iris, names), X_iris),
        (GMNMClassifier(**kw, **trunk).fit(X_iris, names), X_iris),
        (
            GMNMRegressor(**kw, **trunk, loss="poisson", solver="lbfgs").fit(
                X_reg, np.abs(y_reg)
            ),
            X_reg,
        ),
    ]


def _outputs(est, X):
    out = [est.predict(X)]
    if hasattr(est, "predict_proba"):
        out.append(est.predict_proba(X))
    return out


def _assert_same(a, b, X):
    for got, expected in zip(_outputs(a, X), _outputs(b, X), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert a.get_params() == b.get_params()
    np.testing.assert_array_equal(a.centers_, b.centers_)
    assert a.device_ == b.device_


def test_pickle_round_trip(fitted):
    for est, X in fitted:
        _assert_same(pickle.loads(pickle.dumps(est)), est, X)


def test_joblib_round_trip(fitted, tmp_path):
    for i, (est, X) in enumerate(fitted):
        path = tmp_path / f"model{i}.joblib"
        joblib.dump(est, path)
        _assert_same(joblib.load(path), est, X)


def test_skops_round_trip_with_the_documented_trusted_types(fitted):
    for est, X in fitted:
        data = sio.dumps(est)
        assert set(sio.get_untrusted_types(data=data)) <= set(SKOPS_TRUSTED)
        _assert_same(sio.loads(data, trusted=SKOPS_TRUSTED), est, X)
        with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
            sio.loads(data)


def test_pickled_state_holds_no_torch_object(fitted):
    # Module and device are saved as arrays and strings: nothing in the file
    # refers to torch, so no CUDA storage can ever be in it.
    for est, _ in fitted:
        assert b"torch" not in pickle.dumps(est)


def test_fitting_does_not_change_the_live_estimator_on_save(fitted):
    est, X = fitted[0]
    before = est.predict(X)
    pickle.dumps(est)
    assert isinstance(est.module_, torch.nn.Module)
    assert isinstance(est.device_, torch.device)
    np.testing.assert_array_equal(est.predict(X), before)


def test_model_fitted_on_cuda_loads_and_predicts_on_a_cpu_only_machine(
    fitted, monkeypatch
):
    # Simulate a model trained on a GPU machine, then load it where CUDA is
    # absent: predictions fall back on the CPU and match the original.
    est, X = fitted[2]
    expected = _outputs(est, X)
    est_gpu = pickle.loads(pickle.dumps(est))
    est_gpu.device_ = torch.device("cuda:0")
    payload = pickle.dumps(est_gpu)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    loaded = pickle.load(io.BytesIO(payload))
    assert loaded.device_ == torch.device("cuda:0")
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    for got, want in zip(_outputs(loaded, X), expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_same_random_state_same_predictions(cls):
    X, y = (X_reg, y_reg) if cls is GMNMRegressor else (X_iris, names)
    a = cls(**FAST).fit(X, y)
    b = cls(**FAST).fit(X, y)
    for got, expected in zip(_outputs(a, X), _outputs(b, X), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert a.loss_curve_ == b.loss_curve_
    # A RandomState instance with the same seed gives the same model too.
    c = cls(**{**FAST, "random_state": np.random.RandomState(0)}).fit(X, y)
    np.testing.assert_array_equal(c.centers_, a.centers_)


def test_concurrent_predict_equals_serial(fitted):
    est, X = fitted[2]
    chunks = np.array_split(np.repeat(X, 4, axis=0), 16)
    serial = [est.predict_proba(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(est.predict_proba, chunks))
    for got, expected in zip(threaded, serial, strict=True):
        np.testing.assert_array_equal(got, expected)
