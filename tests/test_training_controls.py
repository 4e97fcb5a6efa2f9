"""Training controls: early stopping, warm start, partial_fit, weights, progress,
callbacks, learning-rate schedules and interrupts."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from skorch.callbacks import Callback, LRScheduler

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

X_reg, y_reg = make_regression(n_samples=200, n_features=4, noise=1.0, random_state=0)
#: A target the linear term cannot fit alone: y_reg is linear, so the default
#: model fits it at once and then sees gradients of round-off size only.
y_curved = y_reg + 40 * np.sin(2 * X_reg[:, 0])
X_iris, y_iris = load_iris(return_X_y=True)
FAST = {"n_components": 8, "max_iter": 8, "random_state": 0}

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

NEW_PARAMETERS = {
    "learning_rate": "adaptive",
    "power_t": 0.3,
    "early_stopping": True,
    "validation_fraction": 0.2,
    "warm_start": True,
    "callbacks": [LRScheduler(policy="StepLR", step_size=2)],
}


class InterruptAt(Callback):
    """Raise KeyboardInterrupt at the end of epoch ``epoch``, as Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_new_parameters_survive_clone_and_grid_search(cls):
    params = dict(NEW_PARAMETERS)
    if cls is GMNMClassifier:
        params["class_weight"] = {0: 2.0, 1: 1.0, 2: 1.0}
    est = cls(**FAST, **params)
    cloned = clone(est)
    for name, value in params.items():
        if name == "callbacks":
            assert type(cloned.callbacks[0]) is LRScheduler
            assert cloned.callbacks[0].kwargs == {"step_size": 2}
        else:
            assert cloned.get_params()[name] == value
    X, y = (X_reg, y_reg) if cls is GMNMRegressor else (X_iris, y_iris)
    grid = {name: [value] for name, value in params.items()}
    grid["learning_rate"] = ["constant", "invscaling"]
    search = GridSearchCV(cls(**FAST), grid, cv=2).fit(X, y)
    for name, value in params.items():
        if name != "callbacks" and name != "learning_rate":
            assert search.best_estimator_.get_params()[name] == value
    assert search.best_params_["learning_rate"] in ("constant", "invscaling")


def test_early_stopping_records_scores_and_restores_the_best_weights():
    reg = GMNMRegressor(
        n_components=8,
        max_iter=200,
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_init=0.05,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X_reg, y_reg)
    assert reg.n_iter_ < 200
    assert len(reg.validation_scores_) == len(reg.loss_curve_) == reg.n_iter_
    # The data-driven start competes with the epochs (and wins here, with
    # this large learning rate): the best score is at least every epoch's.
    assert reg.best_validation_score_ >= max(reg.validation_scores_)
    assert reg.best_loss_ is None
    # Stopped once more than n_iter_no_change epochs brought no improvement
    # (best_epoch -1: the start).
    best = [i for i, s in enumerate(reg.validation_scores_)
            if s == reg.best_validation_score_]
    best_epoch = best[0] if best else -1
    assert reg.n_iter_ - 1 - best_epoch > 3
    # The model holds the best weights: re-scoring the same held-out rows
    # gives the best validation score.
    train, val = _mlp_split(len(y_reg), 0.1, 0, None)
    np.testing.assert_allclose(
        reg.score(X_reg[val], y_reg[val]), reg.best_validation_score_, atol=1e-4
    )


def _mlp_split(n, fraction, seed, stratify):
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    return train_test_split(
        np.arange(n), test_size=fraction, random_state=check_random_state(seed),
        stratify=stratify,
    )


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_early_stopping_split_is_stratified_for_the_classifier(cls, monkeypatch):
    from sklearn_gmnm import _base

    calls = []

    def recording_split(*arrays, **kwargs):
        calls.append(kwargs)
        return _base.__dict__["_original_split"](*arrays, **kwargs)

    monkeypatch.setitem(_base.__dict__, "_original_split", _base.train_test_split)
    monkeypatch.setattr(_base, "train_test_split", recording_split)
    y = np.r_[np.zeros(90, int), np.ones(30, int)]
    X = np.random.RandomState(0).normal(size=(120, 3)) + y[:, None]
    est = cls(
        n_components=4, max_iter=5, early_stopping=True, validation_fraction=0.25,
        random_state=0,
    ).fit(X, y)
    (kwargs,) = calls
    assert kwargs["test_size"] == 0.25
    if cls is GMNMClassifier:
        np.testing.assert_array_equal(kwargs["stratify"], y)
        # the mean log-likelihood of the held-out labels
        assert all(s < 0 for s in est.validation_scores_)
    else:
        assert kwargs["stratify"] is None
    # Same random_state, same split and model.
    again = clone(est).fit(X, y)
    assert again.validation_scores_ == est.validation_scores_


def test_early_stopping_in_cross_val_score_splits_only_the_training_fold():
    seen = []

    class RecordRows(Callback):
        def on_train_begin(self, net, X=None, **kwargs):
            seen.append(len(X))

    reg = GMNMRegressor(
        **FAST, early_stopping=True, validation_fraction=0.25, callbacks=[RecordRows()]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cross_val_score(reg, X_reg, y_reg, cv=KFold(4))
    # Each training fold holds 150 rows; early stopping trains on 3/4 of them.
    assert seen == [112] * 4


def test_convergence_warning_when_max_iter_ends_training():
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        GMNMRegressor(n_components=8, max_iter=3, random_state=0).fit(X_reg, y_reg)
    reg = GMNMRegressor(n_components=8, max_iter=500, tol=1.0, n_iter_no_change=10,
                        early_stopping=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X_reg, y_reg)
    # With a large tol only the first epoch counts as an improvement (on an
    # infinite best loss); training stops once more than 10 epochs did not.
    assert reg.n_iter_ == 12
    assert reg.best_loss_ == min(reg.loss_curve_)


def test_warm_start_accumulates_and_continues():
    # n_iter_no_change above the 16 epochs: the stopping rule stays out.
    reg = GMNMRegressor(**FAST, warm_start=True, n_iter_no_change=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_reg, y_curved)
        first_curve = list(reg.loss_curve_)
        centers = reg.centers_.copy()
        reg.fit(X_reg, y_curved)
    assert reg.n_iter_ == 16 and len(reg.loss_curve_) == 16
    assert reg.loss_curve_[:8] == first_curve
    # Continued, not re-initialised: the second fit starts near where the
    # first ended, well below the first fit's first epoch.
    assert reg.loss_curve_[8] < first_curve[0]
    assert np.abs(reg.centers_ - centers).max() < 0.5
    cold = clone(reg).set_params(warm_start=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X_reg, y_curved).fit(X_reg, y_curved)
    assert cold.n_iter_ == 8


def test_warm_start_classifier_needs_the_same_classes():
    clf = GMNMClassifier(**FAST, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_iris, y_iris)
        with pytest.raises(ValueError, match="same classes"):
            clf.fit(X_iris[y_iris > 0], y_iris[y_iris > 0])


def test_partial_fit_regressor_runs_one_epoch_per_call():
    reg = GMNMRegressor(n_components=8, random_state=0)
    for start in range(0, 200, 50):
        reg.partial_fit(X_reg[start : start + 50], y_reg[start : start + 50])
    assert reg.n_iter_ == 4 and len(reg.loss_curve_) == 4
    assert reg.score(X_reg, y_reg) > 0.5
    with pytest.raises(ValueError, match="features"):
        reg.partial_fit(X_reg[:, :3], y_reg)
    with pytest.raises(ValueError, match="early_stopping"):
        GMNMRegressor(early_stopping=True).partial_fit(X_reg, y_reg)


def test_partial_fit_classifier_classes_handling():
    clf = GMNMClassifier(n_components=6, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_iris, y_iris)
    labels = np.array(["a", "b", "c"])[y_iris]
    # The first chunk holds only two of the three classes.
    first = y_iris < 2
    clf.partial_fit(X_iris[first], labels[first], classes=["c", "b", "a"])
    assert clf.classes_.tolist() == ["a", "b", "c"]
    assert clf.predict_proba(X_iris).shape == (150, 3)
    is_c = labels == "c"
    before = clf.predict_proba(X_iris[is_c])[:, 2].mean()
    for _ in range(5):
        clf.partial_fit(X_iris, labels, sample_weight=np.ones(150))
    assert clf.n_iter_ == 6
    assert clf.predict_proba(X_iris[is_c])[:, 2].mean() > before
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X_iris, labels, classes=["a", "b"])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X_iris[:2], ["a", "z"])
    with pytest.raises(ValueError, match="balanced"):
        GMNMClassifier(class_weight="balanced").partial_fit(
            X_iris, y_iris, classes=[0, 1, 2]
        )


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_zero_weight_rows_have_no_influence(cls):
    rng = np.random.RandomState(1)
    X, y = (X_reg, y_curved) if cls is GMNMRegressor else (X_iris, y_iris)
    # Appended rows: far-off inputs and wild targets, all with weight 0.
    X_noise = rng.normal(10, 5, size=(40, X.shape[1]))
    y_noise = rng.permutation(np.resize(y, 40)) * (7 if cls is GMNMRegressor else 1)
    X_all, y_all = np.vstack([X, X_noise]), np.r_[y, y_noise]
    w = np.r_[np.ones(len(y)), np.zeros(40)]
    # (without early stopping, whose split would draw other rows)
    params = {**FAST, "batch_size": 500, "early_stopping": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = cls(**params).fit(X_all, y_all, sample_weight=w)
        reference = cls(**params).fit(X, y)
    method = "predict" if cls is GMNMRegressor else "predict_proba"
    expected = getattr(reference, method)(X)
    # (equal up to float32 round-off, on the scale of the outputs)
    np.testing.assert_allclose(
        getattr(weighted, method)(X),
        expected,
        rtol=1e-3,
        atol=1e-5 * np.abs(expected).max(),
    )
    np.testing.assert_allclose(weighted.centers_, reference.centers_, atol=1e-3)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_integer_weights_are_close_to_repeated_rows(covariance_type):
    rng = np.random.RandomState(0)
    w = rng.randint(0, 4, size=len(y_reg))
    params = {**FAST, "covariance_type": covariance_type, "batch_size": 1000,
              "early_stopping": False}
    weighted = GMNMRegressor(**params).fit(X_reg, y_reg, sample_weight=w)
    repeated = GMNMRegressor(**params).fit(X_reg.repeat(w, 0), y_reg.repeat(w))
    np.testing.assert_allclose(weighted._x_mean, repeated._x_mean)
    np.testing.assert_allclose(weighted._y_scale, repeated._y_scale)
    scale = np.abs(y_reg).max()
    np.testing.assert_allclose(
        weighted.predict(X_reg), repeated.predict(X_reg), atol=0.02 * scale
    )


def test_sample_weight_changes_the_fit_and_rejects_negative_weights():
    # Every row twice, with opposite targets: the weights decide which wins.
    X2, y2 = np.vstack([X_reg, X_reg]), np.r_[y_reg, -y_reg]
    w = np.r_[np.ones(len(y_reg)), np.full(len(y_reg), 0.01)]
    # (no early stopping: its split would break the symmetry of the pairs)
    plain = GMNMRegressor(**FAST, early_stopping=False).fit(X2, y2)
    weighted = GMNMRegressor(**FAST, early_stopping=False).fit(X2, y2, sample_weight=w)
    assert np.corrcoef(weighted.predict(X_reg), y_reg)[0, 1] > 0.9
    assert abs(np.corrcoef(plain.predict(X_reg), y_reg)[0, 1]) < 0.5
    with pytest.raises(ValueError, match="(?i)negative"):
        GMNMRegressor(**FAST).fit(X_reg, y_reg, sample_weight=-np.ones(200))
    with pytest.raises(ValueError, match="(?i)negative"):
        GMNMRegressor(**FAST).partial_fit(X_reg, y_reg, sample_weight=-np.ones(200))


def test_class_weight_shifts_predictions_towards_the_weighted_class():
    mask = y_iris > 0  # versicolor vs virginica overlap a little
    X, y = X_iris[mask][:, :2], y_iris[mask]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = GMNMClassifier(**FAST).fit(X, y)
        heavy = GMNMClassifier(**FAST, class_weight={1: 20.0}).fit(X, y)
        balanced = GMNMClassifier(**FAST, class_weight="balanced").fit(X, y)
        explicit = GMNMClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y)))
    assert (heavy.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    # Balanced classes: 'balanced' gives every row weight 1.
    np.testing.assert_allclose(balanced.predict_proba(X), explicit.predict_proba(X))


def test_verbose_levels(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GMNMRegressor(**FAST).fit(X_reg, y_reg)
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == ""
        GMNMRegressor(**FAST, verbose=1, early_stopping=True).fit(X_reg, y_reg)
        captured = capsys.readouterr()
        assert "8/8" in captured.err and "valid_score=" in captured.err
        assert "loss=" in captured.err
        GMNMRegressor(**FAST, verbose=2).fit(X_reg, y_reg)
        lines = capsys.readouterr().out.strip().splitlines()
    assert "train_loss" in lines[0]
    assert len(lines) == 2 + 8  # header, rule, one line per epoch


def test_learning_rate_schedules():
    recorded = {}

    class RecordLR(Callback):
        def __init__(self, name):
            self.name = name

        def on_epoch_end(self, net, **kwargs):
            lr = net.optimizer_.param_groups[0]["lr"]
            recorded.setdefault(self.name, []).append(lr)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for schedule in ("constant", "invscaling"):
            GMNMRegressor(
                **FAST, learning_rate=schedule, callbacks=[RecordLR(schedule)]
            ).fit(X_reg, y_reg)
        # 'adaptive' with a tol no epoch can meet: the rate drops by 5 after
        # each n_iter_no_change + 1 epochs instead of stopping.
        reg = GMNMRegressor(
            n_components=8, max_iter=12, tol=10.0, n_iter_no_change=2,
            learning_rate="adaptive", callbacks=[RecordLR("adaptive")], random_state=0,
        ).fit(X_reg, y_reg)
    assert recorded["constant"] == [3e-3] * 8
    np.testing.assert_allclose(
        recorded["invscaling"], 3e-3 / np.arange(2, 10) ** 0.5, rtol=1e-6
    )
    assert reg.n_iter_ == 12
    assert recorded["adaptive"][0] == 3e-3 and recorded["adaptive"][-1] < 3e-4


def test_user_callbacks_run_and_are_not_modified():
    counter = {"epochs": 0}

    class Count(Callback):
        def on_epoch_end(self, net, **kwargs):
            counter["epochs"] += 1

    cb = Count()
    reg = GMNMRegressor(**FAST, callbacks=[("count", cb)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_reg, y_reg)
    assert counter["epochs"] == 8
    assert reg.callbacks[0][1] is cb


@pytest.mark.parametrize("early_stopping", [False, True])
def test_keyboard_interrupt_warns_and_leaves_a_usable_model(early_stopping):
    reg = GMNMRegressor(
        **{**FAST, "max_iter": 50},
        early_stopping=early_stopping,
        callbacks=[InterruptAt(3)],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg.fit(X_reg, y_reg)
    messages = [str(w.message) for w in caught]
    assert any("interrupted by user" in m for m in messages)
    assert not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert reg.n_iter_ == 3 and len(reg.loss_curve_) == 3
    assert reg.predict(X_reg).shape == y_reg.shape
    assert reg.score(X_reg, y_reg) > 0.5


def test_early_stopping_is_not_reported_as_an_interrupt():
    from skorch.callbacks import EarlyStopping

    reg = GMNMRegressor(
        n_components=8, max_iter=100, tol=0.0, random_state=0,
        callbacks=[EarlyStopping(monitor="train_loss", patience=1, threshold=10.0,
                                 threshold_mode="abs", sink=lambda *a: None)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.fit(X_reg, y_reg)
    assert reg.n_iter_ == 2


class RecordSteps(Callback):
    """Record the weights after every training step (the optimiser's own)."""

    def __init__(self, sink):
        self.sink = sink  # key of _STEPS (the estimator deep-copies callbacks)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            _STEPS[self.sink].append(
                [p.detach().double().clone() for p in net.module_.parameters()]
            )


_STEPS: dict = {}


def _averaged(steps, start, warmup=10.0, min_rate=0.01):
    average = [p.clone() for p in start]
    for t, weights in enumerate(steps, 1):
        rate = max((warmup - 1.0) / (warmup + t), min_rate)
        average = [a + rate * (w - a) for a, w in zip(average, weights, strict=True)]
    return average


@pytest.mark.parametrize("average", [True, False])
def test_average_keeps_the_moving_average_of_the_steps(average):
    _STEPS[average] = []
    start = GMNMRegressor(
        n_components=8, max_iter=1, learning_rate_init=1e-300, random_state=0,
        early_stopping=False, batch_size=16,
    ).fit(X_reg, y_curved)
    reg = GMNMRegressor(
        n_components=8, max_iter=4, random_state=0, early_stopping=False,
        batch_size=16, average=average, callbacks=[RecordSteps(average)],
    ).fit(X_reg, y_curved)
    steps = _STEPS.pop(average)
    assert len(steps) == 4 * 13
    kept = [p.detach().double() for p in reg.module_.parameters()]
    initial = [p.detach().double() for p in start.module_.parameters()]
    expected = _averaged(steps, initial) if average else steps[-1]
    for got, want in zip(kept, expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    # The average is not the last step: the test can tell them apart.
    assert not np.allclose(kept[0].numpy(), (steps[-1] if average else
                           _averaged(steps, initial))[0].numpy(), atol=1e-6)


class RecordEpochs(Callback):
    """Record the weights that the validation score saw at each epoch's end."""

    def on_epoch_end(self, net, **kwargs):
        _STEPS["epochs"].append(
            [p.detach().double().clone() for p in net.module_.parameters()]
        )


def test_average_is_what_early_stopping_scores_and_keeps():
    _STEPS["steps"], _STEPS["epochs"] = [], []
    reg = GMNMRegressor(
        n_components=8, max_iter=30, random_state=0, early_stopping=True,
        callbacks=[RecordSteps("steps"), RecordEpochs()],
    ).fit(X_reg, y_curved)
    steps, epochs = _STEPS.pop("steps"), _STEPS.pop("epochs")
    assert reg.average and len(epochs) == reg.n_iter_ == len(reg.validation_scores_)
    # At an epoch's end (where the score is taken) the weights are the
    # average of the steps so far, not the last step.
    per_epoch = len(steps) // len(epochs)
    last = steps[per_epoch - 1]
    assert not np.allclose(epochs[0][0].numpy(), last[0].numpy(), atol=1e-6)
    # The fitted model holds the weights of the best-scored epoch.
    best = int(np.argmax(reg.validation_scores_))
    assert reg.validation_scores_[best] == reg.best_validation_score_
    for got, want in zip(reg.module_.parameters(), epochs[best], strict=True):
        np.testing.assert_allclose(got.detach().double().numpy(), want.numpy())


def test_partial_fit_does_not_average():
    _STEPS["partial"] = []
    reg = GMNMRegressor(
        n_components=8, random_state=0, batch_size=50,
        callbacks=[RecordSteps("partial")],
    )
    reg.partial_fit(X_reg, y_curved)
    steps = _STEPS.pop("partial")
    assert len(steps) == 4
    for got, want in zip(reg.module_.parameters(), steps[-1], strict=True):
        np.testing.assert_allclose(got.detach().double().numpy(), want.numpy())
