"""The 'auto' rules of the defaults: early stopping, budget, patience, start."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._initialization import (
    RIDGE_ALPHAS,
    _loo_best_penalty,
    fit_mixing_weights,
)

rng = np.random.RandomState(0)


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


@pytest.mark.parametrize("n_samples, validates", [(150, False), (200, True)])
def test_early_stopping_auto_needs_twenty_validation_rows(n_samples, validates):
    X = rng.standard_normal((n_samples, 3))
    reg = _fit(GMNMRegressor(n_components=4, max_iter=3, random_state=0), X, X[:, 0])
    assert (reg.validation_scores_ is not None) == validates
    assert (reg.best_loss_ is None) == validates


def test_early_stopping_auto_is_off_where_the_split_is_impossible():
    X = rng.standard_normal((400, 3))
    y = np.r_[np.zeros(399, int), 1]  # one row of class 1: no stratified split
    clf = _fit(GMNMClassifier(n_components=4, max_iter=3, random_state=0), X, y)
    assert clf.validation_scores_ is None


def test_early_stopping_auto_is_off_in_partial_fit_and_for_lbfgs():
    X = rng.standard_normal((400, 3))
    reg = GMNMRegressor(n_components=4, random_state=0)
    reg.partial_fit(X, X[:, 0])
    assert reg.validation_scores_ is None
    lbfgs = _fit(GMNMRegressor(n_components=4, solver="lbfgs", max_iter=5), X, X[:, 0])
    assert lbfgs.validation_scores_ is None
    with pytest.raises(ValueError, match="early_stopping=True"):
        GMNMRegressor(early_stopping=True).partial_fit(X, X[:, 0])


def test_patience_auto_counts_steps_on_small_data():
    # 150 rows are one mini-batch: 'auto' patience is 30 epochs (30 steps).
    # With a tol no epoch meets, only the first epoch improves (on an
    # infinite best loss); training stops once more than 30 did not.
    X = rng.standard_normal((150, 3))
    reg = _fit(GMNMRegressor(n_components=4, tol=1e9, random_state=0), X, X[:, 0])
    assert reg.n_iter_ == 32
    reg = _fit(GMNMRegressor(n_components=4, tol=1e9, n_iter_no_change=10,
                             random_state=0), X, X[:, 0])
    assert reg.n_iter_ == 12


@pytest.mark.parametrize("params, match", [
    ({"early_stopping": "yes"}, "early_stopping"),
    ({"n_iter_no_change": "never"}, "n_iter_no_change"),
    ({"n_iter_no_change": 0}, "n_iter_no_change"),
])
def test_invalid_auto_settings_are_rejected(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        GMNMRegressor(**params).fit(rng.standard_normal((20, 2)), np.arange(20.0))


def test_loo_penalty_matches_brute_force_leave_one_out():
    G = rng.standard_normal((40, 5))
    Y = G @ rng.standard_normal((5, 2)) + rng.standard_normal((40, 2))
    Gc, Yc = G - G.mean(0), Y - Y.mean(0)
    gram = Gc.T @ Gc
    penalties = np.array([1e-2, 1.0, 30.0, 1e3])
    chosen = _loo_best_penalty(Gc, Yc, gram, penalties)
    errors = []
    for p in penalties:
        total = 0.0
        for i in range(40):
            keep = np.arange(40) != i
            coef = np.linalg.solve(
                Gc[keep].T @ Gc[keep] + p * np.eye(5), Gc[keep].T @ Yc[keep]
            )
            total += np.sum((Yc[i] - Gc[i] @ coef) ** 2)
        errors.append(total)
    assert chosen == penalties[int(np.argmin(errors))]


def test_auto_ridge_penalty_shrinks_a_fit_of_noise():
    G = rng.standard_normal((60, 20))
    clean = (G[:, :2] @ [1.0, -1.0])[:, None]
    noise = rng.standard_normal((60, 1))
    w_clean, _ = fit_mixing_weights(G, clean, ridge_alpha="auto")
    np.testing.assert_allclose(w_clean[0, :2], [1.0, -1.0], atol=0.05)
    w_fixed, _ = fit_mixing_weights(G, noise, ridge_alpha=RIDGE_ALPHAS[0])
    w_auto, _ = fit_mixing_weights(G, noise, ridge_alpha="auto")
    assert np.linalg.norm(w_auto) < 0.5 * np.linalg.norm(w_fixed)


@pytest.mark.parametrize("load", [load_iris, load_diabetes, load_breast_cancer])
def test_default_fits_of_the_small_scikit_learn_sets_converge(load):
    # The 'auto' budget is at least 1,000 steps: load_iris (one step an
    # epoch) stops by itself after up to 363 epochs, past MLP's 200.
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    cls = GMNMRegressor if load is load_diabetes else GMNMClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fits = [cls(random_state=seed).fit(X, y) for seed in range(3)]
    if load is load_iris:
        assert max(fit.n_iter_ for fit in fits) > 200
