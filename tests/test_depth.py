"""Hidden layers (``hidden_layer_sizes``, ``activation``) and ``loss='poisson'``."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.neural_network._base import poisson_loss
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._initialization import (
    glorot_uniform_,
    init_network_from_data,
    trunk_features,
)
from sklearn_gmnm._loss import HalfPoissonDeviance
from sklearn_gmnm.nn import GMNM, gmnm_network, mlp_trunk

X_reg, y_reg = make_regression(n_samples=240, n_features=5, noise=1.0, random_state=0)
y_curved = y_reg + 0.02 * y_reg**2
X_iris, y_iris = load_iris(return_X_y=True)

# Counts whose log-mean is a smooth function of the inputs.
_rng = np.random.RandomState(0)
X_counts = _rng.normal(size=(300, 3))
MU = np.exp(0.8 * X_counts[:, 0] - 0.5 * X_counts[:, 1] ** 2 + 1.0)
y_counts = _rng.poisson(MU).astype(float)

FAST = {"n_components": 8, "max_iter": 5, "random_state": 0}
TRUNK = {"hidden_layer_sizes": (12, 6), "activation": "tanh"}


def _quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _mean_poisson_deviance(y, mu):
    return 2.0 * poisson_loss(y, mu)


# -- the torch modules --------------------------------------------------------
@pytest.mark.parametrize(
    "activation, cls",
    [
        ("identity", torch.nn.Identity),
        ("logistic", torch.nn.Sigmoid),
        ("tanh", torch.nn.Tanh),
        ("relu", torch.nn.ReLU),
    ],
)
def test_mlp_trunk_has_mlps_layers_and_activation(activation, cls):
    trunk = mlp_trunk(4, (7, 3), activation)
    kinds = [type(layer) for layer in trunk]
    assert kinds == [torch.nn.Linear, cls, torch.nn.Linear, cls]
    assert (trunk[0].in_features, trunk[0].out_features) == (4, 7)
    assert trunk(torch.randn(5, 4)).shape == (5, 3)


def test_gmnm_network_is_the_layer_without_hidden_layers_and_sequential_with():
    layer = gmnm_network(4, 2, (), n_components=5)
    assert type(layer) is GMNM
    net = gmnm_network(4, 2, (9,), "relu", n_components=5, dtype=torch.float64)
    assert isinstance(net, torch.nn.Sequential)
    assert isinstance(net.head, GMNM) and net.head.in_features == 9
    assert all(p.dtype == torch.float64 for p in net.parameters())
    # The same module by hand gives the same outputs with the same weights.
    x = torch.randn(6, 4, dtype=torch.float64)
    by_hand = torch.nn.Sequential(
        torch.nn.Linear(4, 9, dtype=torch.float64),
        torch.nn.ReLU(),
        GMNM(9, 2, n_components=5, dtype=torch.float64),
    )
    by_hand.load_state_dict(
        {k.replace("trunk.", "").replace("head.", "2."): v
         for k, v in net.state_dict().items()}
    )
    torch.testing.assert_close(by_hand(x), net(x))


@pytest.mark.parametrize("bad", [(0,), (4, -1), (2.5,), ("a",)])
def test_mlp_trunk_refuses_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive ints"):
        mlp_trunk(3, bad)
    with pytest.raises(ValueError, match="activation"):
        mlp_trunk(3, (2,), "softplus")


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_trunk_starts_as_sklearn_mlp_does(activation):
    trunk = mlp_trunk(5, (16, 8), activation, dtype=torch.float64)
    glorot_uniform_(trunk, np.random.RandomState(3))
    mlp = MLPRegressor(activation=activation)
    mlp._random_state = np.random.RandomState(3)
    for linear, (fan_in, fan_out) in zip(trunk[::2], [(5, 16), (16, 8)], strict=True):
        coef, intercept = mlp._init_coef(fan_in, fan_out, np.float64)
        np.testing.assert_array_equal(linear.weight.detach().numpy(), coef.T)
        np.testing.assert_array_equal(linear.bias.detach().numpy(), intercept)


def test_head_is_initialised_in_the_trunk_output_space():
    X = (X_reg - X_reg.mean(0)) / X_reg.std(0)
    Y = ((y_curved - y_curved.mean()) / y_curved.std())[:, None]
    net = gmnm_network(5, 1, (10, 6), "relu", n_components=8, dtype=torch.float64)
    init_network_from_data(net, X, Y, random_state=np.random.RandomState(0))
    H = trunk_features(net.trunk, X)
    centers = net.head.centers.detach().numpy()
    assert centers.shape == (8, 6)
    # The centers are among the trunk's outputs, not the inputs...
    assert np.all(centers >= H.min(0) - 1e-9) and np.all(centers <= H.max(0) + 1e-9)
    # ...where the Gaussians respond to the data...
    g = net.head.activations(torch.from_numpy(H)).detach().numpy()
    assert g.max(axis=1).mean() > 0.3
    # ...and the ridge start already explains part of the target before any
    # training (on random ReLU features of the inputs), unlike the layer's
    # data-free start.
    def r2(module):
        with torch.no_grad():
            pred = module(torch.from_numpy(X)).numpy()
        return 1 - ((pred - Y) ** 2).sum() / (Y**2).sum()

    assert r2(net) > 0.25
    net.head.reset_parameters()
    assert r2(net) < 0.05


# -- the estimators with a trunk ---------------------------------------------
def test_default_is_the_single_layer_model():
    a = _quiet_fit(GMNMRegressor(**FAST), X_reg, y_reg)
    b = _quiet_fit(GMNMRegressor(**FAST, hidden_layer_sizes=[]), X_reg, y_reg)
    assert type(a.module_) is GMNM
    assert a.coefs_ == [] and a.intercepts_ == []
    np.testing.assert_array_equal(a.predict(X_reg), b.predict(X_reg))
    assert a.get_params()["hidden_layer_sizes"] == ()
    assert a.get_params()["activation"] == "relu"
    assert a.get_params()["loss"] == "squared_error"


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
@pytest.mark.parametrize(
    "bad",
    [
        {"hidden_layer_sizes": (0,)},
        {"hidden_layer_sizes": (8, -2)},
        {"hidden_layer_sizes": (4.0,)},
        {"hidden_layer_sizes": (True,)},
        {"hidden_layer_sizes": "8"},
        {"activation": "softmax"},
    ],
)
def test_bad_trunk_parameters_raise_invalid_parameter_error(cls, bad):
    X, y = (X_reg, y_reg) if cls is GMNMRegressor else (X_iris, y_iris)
    with pytest.raises(InvalidParameterError, match=next(iter(bad))):
        cls(**bad).fit(X, y)


def test_unknown_loss_raises_invalid_parameter_error():
    with pytest.raises(InvalidParameterError, match="loss"):
        GMNMRegressor(loss="gamma").fit(X_reg, y_reg)


def test_an_int_is_one_hidden_layer_as_in_mlp():
    reg = _quiet_fit(GMNMRegressor(**FAST, hidden_layer_sizes=7), X_reg, y_reg)
    assert [c.shape for c in reg.coefs_] == [(5, 7)]
    assert reg.centers_.shape == (8, 7)


def test_rank_is_checked_against_the_last_hidden_layer():
    with pytest.raises(ValueError, match="last hidden layer \\(3\\)"):
        GMNMRegressor(hidden_layer_sizes=(16, 3), rank=4).fit(X_reg, y_reg)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_trunk_trains_with_every_covariance_type_and_solver(covariance_type, solver):
    reg = _quiet_fit(
        GMNMRegressor(
            **{**FAST, "max_iter": 40}, **TRUNK,
            covariance_type=covariance_type, solver=solver,
        ),
        X_reg,
        y_curved,
    )
    assert reg.score(X_reg, y_curved) > 0.7
    assert [c.shape for c in reg.coefs_] == [(5, 12), (12, 6)]
    assert [b.shape for b in reg.intercepts_] == [(12,), (6,)]
    assert reg.centers_.shape == (8, 6)
    assert reg.linear_coef_.shape == (1, 6)
    assert len(reg.loss_curve_) >= 2 and reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_classifier_with_a_trunk_and_class_weight(solver):
    clf = _quiet_fit(
        GMNMClassifier(**{**FAST, "max_iter": 30}, **TRUNK, solver=solver,
                       class_weight="balanced"),
        X_iris,
        y_iris,
    )
    assert clf.score(X_iris, y_iris) > 0.9
    np.testing.assert_allclose(clf.predict_proba(X_iris).sum(1), 1.0)
    assert isinstance(clf.module_.head, GMNM)


def test_trunk_parameters_are_penalised_as_mlp_coefs():
    from sklearn_gmnm._loss import penalised_parameters

    net = gmnm_network(4, 1, (6, 5), n_components=3, linear_term=True)
    names = {id(p): n for n, p in net.named_parameters()}
    penalised = sorted(names[id(p)] for p in penalised_parameters(net))
    assert penalised == [
        "head.linear_weight", "head.weight", "trunk.0.weight", "trunk.2.weight"
    ]


@pytest.mark.parametrize("cls", [GMNMRegressor, GMNMClassifier])
def test_zero_weight_rows_have_no_influence_with_a_trunk(cls):
    rng = np.random.RandomState(1)
    X, y = (X_reg, y_curved) if cls is GMNMRegressor else (X_iris, y_iris)
    X_noise = rng.normal(10, 5, size=(40, X.shape[1]))
    y_noise = rng.permutation(np.resize(y, 40)) * (7 if cls is GMNMRegressor else 1)
    X_all, y_all = np.vstack([X, X_noise]), np.r_[y, y_noise]
    w = np.r_[np.ones(len(y)), np.zeros(40)]
    # (without early stopping, whose split would draw other rows)
    params = {**FAST, **TRUNK, "batch_size": 500, "early_stopping": False}
    weighted = _quiet_fit(cls(**params), X_all, y_all, sample_weight=w)
    reference = _quiet_fit(cls(**params), X, y)
    method = "predict" if cls is GMNMRegressor else "predict_proba"
    # Equal up to float32 round-off, relative to the targets' spread.
    atol = 1e-4 * (np.std(y) if cls is GMNMRegressor else 1.0)
    np.testing.assert_allclose(
        getattr(weighted, method)(X), getattr(reference, method)(X),
        rtol=1e-3, atol=atol,
    )


def test_early_stopping_warm_start_and_partial_fit_with_a_trunk():
    reg = _quiet_fit(
        GMNMRegressor(**{**FAST, "max_iter": 8}, **TRUNK, early_stopping=True),
        X_reg, y_curved,
    )
    assert len(reg.validation_scores_) == reg.n_iter_
    assert reg.best_validation_score_ == max(reg.validation_scores_)

    warm = GMNMRegressor(**FAST, **TRUNK, warm_start=True)
    _quiet_fit(warm, X_reg, y_curved)
    first = warm.coefs_[0].copy()
    _quiet_fit(warm, X_reg, y_curved)
    assert warm.n_iter_ == 10
    assert not np.array_equal(first, warm.coefs_[0])

    online = GMNMRegressor(**FAST, **TRUNK)
    for chunk in np.array_split(np.arange(len(y_curved)), 3):
        online.partial_fit(X_reg[chunk], y_curved[chunk])
    assert online.n_iter_ == 3 and online.centers_.shape == (8, 6)


@pytest.mark.parametrize(
    "change", [{"hidden_layer_sizes": (12, 7)}, {"activation": "relu"},
               {"hidden_layer_sizes": ()}]
)
def test_warm_start_refuses_another_trunk_and_keeps_the_model(change):
    reg = _quiet_fit(GMNMRegressor(**FAST, **TRUNK, warm_start=True), X_reg, y_reg)
    before = reg.predict(X_reg)
    reg.set_params(**change)
    with pytest.raises(ValueError, match="hidden_layer_sizes=\\(12, 6\\)"):
        reg.fit(X_reg, y_reg)
    np.testing.assert_array_equal(reg.predict(X_reg), before)
    assert reg.n_iter_ == 5


def test_clone_and_pickle_keep_the_trunk():
    reg = _quiet_fit(GMNMRegressor(**FAST, **TRUNK, solver="lbfgs"), X_reg, y_reg)
    assert clone(reg).get_params() == reg.get_params()
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.predict(X_reg), reg.predict(X_reg))
    assert loaded.module_.trunk[0].weight.dtype == torch.float64
    assert b"torch" not in pickle.dumps(reg)


def test_estimator_pickled_before_the_new_parameters_loads():
    reg = _quiet_fit(GMNMRegressor(**FAST), X_reg, y_reg)
    state = reg.__getstate__()
    for name in ("hidden_layer_sizes", "activation", "loss"):
        del state[name]
    old = GMNMRegressor.__new__(GMNMRegressor)
    old.__setstate__(state)
    assert old.get_params() == reg.get_params()
    np.testing.assert_array_equal(old.predict(X_reg), reg.predict(X_reg))


# -- loss='poisson' ----------------------------------------------------------
def test_half_poisson_deviance_is_mlps_poisson_loss():
    rng = np.random.RandomState(0)
    target = rng.poisson(3.0, size=(50, 1)).astype(float)
    mu = rng.uniform(0.5, 6.0, size=(50, 1))
    log_mu, t = torch.log(torch.from_numpy(mu)), torch.from_numpy(target)
    loss = HalfPoissonDeviance()(log_mu, t)
    np.testing.assert_allclose(loss.mean().item(), poisson_loss(target, mu), rtol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("hidden_layer_sizes", [(), (16,)])
def test_poisson_fits_counts_and_predicts_positive_means(solver, hidden_layer_sizes):
    reg = _quiet_fit(
        GMNMRegressor(
            loss="poisson", solver=solver, hidden_layer_sizes=hidden_layer_sizes,
            n_components=8, max_iter=60, early_stopping=False, random_state=0,
        ),
        X_counts, y_counts,
    )
    pred = reg.predict(X_counts)
    assert pred.shape == y_counts.shape and np.all(pred > 0)
    null = _mean_poisson_deviance(y_counts, np.full_like(y_counts, y_counts.mean()))
    model = _mean_poisson_deviance(y_counts, pred)
    truth = _mean_poisson_deviance(y_counts, MU)
    # Most of the deviance a perfect model would explain is explained.
    assert null - model > 0.8 * (null - truth)
    # The loss curve is the half deviance of the targets divided by their mean.
    assert reg.loss_curve_[-1] == pytest.approx(
        poisson_loss(y_counts / y_counts.mean(), pred / y_counts.mean()), rel=0.05
    )


def test_poisson_start_matches_the_weighted_mean_of_the_targets():
    w = np.where(X_counts[:, 2] > 0, 3.0, 1.0)
    reg = _quiet_fit(
        GMNMRegressor(loss="poisson", n_components=8, max_iter=1,
                      learning_rate_init=1e-12, early_stopping=False,
                      random_state=0),
        X_counts, y_counts, sample_weight=w,
    )
    # The intercept is the Poisson optimum: mean prediction = mean target.
    np.testing.assert_allclose(
        np.average(reg.predict(X_counts), weights=w),
        np.average(y_counts, weights=w),
        rtol=1e-4,
    )
    # The ridge start on log(y) already explains part of the deviance.
    pred = reg.predict(X_counts)
    null = _mean_poisson_deviance(y_counts, np.full_like(y_counts, y_counts.mean()))
    assert _mean_poisson_deviance(y_counts, pred) < 0.8 * null


def test_poisson_is_scale_equivariant_and_multi_output():
    reg = GMNMRegressor(loss="poisson", solver="lbfgs", max_iter=20, random_state=0,
                        n_components=8)
    a = _quiet_fit(clone(reg), X_counts, y_counts).predict(X_counts)
    b = _quiet_fit(clone(reg), X_counts, 1000.0 * y_counts).predict(X_counts)
    np.testing.assert_allclose(b, 1000.0 * a, rtol=1e-6)
    Y = np.column_stack([y_counts, y_counts[::-1]])
    both = _quiet_fit(clone(reg), X_counts, Y)
    assert both.predict(X_counts).shape == (300, 2)
    assert np.all(both.predict(X_counts) > 0)


def test_poisson_early_stopping_scores_are_deviance_explained():
    reg = _quiet_fit(
        GMNMRegressor(loss="poisson", early_stopping=True, n_components=8,
                      max_iter=10, random_state=0),
        X_counts, y_counts,
    )
    assert all(score <= 1.0 for score in reg.validation_scores_)
    assert reg.best_validation_score_ > 0.3


def test_poisson_partial_fit_accepts_an_all_zero_later_chunk():
    reg = GMNMRegressor(loss="poisson", n_components=8, random_state=0)
    reg.partial_fit(X_counts[:150], y_counts[:150])
    reg.partial_fit(X_counts[150:], np.zeros(150))
    assert reg.n_iter_ == 2 and np.all(reg.predict(X_counts) > 0)
    with pytest.raises(ValueError, match="2 of the 150 rows"):
        reg.partial_fit(X_counts[150:], np.r_[-1.0, -2.0, np.zeros(148)])


def test_poisson_refuses_negative_and_all_zero_targets():
    y = y_counts.copy()
    y[[3, 7, 9]] = -1.0
    with pytest.raises(ValueError, match="3 of the 300 rows of y have negative"):
        GMNMRegressor(loss="poisson").fit(X_counts, y)
    with pytest.raises(ValueError, match="positive mean"):
        GMNMRegressor(loss="poisson").fit(X_counts, np.zeros(300))
    # Zero on every row of positive weight is all zero too.
    w = (y_counts == 0).astype(float)
    with pytest.raises(ValueError, match="positive sample weight"):
        GMNMRegressor(loss="poisson").fit(X_counts, y_counts, sample_weight=w)
    # The squared error has no such requirement.
    _quiet_fit(GMNMRegressor(**FAST), X_counts, y)


def test_a_refused_fit_leaves_the_fitted_model_unchanged():
    reg = _quiet_fit(GMNMRegressor(**FAST, loss="poisson"), X_counts, y_counts)
    before = reg.predict(X_counts)
    state = {k: v for k, v in vars(reg).items() if not k.startswith("module")}
    bad_X = np.hstack([X_counts, X_counts])  # another number of features
    with pytest.raises(ValueError, match="negative"):
        reg.fit(bad_X, -y_counts)
    assert reg.n_features_in_ == 3
    np.testing.assert_array_equal(reg.predict(X_counts), before)
    assert vars(reg).keys() - {"module_"} == state.keys()
    # warm_start refuses another loss before changing anything.
    reg.set_params(warm_start=True, loss="squared_error")
    with pytest.raises(ValueError, match="loss='poisson'"):
        reg.fit(X_counts, y_counts)
    np.testing.assert_array_equal(reg.predict(X_counts), before)


def test_poisson_sets_the_positive_target_tag():
    assert GMNMRegressor(loss="poisson").__sklearn_tags__().target_tags.positive_only
    assert not GMNMRegressor().__sklearn_tags__().target_tags.positive_only


def test_poisson_with_a_trunk_pickles_and_keeps_the_link():
    reg = _quiet_fit(
        GMNMRegressor(**FAST, **TRUNK, loss="poisson"), X_counts, y_counts
    )
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.predict(X_counts), reg.predict(X_counts))
    assert np.all(loaded.predict(X_counts) > 0)
