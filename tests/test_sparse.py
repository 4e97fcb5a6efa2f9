"""Sparse inputs: accepted everywhere, densified a bounded block of rows at a time."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sklearn_gmnm import GMNMClassifier, GMNMRegressor, _base, _sparse
from sklearn_gmnm._sparse import round_statistics, sparse_mean_and_scale

_rng = np.random.RandomState(0)
# About 70% zeros, features of different scales and offsets.
X = _rng.randn(300, 8) * (_rng.rand(300, 8) < 0.3) * np.arange(1, 9)
X[:, 3] += 5.0 * (X[:, 3] != 0)
y = X[:, 0] - 0.5 * X[:, 1] * X[:, 2] + np.sin(X[:, 3])
labels = np.digitize(X[:, 0] + X[:, 4], [-0.5, 0.5])
multilabel = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 5] > 0]).astype(int)
weights = _rng.rand(300) * (_rng.rand(300) > 0.1)

FORMATS = {
    "csr_matrix": sp.csr_matrix,
    "csc_matrix": sp.csc_matrix,
    "csr_array": sp.csr_array,
    "coo_matrix": sp.coo_matrix,
}
SETTINGS = {
    "adam": {"solver": "adam"},
    "adam_early_stopping": {"solver": "adam", "early_stopping": True},
    "lbfgs": {"solver": "lbfgs"},
}


def _fit(cls, X_fit, target, sample_weight=None, **params):
    settings = {"n_components": 8, "max_iter": 8, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**settings).fit(X_fit, target, sample_weight=sample_weight)


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_regressor_on_sparse_equals_dense(setting, fmt):
    dense = _fit(GMNMRegressor, X, y, weights, **SETTINGS[setting])
    sparse = _fit(GMNMRegressor, FORMATS[fmt](X), y, weights, **SETTINGS[setting])
    for X_pred in (X, FORMATS[fmt](X)):
        np.testing.assert_allclose(
            sparse.predict(X_pred), dense.predict(X), rtol=1e-5, atol=1e-6
        )
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-5)


@pytest.mark.parametrize("target", ["multiclass", "multilabel"])
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_classifier_on_sparse_equals_dense(setting, target):
    target = labels if target == "multiclass" else multilabel
    dense = _fit(GMNMClassifier, X, target, **SETTINGS[setting])
    sparse = _fit(GMNMClassifier, sp.csr_matrix(X), target, **SETTINGS[setting])
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csc_matrix(X)),
        dense.predict_proba(X),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))
    assert sparse.score(sp.csr_matrix(X), target) == dense.score(X, target)


def test_poisson_start_on_sparse_rows_beyond_the_init_sample(monkeypatch):
    # More training rows than the initialisation draws: the start's
    # intercept still sees every row, sparse as dense (it used to see the
    # sparse input's drawn rows against all the targets, and fail).
    monkeypatch.setattr(_base, "MAX_INIT_SAMPLES", 100)
    counts = np.floor(np.abs(y))
    dense = _fit(GMNMRegressor, X, counts, weights, loss="poisson")
    sparse = _fit(GMNMRegressor, sp.csr_matrix(X), counts, weights, loss="poisson")
    np.testing.assert_allclose(
        sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-5
    )


def test_partial_fit_on_sparse_chunks_equals_dense():
    dense = GMNMRegressor(n_components=8, random_state=0)
    sparse = GMNMRegressor(n_components=8, random_state=0)
    for start in range(0, 300, 100):
        rows = slice(start, start + 100)
        dense.partial_fit(X[rows], y[rows], sample_weight=weights[rows])
        sparse.partial_fit(sp.csr_matrix(X[rows]), y[rows], sample_weight=weights[rows])
    np.testing.assert_allclose(
        sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("sample_weight", [None, weights])
def test_sparse_mean_and_scale_equal_dense(sample_weight):
    mean, scale = sparse_mean_and_scale(sp.csc_matrix(X), sample_weight)
    dense_mean, dense_scale = _base._weighted_mean_and_scale(X, sample_weight)
    np.testing.assert_allclose(mean, dense_mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(scale, dense_scale, rtol=1e-12)
    # Rounded, they are the same bits, within 2**-32 of the exact ones.
    rounded = round_statistics(mean, scale)
    dense_rounded = round_statistics(dense_mean, dense_scale)
    np.testing.assert_array_equal(rounded[0], dense_rounded[0])
    np.testing.assert_array_equal(rounded[1], dense_rounded[1])
    assert (np.abs(rounded[1] / scale - 1) <= 2.0**-32).all()
    assert (np.abs(rounded[0] - mean) <= 2.0**-32 * scale).all()
    # A constant column gets scale 1, as for dense data.
    constant = sp.csr_matrix(np.c_[X, np.zeros(300)])
    assert sparse_mean_and_scale(constant, sample_weight)[1][-1] == 1.0


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sparse_rows_are_densified_in_bounded_blocks(monkeypatch, solver):
    # 25000 rows: more than the initialisation's subsample (20000 rows), so
    # a block of all the rows would show. Chunks of the full-batch loss and
    # of predict are made small here.
    from sklearn_gmnm import _solvers

    # 4 components of rank 6: 24 intermediates a row.
    monkeypatch.setattr(_solvers, "_SPARSE_CHUNK_BUDGET", 1000 * 24)
    monkeypatch.setattr(_base, "_PREDICT_BUDGET", 3000 * 24)
    rng = np.random.RandomState(1)
    n = 25_000
    X_big = sp.random(n, 6, density=0.2, format="csr", random_state=rng)
    y_big = np.asarray(X_big.sum(axis=1)).ravel()
    seen = []

    def recording(block, *args):
        seen.append(block.shape[0])
        return _sparse.standardize.__wrapped__(block, *args)

    recording.__wrapped__ = _sparse.standardize
    monkeypatch.setattr(_sparse, "standardize", recording)
    monkeypatch.setattr(_base, "standardize", recording)
    reg = _fit(
        GMNMRegressor, X_big, y_big, n_components=4, max_iter=1, solver=solver,
        batch_size=512, early_stopping=False,  # (validation: 8192-row blocks)
    )
    # The initialisation's bounded subsample, then batches or loss chunks.
    assert seen[0] == 20_000
    assert max(seen[1:]) == (512 if solver == "adam" else 1000)
    # predict densifies blocks of 3000 rows for its inference form.
    densified = []
    reg._predict_module().register_forward_pre_hook(
        lambda module, args: densified.append(tuple(args[0].shape))
    )
    assert reg.predict(X_big).shape == (n,)
    assert max(densified) == (3000, 6)
    assert sum(rows for rows, _ in densified) == n


def test_sparse_l_bfgs_chunks_sum_to_the_full_loss(monkeypatch):
    # Chunks of 7 rows: the chunked loss and gradient equal the dense ones.
    from sklearn_gmnm import _solvers

    monkeypatch.setattr(_solvers, "_SPARSE_CHUNK_BUDGET", 7 * 8 * 8)
    dense = _fit(GMNMRegressor, X, y, weights, solver="lbfgs", max_iter=5)
    sparse = _fit(GMNMRegressor, sp.csr_matrix(X), y, weights, solver="lbfgs",
                  max_iter=5)
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-7)
    np.testing.assert_allclose(
        sparse.predict(X), dense.predict(X), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("value, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_sparse_values_get_the_dense_error(value, message):
    bad = X.copy()
    bad[X != 0] = X[X != 0]
    bad[np.nonzero(X)[0][0], np.nonzero(X)[1][0]] = value
    errors = []
    for X_bad in (bad, sp.csr_matrix(bad)):
        with pytest.raises(ValueError, match=f"Input X contains {message}") as info:
            GMNMRegressor().fit(X_bad, y)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_integer_sparse_input_is_converted():
    X_int = sp.csr_matrix(np.round(X).astype(np.int64))
    reg = _fit(GMNMRegressor, X_int, y, max_iter=2)
    np.testing.assert_allclose(
        reg.predict(X_int), reg.predict(np.round(X)), rtol=1e-6, atol=1e-8
    )
