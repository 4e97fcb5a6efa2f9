"""Numerical safety: unscaled data, divergent training, extreme inputs, memory."""

import copy
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skorch.callbacks import PassthroughScoring
from skorch.history import History

import sklearn_gmnm._base as base
import sklearn_gmnm._solvers as _solvers
from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._engine import EpochTrainLoss, NonFiniteGuard
from sklearn_gmnm._export import GMNMInference
from sklearn_gmnm._loss import HalfSquaredError
from sklearn_gmnm.nn import GMNM

rng = np.random.RandomState(0)
X = rng.uniform(-2, 2, size=(300, 2))
y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1])
labels = (y > 0).astype(int)
SETTINGS = {"n_components": 16, "max_iter": 15, "random_state": 0}


def _parameters_finite(est) -> bool:
    return all(torch.isfinite(p).all() for p in est.module_.parameters())


@pytest.fixture(scope="module")
def reference_score():
    return GMNMRegressor(**SETTINGS).fit(X, y).score(X, y)


@pytest.mark.parametrize(
    ("x_scale", "x_offset", "y_scale"),
    [(1e9, 0.0, 1.0), (1e-9, 0.0, 1.0), (1.0, 1e9, 1.0), (1.0, 0.0, 1e9),
     (1.0, 0.0, 1e-9), (1e9, 1e12, 1e-9), (1e-9, 1e-6, 1e9)],
)
def test_unscaled_data_trains_as_well_as_scaled(
    reference_score, x_scale, x_offset, y_scale
):
    # Inputs and targets are standardised in float64 before the float32 cast,
    # so any magnitude trains like unit-scale data, without StandardScaler.
    Xu = X * x_scale + x_offset
    yu = y * y_scale + 5 * y_scale
    reg = GMNMRegressor(**SETTINGS).fit(Xu, yu)
    assert reference_score > 0.8
    assert reg.score(Xu, yu) == pytest.approx(reference_score, abs=1e-3)
    assert _parameters_finite(reg)


@pytest.mark.parametrize(("x_scale", "x_offset"), [(1e9, 1e12), (1e-9, 0.0)])
def test_unscaled_features_classification(x_scale, x_offset):
    reference = GMNMClassifier(**SETTINGS).fit(X, labels).predict_proba(X)
    Xu = X * x_scale + x_offset
    proba = GMNMClassifier(**SETTINGS).fit(Xu, labels).predict_proba(Xu)
    np.testing.assert_allclose(proba, reference, atol=1e-3)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("learning_rate_init", [1e3, 1e30])
def test_huge_learning_rate_leaves_finite_weights(covariance_type, learning_rate_init):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reg = GMNMRegressor(
            n_components=8,
            covariance_type=covariance_type,
            learning_rate_init=learning_rate_init,
            max_iter=5,
            random_state=0,
        ).fit(X, y)
    assert _parameters_finite(reg)
    assert np.isfinite(reg.loss_curve_).all()
    assert np.isfinite(reg.predict(X)).all()


class _NaNOnCalls(torch.nn.Module):
    """Squared error that goes wrong on the given (0-based) calls: its value
    is NaN (``kind='loss'``), or its value stays finite and its gradient is
    NaN, so that the step leaves the weights non-finite (``kind='step'``)."""

    def __init__(self, bad_calls, kind="loss"):
        super().__init__()
        self.bad_calls = set(bad_calls)
        self.kind = kind
        self.calls = 0

    def forward(self, prediction, target):
        loss = HalfSquaredError()(prediction, target)
        if self.calls in self.bad_calls:
            if self.kind == "loss":
                loss = loss * torch.nan
            else:  # adds 0, with the gradient inf * 0 = NaN
                loss = loss + (prediction - prediction.detach()).abs().sqrt()
        self.calls += 1
        return loss


class _FlakyRegressor(GMNMRegressor):
    bad_calls = frozenset()

    def _criterion(self):
        return _NaNOnCalls(self.bad_calls)


def test_non_finite_loss_restores_weights_and_lowers_the_step():
    _FlakyRegressor.bad_calls = frozenset({3})
    with pytest.warns(RuntimeWarning, match="non-finite.*lowered the learning rate"):
        reg = _FlakyRegressor(batch_size=100, **SETTINGS).fit(X, y)
    assert _parameters_finite(reg)
    assert np.isfinite(reg.loss_curve_).all()
    assert np.isfinite(reg.predict(X)).all()
    assert reg.score(X, y) > 0.5


class _NaNStepRegressor(GMNMRegressor):
    def _criterion(self):
        return _NaNOnCalls({3}, kind="step")


def test_non_finite_step_does_not_leave_a_non_finite_average():
    with pytest.warns(RuntimeWarning, match="non-finite.*lowered the learning rate"):
        reg = _NaNStepRegressor(
            batch_size=100, early_stopping=False, **SETTINGS
        ).fit(X, y)
    assert reg.average and _parameters_finite(reg)
    assert np.isfinite(reg.predict(X)).all()
    assert reg.score(X, y) > 0.5


def test_non_finite_guard_restores_its_snapshot_exactly_and_unaliased():
    torch.manual_seed(0)
    module = GMNM(3, 1, n_components=4, linear_term=True)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.1, fused=True)
    x = torch.randn(32, 3)

    def step():
        optimizer.zero_grad()
        module(x).square().mean().backward()
        optimizer.step()

    net = SimpleNamespace(module_=module, optimizer_=optimizer)
    guard = NonFiniteGuard(factor=0.5)
    step()
    guard.on_train_begin(net)
    step()
    guard.on_epoch_end(net)  # a finite epoch: the snapshot moves here
    saved = copy.deepcopy((module.state_dict(), optimizer.state_dict()["state"]))
    for _ in range(2):  # the second restore must not see the first's steps
        step()
        step()
        with pytest.warns(RuntimeWarning, match="restored"):
            guard._restore(net, 3, "test")
        for key, value in saved[0].items():
            torch.testing.assert_close(module.state_dict()[key], value, rtol=0, atol=0)
        for i, state in saved[1].items():
            for key, value in state.items():
                torch.testing.assert_close(
                    optimizer.state_dict()["state"][i][key], value, rtol=0, atol=0
                )
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**2)


def test_epoch_train_loss_records_what_skorchs_default_records():
    rng = np.random.RandomState(0)
    histories = []
    for callback in (EpochTrainLoss(), PassthroughScoring("train_loss", on_train=True)):
        callback.initialize()
        history = History()
        for epoch in range(4):
            history.new_epoch()
            for size in (256, 256, 57):
                history.new_batch()
                history.record_batch("train_loss", 1.0 / (epoch + 1) + rng.rand())
                history.record_batch("train_batch_size", size)
            history.new_batch()  # a batch without a loss (another callback's)
            callback.on_epoch_end(SimpleNamespace(history=history))
        histories.append(history)
        rng = np.random.RandomState(0)
    ours, skorchs = histories
    assert ours[:, "train_loss"] == skorchs[:, "train_loss"]
    assert ours[:, "train_loss_best"] == skorchs[:, "train_loss_best"]
    assert not all(ours[:, "train_loss_best"])  # the flag is not trivially set


def test_persistent_divergence_stops_with_a_clear_error():
    _FlakyRegressor.bad_calls = frozenset(range(10_000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="Training diverged.*learning_rate_init"):
            _FlakyRegressor(batch_size=100, **SETTINGS).fit(X, y)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_predict_is_finite_for_extreme_finite_inputs(covariance_type):
    reg = GMNMRegressor(
        n_components=8, covariance_type=covariance_type, max_iter=3, random_state=0
    ).fit(X, y)
    big = np.finfo(np.float64).max / 10
    X_extreme = np.array(
        [[big, 0.0], [-big, big], [1e30, -1e30], [1e-300, 0.0], [5e-324, 1e20]]
    )
    assert np.isfinite(reg.predict(X_extreme)).all()
    # Far from the data every Gaussian is zero: without the linear term the
    # prediction is the bias (with the standard input map; the robust one
    # clips the Gaussians' inputs, so that far rows meet the boundary's).
    pure = GMNMRegressor(
        n_components=8,
        covariance_type=covariance_type,
        linear_term=False,
        input_scaling="standard",
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    pred = pure.predict(X_extreme)
    far = pure.intercept_[0] * pure._y_scale[0] + pure._y_mean[0]
    np.testing.assert_allclose(pred[:3], far, rtol=1e-5)
    clf = GMNMClassifier(n_components=8, covariance_type=covariance_type,
                         max_iter=3, random_state=0).fit(X, labels)
    assert np.isfinite(clf.predict_proba(X_extreme)).all()


def _record_forward_rows(monkeypatch):
    """Make the forward of predict's inference form append the rows of each
    call to the returned list."""
    seen = []
    forward = GMNMInference.forward

    def spy(module, xb):
        seen.append(xb.shape[0])
        return forward(module, xb)

    monkeypatch.setattr(GMNMInference, "forward", spy)
    return seen


def test_predict_works_in_bounded_chunks(monkeypatch):
    reg = GMNMRegressor(n_components=8, max_iter=3, random_state=0).fit(X, y)
    expected = reg.predict(X)
    # A small budget forces many chunks; the rows each forward sees stay
    # within the bound and the result does not change.
    monkeypatch.setattr(base, "_PREDICT_BUDGET", 8 * 2 * 7)
    assert reg._predict_chunk_rows() == 7
    seen = _record_forward_rows(monkeypatch)
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-5, atol=1e-6)
    assert max(seen) == 7 and sum(seen) == X.shape[0]


def test_predict_on_a_million_rows_uses_bounded_chunks(monkeypatch):
    reg = GMNMRegressor(n_components=8, max_iter=2, random_state=0).fit(X, y)
    chunk = reg._predict_chunk_rows()
    module = reg.module_
    assert chunk * module.n_components * module.rank <= base._PREDICT_BUDGET
    # A million identical rows as a broadcast view: no million-row copy of X.
    X_big = np.broadcast_to(X[:1], (1_000_000, 2))
    seen = _record_forward_rows(monkeypatch)
    pred = reg.predict(X_big)
    assert pred.shape == (1_000_000,)
    assert max(seen) <= chunk and sum(seen) == 1_000_000
    np.testing.assert_allclose(pred, reg.predict(X[:1])[0], rtol=1e-6)


def test_cuda_out_of_memory_in_fit_names_the_setting_to_lower(monkeypatch):
    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(_solvers.GMNMNet, "partial_fit", oom)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="lower batch_size"):
        GMNMRegressor(**SETTINGS).fit(X, y)


def test_cuda_out_of_memory_in_predict_names_the_remedy(monkeypatch):
    reg = GMNMRegressor(**SETTINGS).fit(X, y)

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(GMNMInference, "forward", oom)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="smaller slices of X"):
        reg.predict(X)


@pytest.mark.parametrize("weighted", [False, True])
def test_validation_r2_is_r2_score(weighted):
    # The early-stopping score of the regressor is r2_score's definition,
    # constant outputs included (exactly predicted: 1; otherwise: 0).
    from sklearn.metrics import r2_score

    from sklearn_gmnm._regressor import _r2_scorer

    gen = np.random.RandomState(3)
    targets = gen.randn(40, 4)
    targets[:, 2] = 1.5
    targets[:, 3] = -2.0
    outputs = targets + 0.3 * gen.randn(40, 4)
    outputs[:, 3] = -2.0
    w = gen.uniform(0.1, 2.0, 40) if weighted else None
    expected = r2_score(targets, outputs, sample_weight=w)
    score = _r2_scorer(targets, w)
    assert score(torch.as_tensor(outputs)) == pytest.approx(expected, rel=1e-12)
    assert score(torch.as_tensor(targets)) == 1.0


@pytest.mark.parametrize("weighted", [False, True])
def test_validation_d2_is_the_poisson_d2_score(weighted):
    # The early-stopping score of loss='poisson' is scikit-learn's D^2 of the
    # Poisson deviance (d2_tweedie_score with power=1), from log-means, per
    # output then averaged; a constant all-zero output scores 0.
    from sklearn.metrics import d2_tweedie_score

    from sklearn_gmnm._regressor import _d2_poisson_scorer

    gen = np.random.RandomState(4)
    targets = gen.poisson(3.0, size=(50, 3)).astype(float)
    targets[:, 2] = 0.0
    log_mean = np.log(targets + 1.0) + 0.2 * gen.randn(50, 3)
    w = gen.uniform(0.1, 2.0, 50) if weighted else None
    score = _d2_poisson_scorer(targets, w)
    expected = [
        d2_tweedie_score(targets[:, j], np.exp(log_mean[:, j]), sample_weight=w,
                         power=1)
        for j in range(2)
    ]
    got = score(torch.as_tensor(log_mean))
    assert got == pytest.approx((sum(expected) + 0.0) / 3, rel=1e-10)
    # The scorer keeps no state between calls.
    assert score(torch.as_tensor(log_mean)) == got


@pytest.mark.parametrize("multilabel", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_validation_score_of_the_classifier_is_minus_the_log_loss(multilabel, weighted):
    # The classifier's early-stopping score is the (weighted) mean
    # log-likelihood of the held-out labels: minus scikit-learn's log_loss
    # (for multilabel, averaged over the labels).
    from scipy.special import expit, softmax
    from sklearn.metrics import log_loss

    gen = np.random.RandomState(5)
    n, k = 30, 4
    outputs = 2.0 * gen.randn(n, k)
    w = gen.uniform(0.1, 2.0, n) if weighted else None
    clf = GMNMClassifier()
    clf._multilabel = multilabel  # what fit records
    if multilabel:
        targets = gen.randint(0, 2, size=(n, k))
        p = expit(outputs)
        expected = -np.mean(
            [log_loss(targets[:, j], p[:, j], sample_weight=w) for j in range(k)]
        )
    else:
        targets = gen.randint(0, k, size=n)
        expected = -log_loss(targets, softmax(outputs, axis=1), sample_weight=w,
                             labels=np.arange(k))
    score = clf._validation_scorer(targets, w)
    assert score(torch.as_tensor(outputs)) == pytest.approx(expected, rel=1e-10)
