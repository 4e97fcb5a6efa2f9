"""Property-based tests: fit/predict over shapes, dtypes and scales."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
COVARIANCE_TYPES = st.sampled_from(["full", "diag", "spherical", "tied"])
DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int8, bool])


@st.composite
def datasets(draw):
    """A random design: rows, columns, dtype, magnitude, offset, duplicates."""
    n_samples = draw(st.integers(1, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(DTYPES)
    scale = 10.0 ** draw(st.integers(-9, 9))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    if dtype is bool:
        X = X > 0
    elif np.issubdtype(dtype, np.integer):
        X = np.clip(np.round(X * 10), -100, 100).astype(dtype)
    else:
        X = (X * scale + draw(st.sampled_from([0.0, 1.0, -1e3])) * scale).astype(dtype)
    if draw(st.booleans()):
        X = np.vstack([X, X[: max(1, n_samples // 2)]])  # duplicated rows
    return X, rng


def _fit_kw(draw_kw):
    return {"max_iter": 2, "random_state": 0, **draw_kw}


@SETTINGS
@given(
    data=datasets(),
    n_components=st.integers(1, 12),
    covariance_type=COVARIANCE_TYPES,
    y_scale=st.sampled_from([1e-9, 1.0, 1e9]),
    n_outputs=st.sampled_from([0, 1, 2]),
)
def test_regressor_predicts_finite_values_shaped_like_y(
    data, n_components, covariance_type, y_scale, n_outputs
):
    X, rng = data
    shape = (X.shape[0],) if n_outputs == 0 else (X.shape[0], n_outputs)
    y = rng.normal(size=shape) * y_scale
    reg = GMNMRegressor(
        **_fit_kw({"n_components": n_components, "covariance_type": covariance_type})
    ).fit(X, y)
    pred = reg.predict(X)
    # As MLP: float32 predictions for float32 training and input data.
    expected_dtype = np.float32 if X.dtype == np.float32 else np.float64
    assert pred.shape == y.shape and pred.dtype == expected_dtype
    assert np.isfinite(pred).all()
    assert reg.n_features_in_ == X.shape[1]
    assert all(np.isfinite(p.detach().numpy()).all() for p in reg.module_.parameters())
    # Predictions stay within a sane multiple of the targets' spread.
    spread = np.ptp(y) + np.abs(y).max() + 1e-300
    assert np.abs(pred).max() <= 1e3 * spread


@SETTINGS
@given(
    data=datasets(),
    n_components=st.integers(1, 12),
    covariance_type=COVARIANCE_TYPES,
    n_classes=st.integers(2, 4),
    label_kind=st.sampled_from(["int", "str", "float"]),
)
def test_classifier_probabilities_are_valid(
    data, n_components, covariance_type, n_classes, label_kind
):
    X, rng = data
    n_classes = min(n_classes, X.shape[0]) if X.shape[0] > 1 else 2
    if X.shape[0] < 2:
        X = np.vstack([X, X])
    codes = np.arange(X.shape[0]) % n_classes
    rng.shuffle(codes)
    y = {
        "int": codes,
        "str": np.array([f"class{c}" for c in codes], dtype=object),
        "float": codes * 2.0,  # integral floats are class labels
    }[label_kind]
    clf = GMNMClassifier(
        **_fit_kw({"n_components": n_components, "covariance_type": covariance_type})
    ).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    assert np.isfinite(proba).all() and (proba >= 0).all()
    assert proba.dtype == (np.float32 if X.dtype == np.float32 else np.float64)
    atol = 1e-6 if proba.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=atol)
    assert set(clf.predict(X)) <= set(clf.classes_)
