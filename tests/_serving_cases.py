"""Data and fitted estimators shared by the export tests (to_torch, ONNX).

Features of very different scales and offsets, so that a missing or wrong
standardisation in an exported model shows. The builders are cached: each
model is fitted once per test session.
"""

import functools
import warnings

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

COVARIANCE_TYPES = ["full", "diag", "spherical", "tied"]

_rng = np.random.RandomState(1)
X = _rng.randn(120, 4) * np.array([1.0, 30.0, 0.01, 5.0]) + np.array(
    [0.0, 100.0, -3.0, 7.0]
)
Z = (X - X.mean(0)) / X.std(0)
Y1 = 50.0 * np.sin(Z[:, 0]) + 20.0 * Z[:, 1] * Z[:, 3] + 1000.0
Y2 = np.column_stack([Y1, -3.0 * Z[:, 2] ** 2])
LABELS = {
    "binary_int": np.where(Z[:, 0] + Z[:, 1] > 0, 7, 2),
    "binary_str": np.where(Z[:, 0] - Z[:, 3] > 0, "yes", "no"),
    "multiclass_int": np.digitize(Z[:, 1] + Z[:, 2], [-0.7, 0.0, 0.7]),
    "multiclass_str": np.array(["low", "mid", "high"])[
        np.digitize(Z[:, 0] - Z[:, 3], [-0.5, 0.5])
    ],
}
VARIANTS = {
    "default": {},
    "low_rank_no_linear": {"rank": 2, "linear_term": False},
    "fixed_centers": {"learn_centers": False},
    "trunk": {"hidden_layer_sizes": (7, 5), "activation": "tanh"},
    "robust_inputs": {"input_scaling": "robust"},
    "standard_inputs": {"input_scaling": "standard"},
    "robust_trunk": {"input_scaling": "robust", "hidden_layer_sizes": (6,)},
}
# Counts for loss='poisson': positive means of very different sizes.
Y_COUNTS = np.random.RandomState(2).poisson(
    np.exp(1.5 * np.tanh(Z[:, 0]) - 0.5 * Z[:, 1] ** 2 + 2.0)
).astype(float)
MULTILABEL = np.column_stack(
    [Z[:, 0] > 0, Z[:, 1] * Z[:, 3] > 0, Z[:, 2] + Z[:, 0] > 0.5]
).astype(np.int64)

_SMALL = {"n_components": 6, "max_iter": 3, "random_state": 0}


def fit(estimator, y, scaler=False):
    """Fit ``estimator`` on ``X`` (behind a StandardScaler if ``scaler``)."""
    model = make_pipeline(StandardScaler(), estimator) if scaler else estimator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


@functools.cache
def regressor(covariance_type, y_ndim, variant="default", scaler=False):
    estimator = GMNMRegressor(
        covariance_type=covariance_type, **_SMALL, **VARIANTS[variant]
    )
    return fit(estimator, Y1 if y_ndim == 1 else Y2, scaler)


@functools.cache
def classifier(covariance_type, labels, variant="default", scaler=False):
    estimator = GMNMClassifier(
        covariance_type=covariance_type, **_SMALL, **VARIANTS[variant]
    )
    return fit(estimator, LABELS[labels], scaler)


@functools.cache
def multilabel(covariance_type):
    return fit(GMNMClassifier(covariance_type=covariance_type, **_SMALL), MULTILABEL)


@functools.cache
def poisson(hidden_layer_sizes=(), activation="relu"):
    estimator = GMNMRegressor(
        loss="poisson", hidden_layer_sizes=hidden_layer_sizes,
        activation=activation, **_SMALL,
    )
    return fit(estimator, Y_COUNTS)


def assert_close(actual, expected):
    """Within 1e-4 relative, each column against its own magnitude."""
    assert actual.shape == expected.shape
    scale = np.abs(expected).max(axis=0)
    np.testing.assert_allclose(actual / scale, expected / scale, rtol=1e-4, atol=1e-5)
