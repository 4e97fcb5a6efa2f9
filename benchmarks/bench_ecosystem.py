"""Ecosystem battery: 44 everyday uses of an estimator, for GMNM and for MLP.

Each combination puts an estimator into one thing a user does with a
scikit-learn model (a pipeline, a search, a meta-estimator, a plot, a file
format, a data frame library, Dask, ONNX, ...) and checks a sanity assertion
that could fail (finite predictions of the right shape, a score better than
a dummy model's, identical predictions after a reload, ...). It runs once
with ``GMNMRegressor`` / ``GMNMClassifier`` and once with scikit-learn's
``MLPRegressor`` / ``MLPClassifier`` on the same data, with small budgets
(GMNM ``max_iter=5``, MLP ``max_iter=50``, both ``random_state=0``) and small
data (a few hundred rows), and prints a markdown table: combination | GMNM |
MLP | note, then "GMNM passes X of 44, MLP Y of 44" and, for each failure, the
exception with the innermost frame of ``sklearn_gmnm`` it came through.

A failure is recorded, not worked around: the cell says ``FAIL`` and the note
gives the exception's type and the first line of its message.
``ConvergenceWarning`` (expected with these budgets) is counted, not failed
on. A combination whose optional package (polars, dask_ml, skops, skl2onnx,
onnxruntime, matplotlib) is missing is marked skipped. The exit status is 1
when GMNM fails a combination that MLP passes, else 0.

Usage::

    python benchmarks/bench_ecosystem.py
    python benchmarks/bench_ecosystem.py --out /tmp/ecosystem.md
    python benchmarks/bench_ecosystem.py --only grid_search skops_roundtrip
    python benchmarks/bench_ecosystem.py --list
"""

from __future__ import annotations

import argparse
import functools
import importlib
import pickle
import platform
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The checkout's package is benchmarked, whatever is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import sklearn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_diabetes,
    load_iris,
    make_multilabel_classification,
    make_regression,
)
from sklearn.dummy import DummyClassifier, DummyRegressor  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

from sklearn_gmnm import GMNMClassifier, GMNMRegressor  # noqa: E402

#: Small training budgets: the battery checks integration, not accuracy.
GMNM_BUDGET: dict[str, Any] = {"max_iter": 5, "random_state": 0}
MLP_BUDGET: dict[str, Any] = {"max_iter": 50, "random_state": 0}

EstimatorFactory = Callable[..., Any]


# -- estimators ---------------------------------------------------------------
def make_gmnm(task: str, **params: Any) -> Any:
    """A GMNM regressor (``task='regression'``) or classifier, small budget."""
    cls = GMNMRegressor if task == "regression" else GMNMClassifier
    return cls(**{**GMNM_BUDGET, **params})


def make_mlp(task: str, **params: Any) -> Any:
    """scikit-learn's MLP regressor or classifier with a small budget."""
    cls = MLPRegressor if task == "regression" else MLPClassifier
    return cls(**{**MLP_BUDGET, **params})


ESTIMATORS: dict[str, EstimatorFactory] = {"GMNM": make_gmnm, "MLP": make_mlp}


# -- data ---------------------------------------------------------------------
@functools.cache
def _cached_data(task: str) -> tuple:
    if task == "regression":
        X, y, coef = make_regression(
            n_samples=300, n_features=8, n_informative=5, noise=10.0, coef=True,
            random_state=0,
        )
        return X, (y - y.mean()) / y.std(), coef
    if task == "binary":
        X, y = load_breast_cancer(return_X_y=True)
        return StandardScaler().fit_transform(X), y, None
    if task == "multiclass":
        X, y = load_iris(return_X_y=True)
        return StandardScaler().fit_transform(X), y, None
    if task == "multilabel":
        X, Y = make_multilabel_classification(
            n_samples=300, n_features=10, n_classes=4, random_state=0
        )
        return StandardScaler().fit_transform(X), Y, None
    if task == "regression2":
        X, Y = make_regression(
            n_samples=300, n_features=8, n_informative=5, n_targets=2,
            noise=10.0, random_state=1,
        )
        return X, (Y - Y.mean(0)) / Y.std(0), None
    raise ValueError(f"unknown task {task!r}")


def load(task: str) -> tuple[np.ndarray, np.ndarray]:
    """Standardised features and targets of ``task`` (fresh copies).

    ``'regression'``: 300 rows of ``make_regression`` (8 features, 5
    informative, unit-variance target); ``'binary'``: breast cancer;
    ``'multiclass'``: iris; ``'multilabel'``: 300 rows of
    ``make_multilabel_classification`` (4 labels); ``'regression2'``: two
    targets.
    """
    X, y, _ = _cached_data(task)
    return X.copy(), y.copy()


def split(X: Any, y: Any, task: str) -> list:
    """Two thirds to train, one third to test (stratified for classes)."""
    stratify = y if task in ("binary", "multiclass") else None
    return train_test_split(X, y, test_size=1 / 3, random_state=0, stratify=stratify)


def raw(task: str) -> tuple[np.ndarray, np.ndarray]:
    """Features on very different scales, for combinations with a scaler."""
    if task == "binary":
        return load_breast_cancer(return_X_y=True)
    X, y = load(task)
    return X * np.logspace(-2, 3, X.shape[1]) + 50.0, y


def model_task(task: str) -> str:
    """The estimator kind of a data task: ``'regression'`` or a classifier."""
    return "regression" if task.startswith("regression") else task


# -- checks -------------------------------------------------------------------
def check_predictions(pred: Any, shape: tuple) -> np.ndarray:
    """Predictions as an array: finite and of ``shape``."""
    pred = np.asarray(pred)
    assert pred.shape == shape, f"predictions of shape {pred.shape}, not {shape}"
    if pred.dtype.kind in "fc":
        assert np.isfinite(pred).all(), "non-finite predictions"
    return pred


def check_proba(proba: Any, n_rows: int, n_classes: int) -> np.ndarray:
    """Probabilities: finite, in [0, 1], rows summing to 1."""
    proba = check_predictions(proba, (n_rows, n_classes))
    assert (proba >= 0).all() and (proba <= 1).all(), "probabilities outside [0, 1]"
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5, atol=1e-5)
    return proba


def dummy_score(
    task: str, X_train: Any, y_train: Any, X_test: Any, y_test: Any
) -> float:
    """Test score (R^2 or accuracy) of a dummy model trained on the same rows."""
    dummy = DummyRegressor() if model_task(task) == "regression" else DummyClassifier()
    return float(dummy.fit(X_train, y_train).score(X_test, y_test))


def check_beats(
    score: float, baseline: float, margin: float, what: str = "score"
) -> None:
    """``score`` exceeds ``baseline`` (a dummy model's) by ``margin``."""
    assert np.isfinite(score), f"{what} is {score}"
    assert score > baseline + margin, (
        f"{what} {score:.3f} not above the dummy's {baseline:.3f} + {margin}"
    )


def fit_and_check(est: Any, task: str, X: Any = None, y: Any = None) -> Any:
    """Fit on two thirds of ``task``'s data; test score must beat a dummy's."""
    if X is None:
        X, y = load(task)
    X_train, X_test, y_train, y_test = split(X, y, task)
    est.fit(X_train, y_train)
    check_predictions(est.predict(X_test), np.shape(y_test))
    check_beats(
        est.score(X_test, y_test), dummy_score(task, X_train, y_train, X_test, y_test),
        0.1,
    )
    return est


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _conflicting_targets() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row twice, its target shifted by 3 in the copy, which weighs 0.01."""
    X, y = load("regression")
    X2 = np.vstack([X, X])
    y2 = np.concatenate([y, y + 3.0])
    w = np.concatenate([np.ones_like(y), np.full_like(y, 0.01)])
    return X2, y2, w


def _offset(pred: np.ndarray) -> float:
    """Mean offset of predictions above the heavily weighted targets."""
    _, y = load("regression")
    return float(np.mean(pred - y))


# -- the combinations -----------------------------------------------------------
def combo_pipeline_scaler(make_estimator: EstimatorFactory, task: str) -> None:
    """``make_pipeline(StandardScaler(), est)`` on unscaled features."""
    X, y = raw(task)
    fit_and_check(make_pipeline(StandardScaler(), make_estimator(task)), task, X, y)


def combo_column_transformer(make_estimator: EstimatorFactory, task: str) -> None:
    """ColumnTransformer: scaled numbers and a one-hot string column (pandas)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    X, y = raw(task)
    rng = np.random.RandomState(0)
    cities = np.array(["Paris", "Lyon", "Nice", "Lille"])
    city = cities[rng.randint(0, 4, len(y))]
    effects = {"Paris": 1.0, "Lyon": -1.0, "Nice": 0.5, "Lille": 0.0}
    y = y + np.array([effects[c] for c in city])
    df = pd.DataFrame(X, columns=[f"num{i}" for i in range(X.shape[1])])
    df["city"] = city
    pre = ColumnTransformer([
        ("num", StandardScaler(), [c for c in df.columns if c.startswith("num")]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
    ])
    model = fit_and_check(make_pipeline(pre, make_estimator(task)), task, df, y)
    unseen = df.head(3).assign(city="Marseille")
    check_predictions(model.predict(unseen), (3,))


def combo_pandas_in(make_estimator: EstimatorFactory, task: str) -> None:
    """pandas DataFrame and Series in: feature_names_in_, name checks."""
    import pandas as pd

    X, y = load(task)
    columns = [f"feat_{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    target = pd.Series(y, name="target")
    est = fit_and_check(make_estimator(task), task, df, target)
    assert list(est.feature_names_in_) == columns, (
        f"feature_names_in_ is {getattr(est, 'feature_names_in_', None)}"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_predictions(est.predict(df), (len(df),))
    names = [str(w.message) for w in caught if "feature names" in str(w.message)]
    assert not names, f"warning on predict with the fit's columns: {names[0]}"
    try:
        est.predict(df[columns[::-1]])
    except ValueError:
        pass
    else:
        raise AssertionError("predict accepted the columns in another order")


def combo_polars_in(make_estimator: EstimatorFactory, task: str) -> None:
    """polars DataFrame and Series in, predict_proba on polars."""
    import polars as pl

    X, y = load(task)
    columns = [f"feat_{i}" for i in range(X.shape[1])]
    df = pl.DataFrame(X, schema=columns)
    est = fit_and_check(make_estimator(task), task, df, pl.Series("target", y))
    assert list(est.feature_names_in_) == columns, "feature_names_in_ not set"
    check_proba(est.predict_proba(df), len(y), 2)


def _set_output_pipeline(
    make_estimator: EstimatorFactory, task: str, container: str
) -> tuple[Pipeline, np.ndarray]:
    """A scaler with ``set_output(transform=container)`` before the estimator,
    fitted; the feature names must reach the estimator."""
    X, y = raw(task)
    scaler = StandardScaler().set_output(transform=container)
    model = Pipeline([("scale", scaler), ("model", make_estimator(task))])
    fit_and_check(model, task, X, y)
    names = list(model["scale"].get_feature_names_out())
    assert list(model["model"].feature_names_in_) == names, "names not passed on"
    return model, X


def combo_set_output_pandas(make_estimator: EstimatorFactory, task: str) -> None:
    """A scaler with ``set_output(transform='pandas')`` before the estimator."""
    _set_output_pipeline(make_estimator, task, "pandas")


def combo_set_output_polars(make_estimator: EstimatorFactory, task: str) -> None:
    """A scaler with ``set_output(transform='polars')`` before the estimator."""
    import polars  # noqa: F401  (set_output needs it)

    model, X = _set_output_pipeline(make_estimator, task, "polars")
    check_proba(model.predict_proba(X), X.shape[0], 2)


def combo_cross_val_score(make_estimator: EstimatorFactory, task: str) -> None:
    """``cross_val_score(est, X, y, cv=3)`` beats a dummy's."""
    from sklearn.model_selection import cross_val_score

    X, y = load(task)
    scores = cross_val_score(make_estimator(task), X, y, cv=3)
    baseline = cross_val_score(DummyClassifier(), X, y, cv=3)
    assert scores.shape == (3,)
    check_beats(scores.mean(), baseline.mean(), 0.05, "mean accuracy")


def combo_cross_validate(make_estimator: EstimatorFactory, task: str) -> None:
    """``cross_validate`` with two scorers and ``return_estimator=True``."""
    from sklearn.model_selection import cross_validate

    X, y = load(task)
    result = cross_validate(
        make_estimator(task), X, y, cv=3,
        scoring=["r2", "neg_mean_absolute_error"], return_estimator=True,
    )
    for key in ("test_r2", "test_neg_mean_absolute_error", "fit_time"):
        assert np.isfinite(result[key]).all() and result[key].shape == (3,), key
    estimators = result["estimator"]
    assert len({id(e) for e in estimators}) == 3, "estimators not distinct"
    for est in estimators:
        check_is_fitted(est)
    check_beats(result["test_r2"].mean(), 0.0, 0.1, "mean R^2")


def combo_cross_val_predict(make_estimator: EstimatorFactory, task: str) -> None:
    """``cross_val_predict(..., method='predict_proba')``: better log loss."""
    from sklearn.metrics import log_loss
    from sklearn.model_selection import cross_val_predict

    X, y = load(task)
    proba = cross_val_predict(make_estimator(task), X, y, cv=3, method="predict_proba")
    check_proba(proba, len(y), 3)
    loss = log_loss(y, proba)
    assert loss < np.log(3) - 0.1, f"log loss {loss:.3f} not below the prior's"


def combo_grid_search(make_estimator: EstimatorFactory, task: str) -> None:
    """GridSearchCV serial, then with ``n_jobs=2`` (loky processes): same results."""
    import joblib
    from sklearn.model_selection import GridSearchCV

    X, y = load(task)
    grid = {"alpha": [1e-4, 1e-1]}
    serial = GridSearchCV(make_estimator(task), grid, cv=3).fit(X, y)
    with joblib.parallel_config(backend="loky"):
        parallel = GridSearchCV(make_estimator(task), grid, cv=3, n_jobs=2).fit(X, y)
    assert serial.best_params_ == parallel.best_params_, "best_params_ differ"
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"],
        rtol=1e-6, err_msg="n_jobs=2 scores differ from the serial search's",
    )
    check_beats(serial.best_score_, 0.0, 0.1, "best R^2")
    check_predictions(parallel.predict(X), (len(y),))


def combo_randomized_search(make_estimator: EstimatorFactory, task: str) -> None:
    """RandomizedSearchCV over a log-uniform ``alpha`` and two learning rates."""
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV

    X, y = load(task)
    search = RandomizedSearchCV(
        make_estimator(task),
        {"alpha": loguniform(1e-5, 1e-1), "learning_rate_init": [1e-3, 1e-2]},
        n_iter=3, cv=3, random_state=0,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    check_beats(search.best_score_, float(np.bincount(y).max() / len(y)), 0.05,
                "best accuracy")


def combo_halving_grid_search(make_estimator: EstimatorFactory, task: str) -> None:
    """HalvingGridSearchCV (successive halving over the rows)."""
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    X, y = load(task)
    search = HalvingGridSearchCV(
        make_estimator(task), {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]},
        factor=2, cv=3, random_state=0,
    ).fit(X, y)
    assert search.n_iterations_ >= 2, f"{search.n_iterations_} iterations"
    check_beats(search.best_score_, float(np.bincount(y).max() / len(y)), 0.05,
                "best accuracy")
    check_predictions(search.predict(X), (len(y),))


def combo_clone_params(make_estimator: EstimatorFactory, task: str) -> None:
    """Nested get_params/set_params in a Pipeline; clone refits identically."""
    X, y = load(task)
    pipe = Pipeline([("scale", StandardScaler()), ("model", make_estimator(task))])
    params = pipe.get_params()
    assert "model__alpha" in params and params["model__random_state"] == 0
    pipe.set_params(model__alpha=1e-3, scale__with_mean=False)
    assert pipe["model"].alpha == 1e-3 and not pipe["scale"].with_mean
    pipe.fit(X, y)
    copy = clone(pipe)
    assert copy["model"] is not pipe["model"]
    assert copy["model"].get_params() == pipe["model"].get_params(), "params differ"
    try:
        check_is_fitted(copy["model"])
    except NotFittedError:
        pass
    else:
        raise AssertionError("the clone is fitted")
    copy.fit(X, y)
    np.testing.assert_array_equal(copy.predict(X), pipe.predict(X),
                                  err_msg="refit of the clone differs")


def combo_learning_curve(make_estimator: EstimatorFactory, task: str) -> None:
    """``learning_curve`` over three training sizes."""
    from sklearn.model_selection import learning_curve

    X, y = load(task)
    sizes, train, test = learning_curve(
        make_estimator(task), X, y, train_sizes=[0.3, 0.6, 1.0], cv=3
    )
    assert train.shape == test.shape == (3, 3) and np.isfinite(test).all()
    check_beats(test[-1].mean(), 0.0, 0.1, "R^2 at the full size")


def combo_validation_curve(make_estimator: EstimatorFactory, task: str) -> None:
    """``validation_curve`` over ``alpha``."""
    from sklearn.model_selection import validation_curve

    X, y = load(task)
    train, test = validation_curve(
        make_estimator(task), X, y, param_name="alpha", param_range=[1e-4, 1e-1], cv=3
    )
    assert train.shape == test.shape == (2, 3) and np.isfinite(test).all()
    check_beats(test.mean(axis=1).max(), float(np.bincount(y).max() / len(y)), 0.05,
                "accuracy")


def combo_calibrated(make_estimator: EstimatorFactory, task: str) -> None:
    """CalibratedClassifierCV (sigmoid, cv=3)."""
    from sklearn.calibration import CalibratedClassifierCV

    X, y = load(task)
    model = fit_and_check(CalibratedClassifierCV(make_estimator(task), cv=3), task)
    check_proba(model.predict_proba(X), len(y), 2)


def combo_stacking_regressor(make_estimator: EstimatorFactory, task: str) -> None:
    """StackingRegressor with a Ridge, RidgeCV on top."""
    from sklearn.ensemble import StackingRegressor
    from sklearn.linear_model import Ridge, RidgeCV

    fit_and_check(StackingRegressor(
        [("nn", make_estimator(task)), ("ridge", Ridge())],
        final_estimator=RidgeCV(), cv=3,
    ), task)


def combo_stacking_classifier(make_estimator: EstimatorFactory, task: str) -> None:
    """StackingClassifier with a LogisticRegression."""
    from sklearn.ensemble import StackingClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = load(task)
    model = fit_and_check(StackingClassifier(
        [("nn", make_estimator(task)), ("lr", LogisticRegression())], cv=3,
    ), task)
    check_proba(model.predict_proba(X), len(y), 2)


def combo_voting_soft(make_estimator: EstimatorFactory, task: str) -> None:
    """VotingClassifier with soft voting (averaged predict_proba)."""
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = load(task)
    model = fit_and_check(VotingClassifier(
        [("nn", make_estimator(task)), ("lr", LogisticRegression())], voting="soft",
    ), task)
    check_proba(model.predict_proba(X), len(y), 3)


def combo_bagging_regressor(make_estimator: EstimatorFactory, task: str) -> None:
    """BaggingRegressor of three (bootstraps passed as sample weights)."""
    from sklearn.ensemble import BaggingRegressor

    model = BaggingRegressor(make_estimator(task), n_estimators=3, random_state=0)
    fit_and_check(model, task)


def combo_permutation_importance(make_estimator: EstimatorFactory, task: str) -> None:
    """``permutation_importance``: the top feature is an informative one."""
    from sklearn.inspection import permutation_importance

    X, y = load(task)
    coef = _cached_data(task)[2]
    X_train, X_test, y_train, y_test = split(X, y, task)
    est = make_estimator(task).fit(X_train, y_train)
    result = permutation_importance(est, X_test, y_test, n_repeats=3, random_state=0)
    check_predictions(result.importances, (X.shape[1], 3))
    top = int(np.argmax(result.importances_mean))
    assert coef[top] != 0, f"top feature {top} is not informative"


def combo_partial_dependence(make_estimator: EstimatorFactory, task: str) -> None:
    """``partial_dependence`` (slope sign) and PartialDependenceDisplay."""
    from sklearn.inspection import PartialDependenceDisplay, partial_dependence

    plt = _pyplot()
    X, y = load(task)
    coef = _cached_data(task)[2]
    feature = int(np.argmax(np.abs(coef)))
    est = make_estimator(task).fit(X, y)
    result = partial_dependence(est, X, [feature], grid_resolution=10)
    average = check_predictions(result["average"], (1, 10))
    slope = average[0, -1] - average[0, 0]
    assert np.sign(slope) == np.sign(coef[feature]), "partial dependence slope sign"
    display = PartialDependenceDisplay.from_estimator(
        est, X, [feature, (0, 1)], grid_resolution=10
    )
    assert display.figure_ is not None and len(display.pd_results) == 2
    plt.close("all")


def combo_decision_boundary(make_estimator: EstimatorFactory, task: str) -> None:
    """DecisionBoundaryDisplay on two features."""
    from sklearn.inspection import DecisionBoundaryDisplay

    plt = _pyplot()
    X, y = load(task)
    X2 = X[:, [0, 1]]
    est = make_estimator(task).fit(X2, y)
    display = DecisionBoundaryDisplay.from_estimator(
        est, X2, grid_resolution=30, response_method="predict_proba"
    )
    response = check_predictions(display.response, (30, 30))
    assert (response >= 0).all() and (response <= 1).all()
    assert response.max() - response.min() > 0.1, "flat decision surface"
    plt.close("all")


def combo_roc_curve(make_estimator: EstimatorFactory, task: str) -> None:
    """RocCurveDisplay.from_estimator: AUC above 0.8."""
    from sklearn.metrics import RocCurveDisplay

    plt = _pyplot()
    X, y = load(task)
    X_train, X_test, y_train, y_test = split(X, y, task)
    est = make_estimator(task).fit(X_train, y_train)
    display = RocCurveDisplay.from_estimator(est, X_test, y_test)
    assert display.roc_auc > 0.8, f"AUC {display.roc_auc:.3f}"
    plt.close("all")


def combo_tuned_threshold(make_estimator: EstimatorFactory, task: str) -> None:
    """TunedThresholdClassifierCV for balanced accuracy."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import TunedThresholdClassifierCV

    X, y = load(task)
    X_train, X_test, y_train, y_test = split(X, y, task)
    model = TunedThresholdClassifierCV(
        make_estimator(task), scoring="balanced_accuracy", cv=3
    ).fit(X_train, y_train)
    assert 0.0 < model.best_threshold_ < 1.0, f"threshold {model.best_threshold_}"
    score = balanced_accuracy_score(y_test, model.predict(X_test))
    check_beats(score, 0.5, 0.1, "balanced accuracy")


def combo_transformed_target(make_estimator: EstimatorFactory, task: str) -> None:
    """TransformedTargetRegressor (scaled target) on raw load_diabetes."""
    from sklearn.compose import TransformedTargetRegressor

    X, y = load_diabetes(return_X_y=True)
    model = TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), make_estimator(task)),
        transformer=StandardScaler(),
    )
    fit_and_check(model, task, X, y)


def combo_multioutput_regressor(make_estimator: EstimatorFactory, task: str) -> None:
    """MultiOutputRegressor over two targets."""
    from sklearn.multioutput import MultiOutputRegressor

    model = fit_and_check(MultiOutputRegressor(make_estimator("regression")), task)
    assert len(model.estimators_) == 2


def combo_native_2d_y(make_estimator: EstimatorFactory, task: str) -> None:
    """Native multi-output regression: ``fit(X, Y)`` with 2-D ``Y``."""
    X, Y = load(task)
    est = fit_and_check(make_estimator("regression"), task, X, Y)
    check_predictions(est.predict(X[:5]), (5, 2))


def combo_one_vs_rest(make_estimator: EstimatorFactory, task: str) -> None:
    """OneVsRestClassifier on iris."""
    from sklearn.multiclass import OneVsRestClassifier

    X, y = load(task)
    model = fit_and_check(OneVsRestClassifier(make_estimator(task)), task)
    check_predictions(model.predict_proba(X), (len(y), 3))


def combo_classifier_chain(make_estimator: EstimatorFactory, task: str) -> None:
    """ClassifierChain over four labels: Hamming loss below a dummy's."""
    from sklearn.metrics import hamming_loss
    from sklearn.multioutput import ClassifierChain

    X, Y = load(task)
    X_train, X_test, Y_train, Y_test = split(X, Y, task)
    model = ClassifierChain(make_estimator("binary"), random_state=0)
    model.fit(X_train, Y_train)
    pred = check_predictions(model.predict(X_test), Y_test.shape)
    assert set(np.unique(pred)) <= {0, 1}
    check_predictions(model.predict_proba(X_test), Y_test.shape)
    dummy = DummyClassifier().fit(X_train, Y_train).predict(X_test)
    loss, base = hamming_loss(Y_test, pred), hamming_loss(Y_test, dummy)
    assert loss < base - 0.03, f"Hamming loss {loss:.3f}, dummy {base:.3f}"


def combo_string_labels(make_estimator: EstimatorFactory, task: str) -> None:
    """String class labels: classes_, predict and predict_proba agree."""
    X, y = load(task)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    est = fit_and_check(make_estimator(task), task, X, names)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    pred = est.predict(X)
    assert set(pred) <= set(est.classes_), f"labels {set(pred)}"
    proba = check_proba(est.predict_proba(X), len(y), 3)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], pred)


def combo_multilabel_indicator(make_estimator: EstimatorFactory, task: str) -> None:
    """Multilabel indicator ``y`` from MultiLabelBinarizer, one model."""
    from sklearn.metrics import hamming_loss
    from sklearn.preprocessing import MultiLabelBinarizer

    X, Y = load(task)
    tags = np.array(["news", "sport", "tech", "travel"])
    mlb = MultiLabelBinarizer()
    Y = mlb.fit_transform([list(tags[row.astype(bool)]) for row in Y])
    X_train, X_test, Y_train, Y_test = split(X, Y, task)
    est = make_estimator(task).fit(X_train, Y_train)
    pred = check_predictions(est.predict(X_test), Y_test.shape)
    assert set(np.unique(pred)) <= {0, 1}
    proba = check_predictions(est.predict_proba(X_test), Y_test.shape)
    assert (proba >= 0).all() and (proba <= 1).all()
    mlb.inverse_transform(pred)
    dummy = DummyClassifier().fit(X_train, Y_train).predict(X_test)
    loss, base = hamming_loss(Y_test, pred), hamming_loss(Y_test, dummy)
    assert loss < base - 0.03, f"Hamming loss {loss:.3f}, dummy {base:.3f}"


def combo_sample_weight_pipeline(make_estimator: EstimatorFactory, task: str) -> None:
    """``sample_weight`` as a Pipeline fit param moves the fit to heavy rows."""
    X, y, w = _conflicting_targets()
    X_test, _ = load(task)

    def pipe() -> Pipeline:
        return Pipeline([("scale", StandardScaler()), ("model", make_estimator(task))])

    plain = pipe().fit(X, y)
    weighted = pipe().fit(X, y, model__sample_weight=w)
    shift_plain = _offset(plain.predict(X_test))
    shift_weighted = _offset(weighted.predict(X_test))
    assert shift_weighted < shift_plain - 0.5, (
        f"offset {shift_weighted:.2f} weighted, {shift_plain:.2f} unweighted"
    )


def combo_sample_weight_routing(make_estimator: EstimatorFactory, task: str) -> None:
    """``sample_weight`` routed by metadata routing (set_fit_request) in CV."""
    from sklearn.model_selection import KFold, cross_validate

    X, y, w = _conflicting_targets()
    X_test, _ = load(task)
    shift_plain = _offset(make_estimator(task).fit(X, y).predict(X_test))
    with sklearn.config_context(enable_metadata_routing=True):
        est = make_estimator(task).set_fit_request(sample_weight=True)
        est.set_score_request(sample_weight=False)
        result = cross_validate(
            est, X, y, cv=KFold(3, shuffle=True, random_state=0),
            params={"sample_weight": w}, return_estimator=True,
        )
    for fold in result["estimator"]:
        shift = _offset(fold.predict(X_test))
        assert shift < shift_plain - 0.5, (
            f"offset {shift:.2f} weighted, {shift_plain:.2f} unweighted"
        )


def _reload_check(est: Any, reloaded: Any, X: np.ndarray) -> None:
    assert type(reloaded) is type(est)
    for method in ("predict", "predict_proba"):
        if hasattr(est, method):
            np.testing.assert_array_equal(
                getattr(reloaded, method)(X), getattr(est, method)(X),
                err_msg=f"{method} differs after the reload",
            )


def combo_pickle_roundtrip(make_estimator: EstimatorFactory, task: str) -> None:
    """``pickle.dumps`` / ``pickle.loads``: identical predictions."""
    X, y = load(task)
    est = make_estimator(task).fit(X, y)
    _reload_check(est, pickle.loads(pickle.dumps(est)), X)


def combo_joblib_roundtrip(make_estimator: EstimatorFactory, task: str) -> None:
    """``joblib.dump`` / ``joblib.load`` of a fitted pipeline: identical predictions."""
    import joblib

    X, y = raw(task)
    model = make_pipeline(StandardScaler(), make_estimator(task)).fit(X, y)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.joblib"
        joblib.dump(model, path)
        reloaded = joblib.load(path)
    _reload_check(model, reloaded, X)


def combo_skops_roundtrip(make_estimator: EstimatorFactory, task: str) -> None:
    """skops.io dump/load trusting no more than the documented types.

    skops trusts scikit-learn's own estimators by default; for GMNM,
    ``docs/deploying.rst`` names the estimator's class as the one type to
    trust (its fitted state is numpy arrays and plain values), so
    ``get_untrusted_types`` must list exactly that class, and nothing for
    MLP. Both models train with ``solver='lbfgs'``: MLP's Adam and SGD
    solvers keep their optimiser object
    (``sklearn.neural_network._stochastic_optimizers``), which skops does not
    trust by default, so MLP passes this check only with L-BFGS.
    """
    import skops.io as sio

    X, y = load(task)
    est = make_estimator(task, solver="lbfgs").fit(X, y)
    cls = type(est)
    documented = [] if cls.__module__.startswith("sklearn.") else [
        f"{cls.__module__}.{cls.__qualname__}"
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.skops"
        sio.dump(est, path)
        untrusted = sio.get_untrusted_types(file=path)
        assert untrusted == documented, (
            f"untrusted types {untrusted}, documented {documented}"
        )
        reloaded = sio.load(path, trusted=documented)
    _reload_check(est, reloaded, X)


def combo_dask_incremental(make_estimator: EstimatorFactory, task: str) -> None:
    """dask-ml ``Incremental`` over a dask array (one partial_fit per block)."""
    import dask.array as da
    from dask_ml.wrappers import Incremental

    X, y = load(task)
    X_train, X_test, y_train, y_test = split(X, y, task)
    model = Incremental(make_estimator(task), scoring="accuracy")
    model.fit(
        da.from_array(X_train, chunks=(32, -1)), da.from_array(y_train, chunks=32),
        classes=np.unique(y),
    )
    pred = model.predict(da.from_array(X_test, chunks=(32, -1)))
    pred = check_predictions(pred.compute(), y_test.shape)
    assert set(np.unique(pred)) <= {0, 1}
    check_beats(float(np.mean(pred == y_test)),
                dummy_score(task, X_train, y_train, X_test, y_test), 0.05, "accuracy")


def combo_partial_fit_chunks(make_estimator: EstimatorFactory, task: str) -> None:
    """``partial_fit`` over four chunks, five passes (classes on the first call)."""
    X, y = load(task)
    X_train, X_test, y_train, y_test = split(X, y, task)
    est = make_estimator(task)
    classes = np.unique(y)
    X_chunks, y_chunks = np.array_split(X_train, 4), np.array_split(y_train, 4)
    for _ in range(5):
        for X_chunk, y_chunk in zip(X_chunks, y_chunks, strict=True):
            est.partial_fit(X_chunk, y_chunk, classes=classes)
    check_predictions(est.predict(X_test), y_test.shape)
    check_beats(est.score(X_test, y_test),
                dummy_score(task, X_train, y_train, X_test, y_test), 0.05, "accuracy")


def combo_warm_start(make_estimator: EstimatorFactory, task: str) -> None:
    """``warm_start=True``: a second fit continues from the first one's weights.

    ``loss_curve_`` grows; the second fit's first loss is within 1.5 times the
    first fit's lowest (a new initialisation would start high); predictions
    change (refits from the same seed without warm start are identical) and
    the training R^2 does not drop by more than 0.02. (``n_iter_`` is not
    compared: MLP counts each fit's own epochs, GMNM all of them.)
    """
    X, y = load(task)
    est = make_estimator(task, warm_start=True).fit(X, y)
    pred_first, score_first = est.predict(X), est.score(X, y)
    curve_first = list(est.loss_curve_)
    est.fit(X, y)
    curve = est.loss_curve_
    assert len(curve) > len(curve_first), "loss_curve_ did not grow"
    restart, best = curve[len(curve_first)], min(curve_first)
    assert restart <= 1.5 * best, (
        f"second fit starts at loss {restart:.4g}, first fit reached {best:.4g}"
    )
    assert not np.array_equal(est.predict(X), pred_first), "second fit changed nothing"
    score = est.score(X, y)
    assert score > score_first - 0.02, f"train R^2 {score_first:.3f} -> {score:.3f}"


def combo_float32(make_estimator: EstimatorFactory, task: str) -> None:
    """float32 in, float32 out (as MLP)."""
    X, y = load(task)
    X32 = X.astype(np.float32)
    est = fit_and_check(make_estimator(task), task, X32, y.astype(np.float32))
    pred = est.predict(X32)
    assert pred.dtype == np.float32, f"predict gives {pred.dtype}"


def combo_sparse_csr(make_estimator: EstimatorFactory, task: str) -> None:
    """scipy CSR input (60% zeros) in fit, predict and predict_proba."""
    X, y = load(task)
    X = np.where(np.random.RandomState(0).rand(*X.shape) < 0.6, 0.0, X)
    est = fit_and_check(make_estimator(task), task, sp.csr_matrix(X), y)
    check_proba(est.predict_proba(sp.csr_matrix(X)), len(y), 2)
    np.testing.assert_allclose(est.predict_proba(sp.csr_matrix(X)),
                               est.predict_proba(X), rtol=1e-5, atol=1e-6,
                               err_msg="sparse and dense predict_proba differ")


def combo_html_repr(make_estimator: EstimatorFactory, task: str) -> None:
    """``estimator_html_repr`` of a pipeline, before and after fit."""
    from sklearn.utils import estimator_html_repr

    X, y = load(task)
    est = make_estimator(task)
    model = make_pipeline(StandardScaler(), est)
    name = type(est).__name__
    before = estimator_html_repr(model)
    assert name in before and "<div" in before, "class name missing"
    model.fit(X, y)
    after = estimator_html_repr(model)
    assert name in after and after != before, "fitted repr unchanged"
    assert name in est._repr_html_()


def combo_onnx_export(make_estimator: EstimatorFactory, task: str) -> None:
    """skl2onnx ``to_onnx`` of scaler + model, run with onnxruntime."""
    import onnxruntime as ort
    import skl2onnx

    est = make_estimator(task)
    if type(est).__module__.startswith("sklearn_gmnm"):
        import sklearn_gmnm.onnx  # noqa: F401  (registers the converters)
    X, y = raw(task)
    X32 = X.astype(np.float32)
    model = make_pipeline(StandardScaler(), est).fit(X, y)
    onx = skl2onnx.to_onnx(model, X32[:1])
    session = ort.InferenceSession(onx.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: X32})
    expected = model.predict(X32)
    out = check_predictions(out, (len(y), 1)).ravel()
    scale = np.abs(expected).max()
    error = np.abs(out - expected).max() / scale
    assert error <= 1e-4, f"ONNX differs from predict by {error:.2e} relative"


# -- registry -----------------------------------------------------------------
@dataclass(frozen=True)
class Combo:
    """One combination: a short name, its function, data task and packages."""

    name: str
    func: Callable[[EstimatorFactory, str], None]
    task: str
    requires: tuple[str, ...] = ()


COMBOS: list[Combo] = [
    Combo("pipeline_scaler", combo_pipeline_scaler, "binary"),
    Combo("column_transformer", combo_column_transformer, "regression", ("pandas",)),
    Combo("pandas_in", combo_pandas_in, "regression", ("pandas",)),
    Combo("polars_in", combo_polars_in, "binary", ("polars",)),
    Combo("set_output_pandas", combo_set_output_pandas, "regression", ("pandas",)),
    Combo("set_output_polars", combo_set_output_polars, "binary", ("polars",)),
    Combo("cross_val_score", combo_cross_val_score, "binary"),
    Combo("cross_validate", combo_cross_validate, "regression"),
    Combo("cross_val_predict", combo_cross_val_predict, "multiclass"),
    Combo("grid_search", combo_grid_search, "regression"),
    Combo("randomized_search", combo_randomized_search, "binary"),
    Combo("halving_grid_search", combo_halving_grid_search, "binary"),
    Combo("clone_params", combo_clone_params, "regression"),
    Combo("learning_curve", combo_learning_curve, "regression"),
    Combo("validation_curve", combo_validation_curve, "binary"),
    Combo("calibrated_classifier", combo_calibrated, "binary"),
    Combo("stacking_regressor", combo_stacking_regressor, "regression"),
    Combo("stacking_classifier", combo_stacking_classifier, "binary"),
    Combo("voting_soft", combo_voting_soft, "multiclass"),
    Combo("bagging_regressor", combo_bagging_regressor, "regression"),
    Combo("permutation_importance", combo_permutation_importance, "regression"),
    Combo("partial_dependence", combo_partial_dependence, "regression",
          ("matplotlib",)),
    Combo("decision_boundary", combo_decision_boundary, "binary", ("matplotlib",)),
    Combo("roc_curve_display", combo_roc_curve, "binary", ("matplotlib",)),
    Combo("tuned_threshold", combo_tuned_threshold, "binary"),
    Combo("transformed_target", combo_transformed_target, "regression"),
    Combo("multioutput_regressor", combo_multioutput_regressor, "regression2"),
    Combo("native_2d_y", combo_native_2d_y, "regression2"),
    Combo("one_vs_rest", combo_one_vs_rest, "multiclass"),
    Combo("classifier_chain", combo_classifier_chain, "multilabel"),
    Combo("string_labels", combo_string_labels, "multiclass"),
    Combo("multilabel_indicator", combo_multilabel_indicator, "multilabel"),
    Combo("sample_weight_pipeline", combo_sample_weight_pipeline, "regression"),
    Combo("sample_weight_routing", combo_sample_weight_routing, "regression"),
    Combo("pickle_roundtrip", combo_pickle_roundtrip, "binary"),
    Combo("joblib_roundtrip", combo_joblib_roundtrip, "regression"),
    Combo("skops_roundtrip", combo_skops_roundtrip, "regression", ("skops",)),
    Combo("dask_incremental", combo_dask_incremental, "binary", ("dask", "dask_ml")),
    Combo("partial_fit_chunks", combo_partial_fit_chunks, "binary"),
    Combo("warm_start", combo_warm_start, "regression"),
    Combo("float32", combo_float32, "regression"),
    Combo("sparse_csr", combo_sparse_csr, "binary"),
    Combo("html_repr", combo_html_repr, "regression"),
    Combo("onnx_export", combo_onnx_export, "regression", ("skl2onnx", "onnxruntime")),
]


# -- running ------------------------------------------------------------------
@dataclass
class Outcome:
    """What one combination did with one estimator."""

    status: str  # "pass", "FAIL" or "skipped (...)"
    seconds: float = 0.0
    warnings: Counter = field(default_factory=Counter)
    error: str = ""
    where: str = ""
    traceback: str = ""


_FRAME = re.compile(r'File "([^"]*sklearn_gmnm[/\\][^"]+)", line (\d+), in (\S+)')


def _where(text: str) -> str:
    """Innermost ``sklearn_gmnm`` frame of a formatted traceback, if any."""
    frames = _FRAME.findall(text)
    if not frames:
        return ""
    path, line, func = frames[-1]
    path = path[path.rfind("sklearn_gmnm"):].replace("\\", "/")
    return f"{path}:{line} in {func}"


def _missing(requires: tuple[str, ...]) -> str | None:
    for name in requires:
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


def run_combo(combo: Combo, make_estimator: EstimatorFactory) -> Outcome:
    """Run ``combo`` with one estimator factory; never raises."""
    missing = _missing(combo.requires)
    if missing:
        return Outcome(f"skipped ({missing} not installed)")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            combo.func(make_estimator, combo.task)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            text = "".join(traceback.format_exception(exc))
            message = (str(exc).strip().splitlines() or [""])[0]
            outcome = Outcome("FAIL", error=f"{type(exc).__name__}: {message}",
                              where=_where(text), traceback=text)
        else:
            outcome = Outcome("pass")
    outcome.seconds = time.perf_counter() - start
    outcome.warnings = Counter(w.category.__name__ for w in caught)
    return outcome


def _cell(outcome: Outcome) -> str:
    if outcome.status in ("pass", "FAIL"):
        status = "**FAIL**" if outcome.status == "FAIL" else "pass"
        return f"{status} ({outcome.seconds:.1f} s)"
    return outcome.status


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _note(outcomes: dict[str, Outcome]) -> str:
    parts = []
    for label, outcome in outcomes.items():
        if outcome.status == "FAIL":
            parts.append(f"{label}: {outcome.error}")
    convergence = ConvergenceWarning.__name__
    counts = [f"{label} {o.warnings[convergence]}"
              for label, o in outcomes.items() if o.warnings[convergence]]
    if counts:
        parts.append("ConvergenceWarning: " + ", ".join(counts))
    for label, outcome in outcomes.items():
        other = {k: v for k, v in outcome.warnings.items()
                 if k != ConvergenceWarning.__name__}
        if other:
            parts.append(f"{label} other warnings: "
                         + ", ".join(f"{k} x{v}" for k, v in sorted(other.items())))
    return _escape("; ".join(parts))


def report(results: list[tuple[Combo, dict[str, Outcome]]], seconds: float) -> str:
    """The markdown table, the summary line and the failures' details."""
    labels = list(ESTIMATORS)
    lines = [
        "| combination | " + " | ".join(labels) + " | note |",
        "|---|" + "---|" * len(labels) + "---|",
    ]
    for combo, outcomes in results:
        cells = " | ".join(_cell(outcomes[label]) for label in labels)
        lines.append(f"| {combo.name} | {cells} | {_note(outcomes)} |")
    passes = {label: sum(o[label].status == "pass" for _, o in results)
              for label in labels}
    total = len(results)
    lines += [
        "",
        f"GMNM passes {passes['GMNM']} of {total}, MLP {passes['MLP']} of {total}",
        "",
        f"Runtime {seconds:.0f} s; Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}.",
    ]
    failures = [(combo, label, outcomes[label]) for combo, outcomes in results
                for label in labels if outcomes[label].status == "FAIL"]
    if failures:
        lines += ["", "Failures:", ""]
        for combo, label, outcome in failures:
            where = f" (at {outcome.where})" if outcome.where else ""
            lines.append(f"- {combo.name}, {label}: `{_escape(outcome.error)}`{where}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these combinations")
    parser.add_argument("--list", action="store_true",
                        help="list the combinations and exit")
    parser.add_argument("--tracebacks", action="store_true",
                        help="print the full traceback of each failure to stderr")
    args = parser.parse_args(argv)
    if args.list:
        for combo in COMBOS:
            summary = combo.func.__doc__.splitlines()[0]
            print(f"{combo.name:24s} {combo.task:12s} {summary}")
        return 0
    combos = COMBOS
    if args.only:
        known = {combo.name for combo in COMBOS}
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"unknown combination(s): {', '.join(unknown)}")
        combos = [combo for combo in COMBOS if combo.name in args.only]
    start = time.perf_counter()
    results = []
    for combo in combos:
        outcomes = {label: run_combo(combo, factory)
                    for label, factory in ESTIMATORS.items()}
        results.append((combo, outcomes))
        print(f"{combo.name:24s} " + "  ".join(
            f"{label} {_cell(o)}" for label, o in outcomes.items()), file=sys.stderr)
        if args.tracebacks:
            for label, outcome in outcomes.items():
                if outcome.traceback:
                    print(f"--- {combo.name}, {label}\n{outcome.traceback}",
                          file=sys.stderr)
    text = report(results, time.perf_counter() - start)
    print(text)
    if args.out:
        args.out.write_text(text)
    regressions = [combo.name for combo, o in results
                   if o["GMNM"].status == "FAIL" and o["MLP"].status == "pass"]
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
