"""The full-batch L-BFGS solver, and what both solvers share."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._loss import HalfSquaredError

X_reg, y_reg = make_regression(n_samples=150, n_features=3, noise=1.0, random_state=0)
y_reg = y_reg + 30 * np.sin(2 * X_reg[:, 0])
X_iris, y_iris = load_iris(return_X_y=True)
LBFGS = {"solver": "lbfgs", "n_components": 8, "max_iter": 40, "random_state": 0}

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _smooth_3d(n, seed):
    X = np.random.RandomState(seed).uniform(-1, 1, size=(n, 3))
    return X, np.exp(-np.sum(X**2, axis=1)) * np.cos(2 * X[:, 0])


def test_lbfgs_converges_far_beyond_adam_on_a_smooth_function():
    # benchmarks/paper_functions.py measures more rows and functions.
    X, y = _smooth_3d(600, 0)
    X_test, y_test = _smooth_3d(2000, 1)
    rmse = {}
    for solver in ("adam", "lbfgs"):
        reg = GMNMRegressor(n_components=16, solver=solver, random_state=0)
        reg.fit(X, y)
        rmse[solver] = np.sqrt(np.mean((reg.predict(X_test) - y_test) ** 2))
    # (3.6x measured at the defaults of this version)
    assert rmse["lbfgs"] < rmse["adam"] / 3


@pytest.mark.parametrize("cls, X, y", [
    (GMNMRegressor, X_reg, y_reg), (GMNMClassifier, X_iris, y_iris),
])
def test_lbfgs_records_one_loss_per_iteration(cls, X, y):
    est = cls(**LBFGS).fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) <= 40
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.module_.weight.dtype == torch.float64


def test_lbfgs_warns_when_max_iter_or_max_fun_ends_training():
    with pytest.warns(ConvergenceWarning, match="max_iter=3 iterations"):
        GMNMRegressor(**{**LBFGS, "max_iter": 3}).fit(X_reg, y_reg)
    with pytest.warns(ConvergenceWarning, match="max_fun=5 loss evaluations"):
        reg = GMNMRegressor(**LBFGS, max_fun=5).fit(X_reg, y_reg)
    assert reg.n_iter_ <= 5


def test_lbfgs_converged_fit_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = GMNMRegressor(**{**LBFGS, "max_iter": 5000}, tol=1e-3).fit(X_reg, y_reg)
    assert reg.n_iter_ < 5000


def test_max_iter_auto_depends_on_the_solver():
    # 'auto' gives Adam MLP's 200 epochs when they make 1,000 steps (150
    # rows in batches of 30: 5 an epoch), and 1,000 steps otherwise (in
    # batches of 50: 3 an epoch, 334 epochs).
    for batch_size, epochs in ((30, 200), (50, 334)):
        adam = GMNMRegressor(n_components=4, random_state=0, tol=0,
                             n_iter_no_change=10**6, batch_size=batch_size)
        with pytest.warns(ConvergenceWarning, match=f"max_iter={epochs} epochs"):
            adam.fit(X_reg, y_reg)
        assert adam.n_iter_ == epochs
    lbfgs = GMNMRegressor(n_components=4, solver="lbfgs", tol=0, max_fun=10**6,
                          random_state=0).fit(X_reg, y_reg)
    assert 20 < lbfgs.n_iter_ <= 500


@pytest.mark.parametrize("params, match", [
    ({"solver": "sgd"}, "solver"),
    ({"solver": None}, "solver"),
    ({"max_fun": 0}, "max_fun"),
    ({"max_iter": "many"}, "max_iter"),
])
def test_invalid_solver_settings_are_rejected(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        GMNMRegressor(**params).fit(X_reg, y_reg)


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_partial_fit_is_not_offered_with_lbfgs(cls):
    est = cls(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError) as excinfo:
        est.partial_fit(X_iris, y_iris)
    assert "lbfgs" in str(excinfo.value.__cause__)
    assert hasattr(cls(solver="adam"), "partial_fit")


def test_callbacks_with_lbfgs_are_an_error():
    from skorch.callbacks import EpochTimer

    with pytest.raises(ValueError, match="solver='adam' only"):
        GMNMRegressor(**LBFGS, callbacks=[EpochTimer()]).fit(X_reg, y_reg)


def test_lbfgs_penalty_has_mlps_scale():
    # At the optimum the gradient of the mean loss on the mixing weights
    # balances that of alpha / (2 n) ||W||^2.
    alpha = 50.0
    reg = GMNMRegressor(
        n_components=6, solver="lbfgs", alpha=alpha, learn_centers=False,
        max_iter=3000, tol=1e-10, random_state=0,
    ).fit(X_reg, y_reg)
    module = reg.module_
    Xs = torch.as_tensor(reg._standardize(X_reg))
    ys = torch.as_tensor((y_reg - reg._y_mean) / reg._y_scale)
    loss = HalfSquaredError()(module(Xs), ys.reshape(-1, 1)).mean()
    (grad,) = torch.autograd.grad(loss, module.weight)
    expected = -alpha / X_reg.shape[0] * module.weight.detach()
    torch.testing.assert_close(grad, expected, rtol=1e-3, atol=1e-6)


def test_lbfgs_zero_weights_are_removal_and_integer_weights_repetition():
    keep = np.arange(len(y_reg)) % 3 != 0
    weights = keep.astype(float)
    weighted = GMNMRegressor(**LBFGS).fit(X_reg, y_reg, sample_weight=weights)
    removed = GMNMRegressor(**LBFGS).fit(X_reg[keep], y_reg[keep])
    np.testing.assert_allclose(weighted.predict(X_reg), removed.predict(X_reg),
                               rtol=1e-6, atol=1e-6 * np.abs(y_reg).max())
    counts = 1 + (np.arange(len(y_reg)) % 2)
    twice = GMNMRegressor(**LBFGS).fit(X_reg, y_reg, sample_weight=counts)
    repeated = GMNMRegressor(**LBFGS).fit(
        np.repeat(X_reg, counts, axis=0), np.repeat(y_reg, counts)
    )
    gap = np.abs(twice.predict(X_reg) - repeated.predict(X_reg)).max()
    assert gap < 0.02 * np.ptp(y_reg)


def test_lbfgs_class_weight_shifts_predictions():
    y = (X_iris[:, 0] > 6.5).astype(int)  # about one row in six is 1
    plain = GMNMClassifier(**LBFGS).fit(X_iris, y)
    balanced = GMNMClassifier(**LBFGS, class_weight="balanced").fit(X_iris, y)
    assert balanced.predict_proba(X_iris)[:, 1].mean() > (
        plain.predict_proba(X_iris)[:, 1].mean()
    )


def test_lbfgs_warm_start_continues_from_the_fitted_weights():
    reg = GMNMRegressor(**{**LBFGS, "max_iter": 10}, warm_start=True)
    reg.fit(X_reg, y_reg)
    first_curve = list(reg.loss_curve_)
    reg.fit(X_reg, y_reg)
    assert reg.n_iter_ == len(reg.loss_curve_) == len(first_curve) + 10
    assert reg.loss_curve_[:10] == first_curve
    assert reg.loss_curve_[10] <= first_curve[-1] * (1 + 1e-9)


def test_switching_solver_with_warm_start_keeps_the_model():
    reg = GMNMRegressor(**{**LBFGS, "max_iter": 10}, warm_start=True)
    reg.fit(X_reg, y_reg)
    score = reg.score(X_reg, y_reg)
    reg.set_params(solver="adam", max_iter=2, learning_rate_init=1e-5)
    reg.fit(X_reg, y_reg)
    assert reg.module_.weight.dtype == torch.float32
    assert reg.n_iter_ == 12
    assert reg.score(X_reg, y_reg) == pytest.approx(score, abs=1e-3)


@pytest.mark.parametrize(
    "settings",
    [{"covariance_type": c} for c in ("full", "diag", "spherical", "tied")]
    + [{"learn_centers": False}, {"linear_term": False}, {"rank": 2}],
)
def test_lbfgs_improves_on_the_start_for_every_module_setting(settings):
    start = GMNMRegressor(**{**LBFGS, "max_iter": 1}, **settings).fit(X_reg, y_reg)
    reg = GMNMRegressor(**LBFGS, **settings).fit(X_reg, y_reg)
    assert reg.score(X_reg, y_reg) > start.score(X_reg, y_reg)
    if settings.get("learn_centers") is False:
        np.testing.assert_allclose(reg.centers_, start.centers_)


def test_lbfgs_multi_output_and_pickle():
    Y = np.column_stack([y_reg, -2 * y_reg + 5])
    reg = GMNMRegressor(**LBFGS).fit(X_reg, Y)
    assert reg.predict(X_reg).shape == Y.shape
    assert reg.score(X_reg, Y) > 0.9
    loaded = pickle.loads(pickle.dumps(reg))
    assert loaded.module_.weight.dtype == torch.float64
    np.testing.assert_array_equal(loaded.predict(X_reg), reg.predict(X_reg))


def test_lbfgs_same_seed_same_model():
    a = GMNMClassifier(**LBFGS).fit(X_iris, y_iris)
    b = GMNMClassifier(**LBFGS).fit(X_iris, y_iris)
    np.testing.assert_array_equal(a.predict_proba(X_iris), b.predict_proba(X_iris))


def test_lbfgs_verbose_levels(capsys):
    GMNMRegressor(**{**LBFGS, "max_iter": 3}, verbose=2).fit(X_reg, y_reg)
    out = capsys.readouterr().out
    assert out.count("Iteration") == 3 and "loss = " in out
    GMNMRegressor(**{**LBFGS, "max_iter": 3}, verbose=1).fit(X_reg, y_reg)
    captured = capsys.readouterr()
    assert "3/3" in captured.err and "Iteration" not in captured.out


def test_lbfgs_uses_n_jobs_threads(monkeypatch):
    seen = []

    class Recording(HalfSquaredError):
        def forward(self, prediction, target):
            seen.append(torch.get_num_threads())
            return super().forward(prediction, target)

    monkeypatch.setattr(GMNMRegressor, "_criterion", lambda self: Recording())
    before = torch.get_num_threads()
    GMNMRegressor(**{**LBFGS, "max_iter": 3}, n_jobs=1).fit(X_reg, y_reg)
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before


class _NaNAfter(HalfSquaredError):
    """The squared error, NaN from the ``after``-th evaluation on."""

    def __init__(self, after):
        super().__init__()
        self.after = after
        self.calls = 0

    def forward(self, prediction, target):
        self.calls += 1
        loss = super().forward(prediction, target)
        return loss * torch.nan if self.calls > self.after else loss


def test_lbfgs_non_finite_loss_keeps_the_last_finite_iterate(monkeypatch):
    monkeypatch.setattr(GMNMRegressor, "_criterion", lambda self: _NaNAfter(6))
    with pytest.warns(RuntimeWarning, match="non-finite.*last finite iterate"):
        reg = GMNMRegressor(**LBFGS).fit(X_reg, y_reg)
    assert all(torch.isfinite(p).all() for p in reg.module_.parameters())
    assert np.isfinite(reg.loss_curve_).all() and reg.n_iter_ >= 1
    assert reg.score(X_reg, y_reg) > 0.5


def test_lbfgs_non_finite_warm_start_keeps_the_fitted_model(monkeypatch):
    reg = GMNMRegressor(**LBFGS, warm_start=True).fit(X_reg, y_reg)
    before = reg.predict(X_reg)
    monkeypatch.setattr(GMNMRegressor, "_criterion", lambda self: _NaNAfter(0))
    with pytest.warns(RuntimeWarning, match="last finite iterate"):
        reg.fit(X_reg, y_reg)
    np.testing.assert_array_equal(reg.predict(X_reg), before)


def test_lbfgs_keyboard_interrupt_keeps_the_last_iterate(monkeypatch):
    class InterruptAfter(HalfSquaredError):
        calls = 0

        def forward(self, prediction, target):
            InterruptAfter.calls += 1
            if InterruptAfter.calls > 8:
                raise KeyboardInterrupt
            return super().forward(prediction, target)

    monkeypatch.setattr(GMNMRegressor, "_criterion", lambda self: InterruptAfter())
    with pytest.warns(UserWarning, match="interrupted by user after .* iteration"):
        reg = GMNMRegressor(**LBFGS).fit(X_reg, y_reg)
    assert reg.n_iter_ >= 1
    assert reg.score(X_reg, y_reg) > 0.5
