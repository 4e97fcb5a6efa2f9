"""Thread control of the estimators: ``n_jobs`` and the caller's settings."""

import numpy as np
import pytest
import torch
from joblib import Parallel, cpu_count, delayed
from sklearn.datasets import make_classification, make_regression
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

import sklearn_gmnm._solvers
from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._parallel import effective_n_threads, limit_threads

X_reg, y_reg = make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)
X_clf, y_clf = make_classification(n_samples=120, n_features=4, random_state=0)
FAST = {"n_components": 6, "max_iter": 3, "random_state": 0}


class ThreadRecorder(Callback):
    """Records ``torch.get_num_threads()`` at each epoch of a fit."""

    def __init__(self, seen: list) -> None:
        self.seen = seen

    def on_epoch_end(self, net, **kwargs) -> None:
        self.seen.append(torch.get_num_threads())


def _record_threads(monkeypatch: pytest.MonkeyPatch) -> list:
    """Make every fit record the torch thread count of its epochs."""
    seen: list = []

    class RecordingNet(sklearn_gmnm._solvers.GMNMNet):
        def get_default_callbacks(self):
            return [*super().get_default_callbacks(), ("threads", ThreadRecorder(seen))]

    monkeypatch.setattr(sklearn_gmnm._solvers, "GMNMNet", RecordingNet)
    return seen


@pytest.fixture
def caller_threads():
    """Give the test process 2 torch threads, and restore its setting after."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(before)


@pytest.mark.parametrize("Estimator, X, y", [
    (GMNMRegressor, X_reg, y_reg),
    (GMNMClassifier, X_clf, y_clf),
])
def test_n_jobs_is_used_during_fit_and_the_caller_setting_restored(
    Estimator, X, y, caller_threads, monkeypatch
):
    seen = _record_threads(monkeypatch)
    est = Estimator(n_jobs=1, **FAST).fit(X, y)
    assert seen == [1] * est.n_iter_
    assert torch.get_num_threads() == caller_threads
    est.predict(X)
    assert torch.get_num_threads() == caller_threads


def test_default_adam_fit_trains_on_one_thread(caller_threads, monkeypatch):
    # Mini-batches are too small to share between threads (the threads stall
    # on a busy machine); the caller's setting is restored afterwards.
    seen = _record_threads(monkeypatch)
    reg = GMNMRegressor(**FAST).fit(X_reg, y_reg)
    assert reg.n_jobs is None
    assert seen == [1] * reg.n_iter_
    assert torch.get_num_threads() == caller_threads


def test_default_lbfgs_fit_leaves_the_thread_setting_alone(
    caller_threads, monkeypatch
):
    seen = []
    objective = sklearn_gmnm._solvers.weighted_mean_loss

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return objective(*args, **kwargs)

    monkeypatch.setattr(sklearn_gmnm._solvers, "weighted_mean_loss", recording)
    GMNMRegressor(solver="lbfgs", **FAST).fit(X_reg, y_reg)
    assert seen and set(seen) == {caller_threads}
    assert torch.get_num_threads() == caller_threads


def test_default_n_jobs_respects_threadpool_limits(caller_threads, monkeypatch):
    # torch's OpenMP pool is one of the pools threadpoolctl limits.
    seen = _record_threads(monkeypatch)
    with threadpool_limits(limits=1):
        GMNMRegressor(**FAST).fit(X_reg, y_reg)
    assert set(seen) == {1}
    assert torch.get_num_threads() == caller_threads


def _blas_threads() -> set:
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info()
            if pool["user_api"] == "blas"}


@pytest.mark.parametrize("n_jobs, expected", [(None, {1}), (2, {2})])
def test_start_runs_on_one_blas_thread_by_default(monkeypatch, n_jobs, expected):
    # The k-means and ridge start's linear algebra is small: one BLAS thread
    # with n_jobs=None (an explicit n_jobs is honoured); the caller's BLAS
    # setting is back afterwards.
    import sklearn_gmnm._base as base

    seen = []
    initialize = base.BaseGMNM._initialize_module

    def recording(self, *args, **kwargs):
        seen.append(_blas_threads())
        return initialize(self, *args, **kwargs)

    monkeypatch.setattr(base.BaseGMNM, "_initialize_module", recording)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        GMNMRegressor(n_jobs=n_jobs, **FAST).fit(X_reg, y_reg)
        assert _blas_threads() == before
    assert seen == [expected]


def test_caller_setting_restored_when_fit_fails(caller_threads):
    # A single class is detected inside fit, under the n_jobs setting.
    with pytest.raises(ValueError, match="at least 2 classes"):
        GMNMClassifier(n_jobs=1, **FAST).fit(X_clf, np.zeros(len(y_clf)))
    assert torch.get_num_threads() == caller_threads
    with pytest.raises(RuntimeError, match="boom"), limit_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == caller_threads


def test_negative_n_jobs_counts_back_from_the_cpus():
    assert effective_n_threads(None) is None
    assert effective_n_threads(3) == 3
    assert effective_n_threads(-1) == cpu_count()
    assert effective_n_threads(-cpu_count() - 5) == 1


def test_zero_n_jobs_is_rejected():
    with pytest.raises(ValueError, match="n_jobs"):
        GMNMRegressor(n_jobs=0, **FAST).fit(X_reg, y_reg)


def _threads_seen_in_a_worker() -> tuple[int, list]:
    import sklearn_gmnm._solvers as solvers

    seen: list = []

    class RecordingNet(solvers.GMNMNet):
        def get_default_callbacks(self):
            return [*super().get_default_callbacks(), ("threads", ThreadRecorder(seen))]

    original, solvers.GMNMNet = solvers.GMNMNet, RecordingNet
    try:
        GMNMRegressor(**FAST).fit(X_reg, y_reg)
    finally:
        solvers.GMNMNet = original
    return cpu_count(), seen


def test_joblib_workers_do_not_multiply_threads():
    # loky gives each of n workers cpu_count // n threads; a fit keeps to it.
    results = Parallel(n_jobs=2, backend="loky")(
        delayed(_threads_seen_in_a_worker)() for _ in range(2)
    )
    for n_cpus, seen in results:
        assert seen and set(seen) == {max(1, n_cpus // 2)}


def _record_predict_threads(est) -> list:
    seen: list = []
    # (the inference form that predict runs)
    est._predict_module().register_forward_hook(
        lambda *args: seen.append(torch.get_num_threads())
    )
    return seen


def test_default_predict_runs_small_inputs_on_one_thread(caller_threads):
    reg = GMNMRegressor(**FAST).fit(X_reg, y_reg)
    seen = _record_predict_threads(reg)
    reg.predict(X_reg)
    assert seen == [1]
    assert torch.get_num_threads() == caller_threads


def test_predict_honours_an_explicit_n_jobs(caller_threads):
    reg = GMNMRegressor(n_jobs=2, **FAST).fit(X_reg, y_reg)
    seen = _record_predict_threads(reg)
    reg.predict(X_reg)
    reg.set_params(n_jobs=1).predict(X_reg)
    assert seen == [2, 1]
    assert torch.get_num_threads() == caller_threads


def test_default_predict_threads_of_large_inputs(monkeypatch):
    from sklearn_gmnm import _parallel

    monkeypatch.setattr(_parallel, "cpu_count", lambda: 16)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(12)
        # Half of the CPUs at most, above the threshold only.
        assert _parallel.predict_threads(None, _parallel.THREADED_PREDICT_ROWS) == 8
        assert _parallel.predict_threads(None, 10) == 1
        torch.set_num_threads(3)  # a caller's lower limit is kept
        assert _parallel.predict_threads(None, 10**7) == 3
        assert _parallel.predict_threads(-1, 10) == 16
    finally:
        torch.set_num_threads(before)
