"""Bad input gets a clear error before any torch work; awkward valid data trains."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._base import BaseGMNM

rng = np.random.RandomState(0)
X = rng.normal(size=(30, 3))
y = X[:, 0] - X[:, 1]
labels = (X[:, 0] > 0).astype(int)
FAST = {"n_components": 4, "max_iter": 2, "random_state": 0}


def _with(a, index, value):
    a = a.astype(float)
    a.flat[index] = value
    return a


# (estimator class, X, y, error type, message pattern)
BAD_FIT_INPUTS = {
    "X with NaN": (GMNMRegressor, _with(X, 4, np.nan), y, ValueError, "X contains NaN"),
    "X with inf": (GMNMRegressor, _with(X, 4, np.inf), y, ValueError, "infinity"),
    "y with NaN": (
        GMNMRegressor, X, _with(y, 2, np.nan), ValueError, "y contains NaN"
    ),
    "y with -inf": (
        GMNMRegressor, X, _with(y, 2, -np.inf), ValueError, "y contains inf"
    ),
    "y of None": (
        GMNMRegressor, X, np.array([None] * 30), ValueError, "y contains NaN"
    ),
    "classifier X with NaN": (
        GMNMClassifier, _with(X, 0, np.nan), labels, ValueError, "X contains NaN"
    ),
    "labels with NaN": (
        GMNMClassifier, X, _with(labels, 0, np.nan), ValueError, "y contains NaN"
    ),
    "no rows": (GMNMRegressor, np.empty((0, 3)), np.empty(0), ValueError, "0 sample"),
    "no columns": (GMNMRegressor, np.empty((30, 0)), y, ValueError, "0 feature"),
    "1-D X": (GMNMRegressor, X[:, 0], y, ValueError, "Expected 2D array"),
    "3-D X": (GMNMRegressor, X[:, :, None], y, ValueError, "dim 3"),
    "3-D y": (GMNMRegressor, X, y[:, None, None], ValueError, "dim 3"),
    "multiclass-multioutput labels": (
        GMNMClassifier,
        X,
        np.c_[labels, np.arange(30) % 3],
        ValueError,
        "multilabel indicator matrix of 0 and 1",
    ),
    "words in X": (
        GMNMRegressor, np.full((30, 3), "a"), y, ValueError, "X must be numeric"
    ),
    "dict in object X": (
        GMNMRegressor,
        np.array([[{"a": 1}] * 3] * 30, dtype=object),
        y,
        TypeError,
        "X must be numeric",
    ),
    "complex X": (GMNMRegressor, X + 1j, y, ValueError, "Complex data"),
    "complex y": (GMNMRegressor, X, y + 1j, ValueError, "Complex data"),
    "y shorter than X": (GMNMRegressor, X, y[:-1], ValueError, "inconsistent numbers"),
    "labels shorter than X": (
        GMNMClassifier, X, labels[:-1], ValueError, "inconsistent numbers"
    ),
    "one class": (GMNMClassifier, X, np.zeros(30), ValueError, "at least 2 classes"),
    "continuous labels": (GMNMClassifier, X, y, ValueError, "Unknown label type"),
    "string targets": (
        GMNMRegressor, X, np.array(["a", "b"] * 15), ValueError, "numeric targets"
    ),
    "object string targets": (
        GMNMRegressor,
        X,
        pd.Series(["a", "b"] * 15, dtype=object),
        ValueError,
        "numeric targets",
    ),
    "sparse X with NaN": (
        GMNMRegressor, sp.csr_matrix(_with(X, 0, np.nan)), y, ValueError,
        "X contains NaN",
    ),
    "sparse X with infinity": (
        GMNMRegressor, sp.csr_matrix(_with(X, 0, np.inf)), y, ValueError,
        "X contains infinity",
    ),
    "y is None": (GMNMRegressor, X, None, ValueError, "requires y"),
}


@pytest.fixture
def no_torch_work(monkeypatch):
    """Make reaching the torch part of ``fit`` an error of its own."""

    def reached(*args, **kwargs):
        raise AssertionError("validation let bad input through to the torch part")

    monkeypatch.setattr(BaseGMNM, "_fit", reached)


@pytest.mark.parametrize("case", list(BAD_FIT_INPUTS))
def test_bad_fit_input_is_refused_before_torch_work(case, no_torch_work):
    cls, X_bad, y_bad, error, match = BAD_FIT_INPUTS[case]
    with pytest.raises(error, match=match):
        cls(**FAST).fit(X_bad, y_bad)


BAD_PARAMETERS = [
    ("n_components", 0),
    ("n_components", 2.5),
    ("n_components", True),
    ("n_components", "8"),
    ("n_components", None),
    ("covariance_type", "fulll"),
    ("rank", 0),
    ("rank", 1.5),
    ("rank", True),
    ("learn_centers", "yes"),
    ("init", "k-means++"),
    ("alpha", -1.0),
    ("alpha", np.nan),
    ("alpha", np.inf),
    ("batch_size", 0),
    ("batch_size", 8.0),
    ("batch_size", "big"),
    ("learning_rate_init", 0.0),
    ("learning_rate_init", -1e-3),
    ("learning_rate_init", np.nan),
    ("learning_rate_init", np.inf),
    ("max_iter", 0),
    ("max_iter", False),
    ("tol", -1.0),
    ("tol", np.nan),
    ("tol", np.inf),
    ("n_iter_no_change", 0),
    ("random_state", "seed"),
    ("verbose", -1),
    ("device", "tpu"),
    ("device", "cuda:x"),
    ("device", "cpu\n"),
    ("device", 0),
    ("device", None),
]


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
@pytest.mark.parametrize(("name", "value"), BAD_PARAMETERS)
def test_invalid_hyper_parameter_is_refused_before_torch_work(
    cls, name, value, no_torch_work
):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        cls(**{**FAST, name: value}).fit(X, labels)


@pytest.mark.parametrize("device", ["cpu", "auto", "cuda", "cuda:0", "cuda:12"])
def test_device_names_accepted_by_the_constraints(device, no_torch_work):
    # A well-formed name passes parameter validation; whether the device
    # exists is checked next, in _fit (here: the sentinel).
    with pytest.raises(AssertionError, match="torch part"):
        GMNMRegressor(**{**FAST, "device": device}).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
@pytest.mark.parametrize("device", ["cuda", "cuda:3"])
def test_unavailable_device_is_a_clear_error(device):
    with pytest.raises(ValueError, match="CUDA is not available"):
        GMNMRegressor(**{**FAST, "device": device}).fit(X, y)


@pytest.mark.parametrize(
    ("cls", "method"),
    [
        (GMNMRegressor, "predict"),
        (GMNMRegressor, "score"),
        (GMNMClassifier, "predict"),
        (GMNMClassifier, "predict_proba"),
        (GMNMClassifier, "predict_log_proba"),
    ],
)
def test_predict_before_fit_raises_not_fitted(cls, method):
    with pytest.raises(NotFittedError):
        if method == "score":
            cls(**FAST).score(X, y)
        else:
            getattr(cls(**FAST), method)(X)


@pytest.mark.parametrize(
    ("X_bad", "error", "match"),
    [
        (np.c_[X, X[:, 0]], ValueError, "X has 4 features, but .* is expecting 3"),
        (X[:, :2], ValueError, "X has 2 features, but .* is expecting 3"),
        (_with(X, 0, np.nan), ValueError, "X contains NaN"),
        (_with(X, 0, np.inf), ValueError, "infinity"),
        (X[0], ValueError, "Expected 2D array"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.full((2, 3), "a"), ValueError, "X must be numeric"),
        (sp.csr_matrix(_with(X, 0, np.nan)), ValueError, "X contains NaN"),
        (sp.csr_matrix(np.ones((2, 4))), ValueError, "4 features"),
    ],
)
def test_bad_predict_input(X_bad, error, match):
    for est in (
        GMNMRegressor(**FAST).fit(X, y),
        GMNMClassifier(**FAST).fit(X, labels),
    ):
        with pytest.raises(error, match=match):
            est.predict(X_bad)


# -- awkward but valid data --------------------------------------------------
@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
@pytest.mark.parametrize("n_samples", [2, 3, 5])
def test_a_handful_of_rows_and_more_components_than_rows(cls, n_samples):
    X_small = X[:n_samples]
    y_small = np.arange(n_samples) % 2 if cls is GMNMClassifier else y[:n_samples]
    est = cls(n_components=16, max_iter=3, random_state=0).fit(X_small, y_small)
    assert est.centers_.shape == (16, 3)
    pred = est.predict(X)
    assert pred.shape == (30,)
    if cls is GMNMRegressor:
        assert np.isfinite(pred).all()
        assert np.isfinite(est.mixing_weights_).all()


def test_single_row_regression_predicts_its_target():
    reg = GMNMRegressor(n_components=3, max_iter=3, random_state=0).fit(X[:1], [2.5])
    np.testing.assert_allclose(reg.predict(X[:5]), 2.5, rtol=0, atol=1e-5)


def test_constant_features_and_duplicated_rows_train():
    X_odd = np.c_[X, np.full(30, 7.0), np.zeros(30)]
    X_odd = np.vstack([X_odd, X_odd, X_odd])
    y_odd = np.tile(y, 3)
    reg = GMNMRegressor(n_components=8, max_iter=20, random_state=0).fit(X_odd, y_odd)
    assert np.isfinite(reg.predict(X_odd)).all()
    assert reg.score(X_odd, y_odd) > 0.5
    clf = GMNMClassifier(**FAST).fit(X_odd, np.tile(labels, 3))
    assert np.isfinite(clf.predict_proba(X_odd)).all()


def test_all_features_constant_regression_predicts_the_mean():
    X_const = np.ones((20, 2))
    y_const = np.arange(20.0)
    reg = GMNMRegressor(n_components=4, max_iter=5, random_state=0).fit(
        X_const, y_const
    )
    # Nothing to learn from X: the prediction is the mean, up to the L2
    # penalty's pull (well under 1% of the targets' spread).
    np.testing.assert_allclose(
        reg.predict(X_const), y_const.mean(), atol=0.01 * y_const.std()
    )


def test_pandas_frames_with_mixed_numeric_dtypes():
    frame = pd.DataFrame(
        {
            "a": X[:, 0],
            "b": (X[:, 1] * 10).astype(np.int64),
            "c": X[:, 2].astype(np.float32),
            "flag": X[:, 0] > 0,
        }
    )
    reg = GMNMRegressor(**FAST).fit(frame, pd.Series(y))
    assert list(reg.feature_names_in_) == ["a", "b", "c", "flag"]
    assert np.isfinite(reg.predict(frame)).all()
    clf = GMNMClassifier(**FAST).fit(frame, pd.Series(np.where(labels, "up", "down")))
    assert set(clf.predict(frame)) <= {"up", "down"}


def test_pandas_nullable_targets_with_missing_values_are_refused():
    target = pd.Series(np.arange(30), dtype="Int64")
    target[3] = pd.NA
    with pytest.raises(ValueError, match="NaN"):
        GMNMRegressor(**FAST).fit(X, target)


def test_numeric_object_arrays_are_converted():
    reg = GMNMRegressor(**FAST).fit(X.astype(object), y.astype(object))
    np.testing.assert_array_equal(
        reg.predict(X), GMNMRegressor(**FAST).fit(X, y).predict(X)
    )
