"""Prediction dtypes as MLP's: float32 only for float32 training and input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

_rng = np.random.RandomState(0)
X = _rng.randn(150, 4)
y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
labels = np.digitize(X[:, 0] - X[:, 3], [-0.5, 0.5])
multilabel = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.3]).astype(int)
DTYPES = [np.float32, np.float64, np.int64]


def _fit(estimator, X_fit, target):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X_fit, target)


def _cast(dtype):
    return np.round(X).astype(dtype) if dtype == np.int64 else X.astype(dtype)


@pytest.mark.parametrize("predict_dtype", DTYPES)
@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
def test_regressor_dtype_matches_mlp(fit_dtype, predict_dtype):
    reg = _fit(GMNMRegressor(n_components=6, max_iter=2, random_state=0),
               _cast(fit_dtype), y)
    mlp = _fit(MLPRegressor(max_iter=2, random_state=0), _cast(fit_dtype), y)
    X_pred = _cast(predict_dtype)
    expected = mlp.predict(X_pred).dtype
    assert reg.predict(X_pred).dtype == expected
    assert expected == (
        np.float32 if fit_dtype == predict_dtype == np.float32 else np.float64
    )


@pytest.mark.parametrize("target", ["multiclass", "multilabel"])
@pytest.mark.parametrize("predict_dtype", DTYPES)
@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
def test_classifier_dtype_matches_mlp(fit_dtype, predict_dtype, target):
    target = labels if target == "multiclass" else multilabel
    clf = _fit(GMNMClassifier(n_components=6, max_iter=2, random_state=0),
               _cast(fit_dtype), target)
    mlp = _fit(MLPClassifier(max_iter=2, random_state=0), _cast(fit_dtype), target)
    X_pred = _cast(predict_dtype)
    for method in ("predict_proba", "predict_log_proba"):
        assert getattr(clf, method)(X_pred).dtype == getattr(mlp, method)(X_pred).dtype
    # Labels keep their own type.
    assert clf.predict(X_pred).dtype == mlp.predict(X_pred).dtype


def test_float32_predictions_equal_float64_ones_rounded():
    X32 = X.astype(np.float32)
    reg = _fit(GMNMRegressor(n_components=6, max_iter=2, random_state=0), X32, y)
    out32 = reg.predict(X32)
    # The float64 route on the same inputs; the module computes in float32.
    out64 = reg.predict(sp.csr_matrix(X32.astype(np.float64)))
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    np.testing.assert_allclose(out32, out64, rtol=1e-6, atol=1e-6)
    clf = _fit(GMNMClassifier(n_components=6, max_iter=2, random_state=0), X32,
               labels)
    proba = clf.predict_proba(X32)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)


def test_sparse_float32_and_partial_fit_keep_float32():
    X32 = sp.csr_matrix(X.astype(np.float32))
    reg = GMNMRegressor(n_components=6, random_state=0).partial_fit(X32, y)
    reg.partial_fit(X.astype(np.float64), y)  # the first call's dtype counts
    assert reg.predict(X32).dtype == np.float32
    assert reg.predict(X32.toarray()).dtype == np.float32
    assert reg.predict(X).dtype == np.float64


def test_lbfgs_predictions_keep_the_float64_module_precision():
    import torch

    reg = _fit(GMNMRegressor(n_components=6, solver="lbfgs", max_iter=20,
                             random_state=0), X, y)
    assert reg.module_.weight.dtype == torch.float64
    with torch.no_grad():
        raw = reg.module_(torch.from_numpy(reg._standardize(X))).numpy()
    expected = (raw * reg._y_scale + reg._y_mean).ravel()
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-14, atol=1e-14)
