"""``to_torch``: the fitted estimators as self-contained torch modules."""

import functools
import warnings

import numpy as np
import pytest
import torch
from _serving_cases import (
    COVARIANCE_TYPES,
    VARIANTS,
    X,
    assert_close,
    classifier,
    poisson,
    regressor,
)
from sklearn.exceptions import NotFittedError

from sklearn_gmnm import GMNMClassifier, GMNMRegressor
from sklearn_gmnm._export import GMNMInference

X32 = torch.as_tensor(X, dtype=torch.float32)
# The float32 inputs the modules see, as float64 for predict: the comparisons
# then measure the modules, not the rounding of the inputs to float32.
X_ROUNDED = X32.numpy().astype(np.float64)
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("y_ndim", [1, 2])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_regressor_module_matches_predict(covariance_type, y_ndim, variant):
    reg = regressor(covariance_type, y_ndim, variant)
    module = reg.to_torch()
    assert isinstance(module, torch.nn.Module)
    assert not module.training
    with torch.no_grad():
        out = module(X32)
    assert out.dtype == torch.float32
    # Shaped like predict: 1-D for a 1-D y.
    assert out.ndim == y_ndim
    assert_close(out.numpy(), reg.predict(X_ROUNDED))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("labels", ["binary_int", "multiclass_str"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_classifier_module_matches_predict_proba(covariance_type, labels, variant):
    clf = classifier(covariance_type, labels, variant)
    with torch.no_grad():
        proba = clf.to_torch()(X32).numpy()
    expected = clf.predict_proba(X_ROUNDED)
    assert proba.shape == (X.shape[0], clf.classes_.shape[0])
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(
        clf.classes_[proba.argmax(axis=1)], clf.predict(X_ROUNDED)
    )


MODELS = [
    pytest.param(make, id=f"{kind}-{covariance_type}")
    for covariance_type in COVARIANCE_TYPES
    for kind, make in (
        ("regressor", functools.partial(regressor, covariance_type, 1)),
        (
            "classifier",
            functools.partial(classifier, covariance_type, "multiclass_str"),
        ),
    )
]


# Recent torch releases deprecate TorchScript in favour of torch.export; tracing
# still works and is what TorchScript serving stacks load.
@pytest.mark.filterwarnings("ignore:`torch.jit.trace:DeprecationWarning")
@pytest.mark.parametrize("make", MODELS)
def test_jit_trace(make):
    module = make().to_torch()
    with warnings.catch_warnings():
        # A TracerWarning would mean a value baked into the trace.
        warnings.simplefilter("error", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, X32[:5])
    # Plain operations only: no Python autograd function in the graph.
    assert "PythonOp" not in str(traced.inlined_graph)
    with torch.no_grad():
        # Another batch size than the one traced.
        np.testing.assert_array_equal(traced(X32).numpy(), module(X32).numpy())


@pytest.mark.parametrize("make", MODELS)
def test_torch_export(make):
    module = make().to_torch()
    batch = torch.export.Dim("batch")
    program = torch.export.export(
        module, (X32[:5],), dynamic_shapes={"x": {0: batch}}
    )
    exported = program.module()
    with torch.no_grad():
        np.testing.assert_allclose(
            exported(X32).numpy(), module(X32).numpy(), rtol=1e-6, atol=1e-6
        )
        assert exported(X32[:1]).shape[0] == 1


@pytest.mark.parametrize("estimator", [GMNMRegressor(), GMNMClassifier()])
def test_unfitted_estimator_raises_not_fitted(estimator):
    with pytest.raises(NotFittedError):
        estimator.to_torch()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_extreme_inputs_stay_finite_and_match_predict(covariance_type):
    reg = regressor(covariance_type, 2)
    extreme = np.array([[1e30, -1e30, 1e30, 0.0], [-3e38, 3e38, 0.0, 1e-30]])
    extreme = extreme.astype(np.float32).astype(np.float64)
    with torch.no_grad():
        out = reg.to_torch()(torch.as_tensor(extreme, dtype=torch.float32)).numpy()
    assert np.isfinite(out).all()
    assert_close(out, reg.predict(extreme))


def test_module_is_a_float32_copy():
    reg = regressor("full", 1)
    module = reg.to_torch()
    assert all(t.dtype == torch.float32 for t in module.buffers())
    assert list(module.parameters()) == []
    # Float64 parameters (and float64 inputs) give a float32 module too.
    reg64 = GMNMRegressor()
    reg64.__setstate__(reg.__getstate__())
    reg64.module_ = reg64.module_.double()
    module64 = reg64.to_torch()
    assert all(t.dtype == torch.float32 for t in module64.buffers())
    with torch.no_grad():
        out = module64(torch.as_tensor(X, dtype=torch.float64))
    assert out.dtype == torch.float32
    assert_close(out.numpy(), reg64.predict(X_ROUNDED))
    # Changing the estimator's module afterwards leaves the export alone.
    with torch.no_grad():
        before = module64(X32).clone()
        reg64.module_.weight.mul_(2.0)
        assert torch.equal(module64(X32), before)


def test_inference_module_refuses_squeeze_of_several_outputs():
    reg = regressor("diag", 2)
    with pytest.raises(ValueError, match="single output"):
        GMNMInference(reg.module_, reg._x_mean, reg._x_scale, 1e6, squeeze=True)


@pytest.mark.parametrize(
    "hidden_layer_sizes, activation",
    [((), "relu")]
    + [((6, 4), activation) for activation in ("identity", "logistic", "tanh", "relu")],
)
def test_poisson_module_applies_the_exp_link(hidden_layer_sizes, activation):
    reg = poisson(hidden_layer_sizes, activation)
    module = reg.to_torch()
    assert module.exp and "output='exp'" in repr(module)
    with torch.no_grad():
        out = module(X32).numpy()
    expected = reg.predict(X_ROUNDED)
    assert out.shape == expected.shape and np.all(out > 0)
    np.testing.assert_allclose(out, expected, rtol=1e-4)


@pytest.mark.parametrize(
    "make",
    [
        functools.partial(regressor, "full", 1, "trunk"),
        functools.partial(classifier, "tied", "binary_int", "trunk"),
        functools.partial(poisson, (6, 4), "logistic"),
    ],
)
def test_trunk_and_poisson_modules_trace_and_export(make):
    module = make().to_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("error", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, X32[:5])
    batch = torch.export.Dim("batch")
    exported = torch.export.export(
        module, (X32[:5],), dynamic_shapes={"x": {0: batch}}
    ).module()
    with torch.no_grad():
        expected = module(X32).numpy()
        np.testing.assert_array_equal(traced(X32).numpy(), expected)
        np.testing.assert_allclose(exported(X32).numpy(), expected, rtol=1e-6)


def test_trunk_module_has_the_trunk_as_buffers():
    reg = regressor("diag", 2, "trunk")
    module = reg.to_torch()
    assert module.trunk_activations == ["tanh", "tanh"]
    np.testing.assert_array_equal(
        module.trunk_weight_t_0.numpy(), reg.coefs_[0].astype(np.float32)
    )
    assert "hidden_layer_sizes=(7, 5)" in repr(module)


def test_foreign_module_is_refused():
    reg = regressor("full", 1)
    foreign = GMNMRegressor()
    foreign.__setstate__(reg.__getstate__())
    foreign.module_ = torch.nn.Sequential(torch.nn.Linear(4, 1))
    with pytest.raises(TypeError, match="only a GMNM layer"):
        foreign.to_torch()
