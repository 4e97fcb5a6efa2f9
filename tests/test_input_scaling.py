"""The estimators' input map: ``input_scaling='standard'`` and ``'robust'``."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._sparse import robust_center_and_scale, smooth_clip
from sklearn_gmnm.nn import GMNM
from sklearn_gmnm.nn import _functional as F
from sklearn_gmnm.nn._trunk import split_network

# (no early stopping: the statistics are then those of all the rows)
FAST = {"n_components": 6, "max_iter": 5, "early_stopping": False, "random_state": 0}

rng = np.random.RandomState(0)
X = rng.standard_normal((200, 3))
y = X[:, 0] - 2 * X[:, 1] ** 2


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def test_robust_map_is_median_iqr_then_smooth_clip():
    # With a trunk the trunk sees the clipped scores.
    X_skewed = np.column_stack([rng.lognormal(0, 2, 300), rng.uniform(0, 4, 300)])
    reg = _fit(
        GMNMRegressor(input_scaling="robust", hidden_layer_sizes=(4,), **FAST),
        X_skewed, X_skewed[:, 1],
    )
    q1, q2, q3 = np.percentile(X_skewed, [25, 50, 75], axis=0)
    np.testing.assert_allclose(reg._x_mean, q2, rtol=1e-9)
    np.testing.assert_allclose(reg._x_scale, q3 - q1, rtol=1e-9)
    z = (X_skewed - q2) / (q3 - q1)
    np.testing.assert_allclose(
        reg._standardize(X_skewed), z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-8, atol=1e-8
    )
    # bounded by the clip, and monotone in each column
    Xs = reg._standardize(X_skewed)
    assert np.abs(Xs).max() < 3
    order = np.argsort(X_skewed[:, 0])
    assert np.all(np.diff(Xs[order, 0]) >= 0)
    assert split_network(reg.module_)[1].input_clip is None


def test_robust_map_clips_the_gaussians_not_the_linear_term():
    # Without a trunk the layer receives the unclipped robust scores; its
    # Gaussians see them clipped, its linear term as they are.
    X_skewed = np.column_stack([rng.lognormal(0, 2, 300), rng.uniform(0, 4, 300)])
    y_trend = X_skewed[:, 0] + X_skewed[:, 1]
    reg = _fit(GMNMRegressor(input_scaling="robust", **FAST), X_skewed, y_trend)
    q1, q2, q3 = np.percentile(X_skewed, [25, 50, 75], axis=0)
    np.testing.assert_allclose(
        reg._standardize(X_skewed), (X_skewed - q2) / (q3 - q1), rtol=1e-8, atol=1e-8
    )
    assert reg._x_clip is None and reg.module_.input_clip == 3.0
    z = torch.from_numpy(reg._standardize(X_skewed)).float()
    clipped = F.smooth_clip(z, 3.0)
    with torch.no_grad():
        plain = GMNM(2, 1, n_components=reg.module_.n_components, linear_term=True)
        plain.load_state_dict(reg.module_.state_dict())
        np.testing.assert_allclose(
            reg.module_.activations(z).numpy(), plain.activations(clipped).numpy(),
            rtol=1e-6,
        )
        # the linear term follows the trend beyond the bulk: the model's
        # output grows with the heavy-tailed column far past the clip
        far = np.array([[q2[0], q2[1]], [1e3 * q3[0], q2[1]]])
    pred = reg.predict(far)
    assert pred[1] > pred[0] + 100


def test_standard_map_is_unchanged():
    reg = _fit(GMNMRegressor(input_scaling="standard", **FAST), X, y)
    np.testing.assert_allclose(reg._x_mean, X.mean(0), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(reg._x_scale, X.std(0), rtol=1e-8)
    assert reg._x_clip is None


@pytest.mark.parametrize("column", [
    np.full(200, 3.5),                                  # constant
    np.r_[np.zeros(195), [1e3, -5e2, 7e4, 1.0, 2.0]],   # one value, few outliers
    np.r_[np.linspace(-1e300, 1e300, 199), 0.0],        # huge range
])
def test_robust_map_stays_finite_on_degenerate_columns(column):
    X_bad = np.column_stack([X[:, 0], column])
    reg = _fit(GMNMRegressor(input_scaling="robust", **FAST), X_bad, y)
    assert np.all(np.isfinite(reg._x_scale)) and np.all(reg._x_scale > 0)
    Xs = reg._standardize(X_bad)
    assert np.all(np.isfinite(Xs)) and np.abs(Xs).max() <= 3
    assert np.all(np.isfinite(reg.predict(X_bad)))


def test_one_value_with_outliers_uses_half_the_range():
    column = np.r_[np.zeros(195), [10.0, -4.0, 2.0, 1.0, 3.0]]
    center, scale = robust_center_and_scale(column[:, None], None)
    assert center[0] == 0.0 and scale[0] == 7.0


def test_robust_statistics_are_weighted_and_equal_for_sparse_input():
    X_sparse = sp.random(300, 4, density=0.3, format="csr", random_state=1)
    w = np.random.RandomState(2).randint(0, 3, 300).astype(float)
    dense = robust_center_and_scale(X_sparse.toarray(), w)
    sparse = robust_center_and_scale(X_sparse, w)
    np.testing.assert_array_equal(dense[0], sparse[0])
    np.testing.assert_array_equal(dense[1], sparse[1])
    # zero weights remove rows
    kept = robust_center_and_scale(X_sparse.toarray()[w > 0], w[w > 0])
    np.testing.assert_array_equal(dense[0], kept[0])
    # equal weights are no weights (interpolated quantiles), zeros included
    ones = np.r_[np.full(200, 2.0), np.zeros(100)]
    np.testing.assert_array_equal(
        np.stack(robust_center_and_scale(X_sparse, ones)),
        np.stack(robust_center_and_scale(X_sparse[:200].toarray(), None)),
    )
    target = np.asarray(X_sparse.sum(1)).ravel()
    a = _fit(GMNMRegressor(input_scaling="robust", **FAST), X_sparse, target)
    b = _fit(GMNMRegressor(input_scaling="robust", **FAST), X_sparse.toarray(), target)
    np.testing.assert_allclose(a.predict(X_sparse), b.predict(X_sparse.toarray()),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_layer_clip_is_the_map_of_the_inputs(dtype):
    # The layer's torch clip and the estimator's numpy clip (used before a
    # trunk) are the same map: z / sqrt(1 + (z / bound)^2).
    z = np.r_[np.linspace(-50, 50, 1001), [-1e6, 1e6, 0.0]]
    expected = z / np.sqrt(1 + (z / 3.0) ** 2)
    out = F.smooth_clip(torch.as_tensor(z, dtype=dtype), 3.0).numpy()
    rtol = 1e-6 if dtype == torch.float32 else 1e-13
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=0)
    np.testing.assert_allclose(smooth_clip(z.copy(), 3.0), expected, rtol=1e-13)


def test_smooth_clip_saturates_without_overflow():
    z = np.array([-1e6, -3.0, 0.0, 1e-3, 3.0, 1e6])
    out = smooth_clip(z.copy(), 3.0)
    assert np.all(np.abs(out) < 3) and out[2] == 0.0
    np.testing.assert_allclose(out[3], 1e-3, rtol=1e-6)
    np.testing.assert_allclose(out[[0, 5]], [-3, 3], rtol=1e-10)


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_invalid_input_scaling_is_rejected(cls):
    with pytest.raises(InvalidParameterError, match="input_scaling"):
        cls(input_scaling="quantile").fit(X, (y > 0).astype(int))


def test_robust_centers_are_reported_in_input_units():
    reg = _fit(GMNMRegressor(input_scaling="robust", learn_centers=False, **FAST), X, y)
    z = reg.module_.centers.detach().double().numpy()
    assert np.all(np.abs(z) < 3)
    back = (z / np.sqrt(1 - (z / 3) ** 2)) * reg._x_scale + reg._x_mean
    np.testing.assert_allclose(reg.centers_, back, rtol=1e-9)
