"""Behaviour of GMNMRegressor and GMNMClassifier beyond scikit-learn's checks."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm.nn import GMNM

X_reg, y_reg = make_regression(n_samples=240, n_features=5, noise=1.0, random_state=0)
X_iris, y_iris = load_iris(return_X_y=True)
FAST = {"n_components": 12, "max_iter": 15, "random_state": 0}


def test_regressor_learns_a_nonlinear_function():
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(500, 2))
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1])
    reg = GMNMRegressor(n_components=32, max_iter=30, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.95
    assert reg.n_iter_ == len(reg.loss_curve_) <= 30
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_multi_output_regression_predicts_the_shape_of_y():
    Y = np.column_stack([y_reg, -2 * y_reg + 3])
    reg = GMNMRegressor(**FAST).fit(X_reg, Y)
    pred = reg.predict(X_reg)
    assert pred.shape == Y.shape and pred.dtype == np.float64
    assert reg.n_outputs_ == 2
    # A column target keeps its column shape.
    pred_col = GMNMRegressor(**FAST).fit(X_reg, Y[:, :1]).predict(X_reg)
    assert pred_col.shape == (X_reg.shape[0], 1)
    assert GMNMRegressor(**FAST).fit(X_reg, y_reg).predict(X_reg).shape == y_reg.shape


def test_classifier_with_string_labels():
    labels = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y_iris]
    clf = GMNMClassifier(**FAST).fit(X_iris, labels)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    pred = clf.predict(X_iris)
    assert set(pred) <= set(clf.classes_)
    assert clf.score(X_iris, labels) > 0.9
    proba = clf.predict_proba(X_iris)
    assert proba.dtype == np.float64 and proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_iris)), proba)


def test_binary_classification():
    mask = y_iris > 0
    y = np.where(y_iris[mask] == 1, "no", "yes")
    clf = GMNMClassifier(**FAST).fit(X_iris[mask], y)
    assert clf.predict_proba(X_iris[mask]).shape == (mask.sum(), 2)
    assert clf.score(X_iris[mask], y) > 0.85


def test_pipeline_grid_search_and_cross_validation():
    pipe = make_pipeline(StandardScaler(), GMNMRegressor(**FAST))
    grid = GridSearchCV(
        pipe,
        {
            "gmnmregressor__n_components": [4, 12],
            "gmnmregressor__covariance_type": ["full", "diag"],
        },
        cv=3,
    ).fit(X_reg, y_reg)
    assert grid.best_params_["gmnmregressor__n_components"] in (4, 12)
    assert grid.best_score_ > 0.5
    scores = cross_val_score(
        make_pipeline(StandardScaler(), GMNMClassifier(**FAST)), X_iris, y_iris, cv=3
    )
    assert scores.mean() > 0.85


def test_pandas_input_records_feature_names():
    frame = pd.DataFrame(X_reg, columns=[f"f{i}" for i in range(5)])
    reg = GMNMRegressor(**FAST).fit(frame, pd.Series(y_reg))
    np.testing.assert_array_equal(reg.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="feature names"):
        from_array = reg.predict(X_reg)
    np.testing.assert_allclose(reg.predict(frame), from_array)


def test_same_random_state_gives_the_same_model():
    a = GMNMRegressor(**FAST).fit(X_reg, y_reg).predict(X_reg)
    b = GMNMRegressor(**FAST).fit(X_reg, y_reg).predict(X_reg)
    np.testing.assert_array_equal(a, b)
    c = GMNMRegressor(**{**FAST, "random_state": 1}).fit(X_reg, y_reg).predict(X_reg)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_kmeans_initialisation_places_centers_at_kmeans_centers(covariance_type):
    # With learn_centers=False the fitted centers are the k-means centers of
    # the data as the Gaussians see them (standardised, or robustly scaled
    # and smoothly clipped), mapped back to input units.
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(c, 0.2, size=(40, 2)) for c in ([0, 0], [5, 5], [0, 5])])
    y = X.sum(axis=1)
    for scaling in ("standard", "robust"):
        reg = GMNMRegressor(
            n_components=3,
            covariance_type=covariance_type,
            learn_centers=False,
            input_scaling=scaling,
            max_iter=3,
            random_state=0,
        ).fit(X, y)
        Z = (X - reg._x_mean) / reg._x_scale
        if scaling == "robust":
            Z = Z / np.sqrt(1 + (Z / 3) ** 2)
        km = KMeans(3, n_init=10, random_state=0).fit(Z)
        z = km.cluster_centers_
        if scaling == "robust":
            z = z / np.sqrt(1 - (z / 3) ** 2)
        centers = z * reg._x_scale + reg._x_mean
        got = reg.centers_[np.lexsort(reg.centers_.T)]
        expected = centers[np.lexsort(centers.T)]
        np.testing.assert_allclose(got, expected, atol=1e-3)


def test_fitted_attributes():
    reg = GMNMRegressor(**FAST).fit(X_reg, y_reg)
    assert isinstance(reg.module_, GMNM)
    assert reg.module_.n_components == 12
    assert reg.n_features_in_ == 5
    assert reg.centers_.shape == (12, 5)
    assert reg.mixing_weights_.shape == (1, 12)
    assert reg.intercept_.shape == (1,)
    assert reg.device_ == torch.device("cpu") or reg.device_.type == "cuda"
    assert next(reg.module_.parameters()).device.type == "cpu"


def test_linear_term_attribute_and_extrapolation():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 3))
    y = X @ np.array([2.0, -1.0, 0.5]) + 0.3 * np.sin(3 * X[:, 0])
    X_far = np.array([[3.0, -3.0, 3.0]])
    y_far = 2 * 3 + 3 + 1.5 + 0.3 * np.sin(9.0)
    reg = GMNMRegressor(**FAST).fit(X, y)
    assert reg.linear_coef_.shape == (1, 3)
    # Three times beyond the data: the linear term carries the trend, a pure
    # sum of Gaussians falls back to its bias.
    assert abs(reg.predict(X_far)[0] - y_far) < 0.2 * y_far
    pure = GMNMRegressor(linear_term=False, **FAST).fit(X, y)
    assert pure.linear_coef_ is None
    assert pure.module_.linear_weight is None
    assert abs(pure.predict(X_far)[0] - y_far) > 0.5 * y_far


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_rank_above_n_features_is_a_clear_error(covariance_type):
    reg = GMNMRegressor(rank=6, covariance_type=covariance_type, **FAST)
    with pytest.raises(ValueError, match=r"rank=6 is larger than the number of "
                       r"features \(5\)"):
        reg.fit(X_reg, y_reg)
    # Types without projections of a rank ignore it.
    GMNMRegressor(rank=6, covariance_type="diag", **FAST).fit(X_reg, y_reg)


def test_random_init_trains():
    reg = GMNMRegressor(init="random", **FAST).fit(X_reg, y_reg)
    assert reg.score(X_reg, y_reg) > 0.5


# A non-default value for every parameter of either estimator.
_NON_DEFAULTS = {
    "n_components": 7,
    "covariance_type": "tied",
    "rank": 2,
    "learn_centers": False,
    "linear_term": False,
    "input_scaling": "robust",
    "hidden_layer_sizes": (16, 8),
    "activation": "tanh",
    "loss": "poisson",
    "init": "random",
    "solver": "lbfgs",
    "alpha": 0.1,
    "batch_size": 32,
    "learning_rate": "adaptive",
    "learning_rate_init": 0.01,
    "power_t": 0.25,
    "average": False,
    "max_iter": 3,
    "tol": 0.5,
    "n_iter_no_change": 2,
    "max_fun": 100,
    "early_stopping": True,
    "validation_fraction": 0.2,
    "warm_start": True,
    "callbacks": [],
    "class_weight": "balanced",
    "n_jobs": 1,
    "random_state": 3,
    "verbose": 2,
    "device": "cpu",
}


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_clone_keeps_every_parameter(cls):
    names = cls().get_params()
    missing = set(names) - set(_NON_DEFAULTS)
    assert not missing, f"add a non-default value for {sorted(missing)}"
    non_defaults = {
        **_NON_DEFAULTS,
        # (the estimators' defaults differ here)
        "input_scaling": "standard" if cls is GMNMRegressor else "robust",
    }
    est = cls(**{name: non_defaults[name] for name in names})
    cloned = clone(est).get_params()
    for name in names:
        assert cloned[name] == est.get_params()[name]
        assert cloned[name] != cls().get_params()[name] or name == "callbacks"


def test_device_cpu_and_unknown_device():
    reg = GMNMRegressor(device="cpu", **FAST).fit(X_reg, y_reg)
    assert reg.device_ == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        GMNMRegressor(device="tpu", **FAST).fit(X_reg, y_reg)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_requested_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        GMNMRegressor(device="cuda", **FAST).fit(X_reg, y_reg)


@pytest.mark.parametrize("n_samples, expected", [(60, 8), (400, 40), (5000, 64)])
def test_auto_n_components_grows_with_the_data(n_samples, expected):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((n_samples, 2))
    reg = GMNMRegressor(max_iter=1, early_stopping=False, random_state=0)
    reg.fit(X, X[:, 0])
    assert reg.n_components == "auto"
    assert reg.module_.n_components == expected


def test_auto_n_components_makes_room_for_many_classes():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3000, 2))
    y = np.arange(3000) % 20
    clf = GMNMClassifier(max_iter=1, early_stopping=False, random_state=0).fit(X, y)
    assert clf.module_.n_components == 5 * 20
    # counted on the training rows, after the early-stopping split
    reg = GMNMRegressor(max_iter=1, random_state=0).fit(X[:500], X[:500, 0])
    assert reg.module_.n_components == 45


def test_auto_batch_size_grows_on_large_data():
    from sklearn_gmnm._base import auto_batch_size

    assert auto_batch_size(100) == 100
    assert auto_batch_size(10_000) == 256
    assert auto_batch_size(64_000) == 1000
    assert auto_batch_size(10_000_000) == 2048
