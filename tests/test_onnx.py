"""ONNX conversion through skl2onnx, checked with onnxruntime."""


import numpy as np
import pytest
from _serving_cases import (
    COVARIANCE_TYPES,
    LABELS,
    VARIANTS,
    Y_COUNTS,
    X,
    assert_close,
    classifier,
    fit,
    multilabel,
    poisson,
    regressor,
)
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

skl2onnx = pytest.importorskip(
    "skl2onnx", reason="the ONNX export needs the optional extra sklearn-gmnm[onnx]"
)
ort = pytest.importorskip(
    "onnxruntime", reason="the ONNX export needs the optional extra sklearn-gmnm[onnx]"
)
gmnm_onnx = pytest.importorskip("sklearn_gmnm.onnx")

X32 = X.astype(np.float32)


def _regressor(covariance_type, y_ndim, variant="default", scaler=True):
    """Regressors are converted inside a pipeline with a StandardScaler."""
    return regressor(covariance_type, y_ndim, variant, scaler)


def _run(onx, X):
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("y_ndim", [1, 2])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_regressor_pipeline_matches_predict(covariance_type, y_ndim, variant):
    model = _regressor(covariance_type, y_ndim, variant)
    onx = skl2onnx.to_onnx(model, X32[:1])
    (out,) = _run(onx, X32)
    expected = model.predict(X32)
    # skl2onnx's regressors output (n_samples, n_outputs), also for a 1-D y.
    n_outputs = 1 if y_ndim == 1 else 2
    assert out.shape == (X.shape[0], n_outputs)
    assert out.dtype == np.float32
    assert_close(out, expected.reshape(-1, n_outputs))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("labels", list(LABELS))
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_classifier_matches_predict_and_predict_proba(covariance_type, labels, variant):
    clf = classifier(covariance_type, labels, variant)
    onx = skl2onnx.to_onnx(clf, X32[:1], options={id(clf): {"zipmap": False}})
    label, proba = _run(onx, X32)
    np.testing.assert_array_equal(label, clf.predict(X32))
    assert proba.shape == (X.shape[0], clf.classes_.shape[0])
    np.testing.assert_allclose(proba, clf.predict_proba(X32), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("labels", ["binary_int", "multiclass_str"])
def test_classifier_in_a_pipeline_with_zipmap(labels):
    model = classifier("full", labels, scaler=True)
    label, proba = _run(skl2onnx.to_onnx(model, X32[:1]), X32)
    np.testing.assert_array_equal(label, model.predict(X32))
    # ZipMap (the default): one {class: probability} dict per row.
    assert isinstance(proba, list) and len(proba) == X.shape[0]
    assert set(proba[0]) == set(model.classes_.tolist())
    expected = model.predict_proba(X32)
    as_array = np.array([[row[c] for c in model.classes_.tolist()] for row in proba])
    np.testing.assert_allclose(as_array, expected, rtol=1e-4, atol=1e-6)


def test_classifier_options_nocl_columns_and_class_labels():
    clf = classifier("diag", "multiclass_str")
    expected = clf.predict_proba(X32)

    onx = skl2onnx.to_onnx(
        clf, X32[:1], options={id(clf): {"zipmap": False, "nocl": True}}
    )
    label, proba = _run(onx, X32)
    np.testing.assert_array_equal(label, expected.argmax(axis=1))

    onx = skl2onnx.to_onnx(clf, X32[:1], options={id(clf): {"zipmap": "columns"}})
    outputs = _run(onx, X32)
    np.testing.assert_array_equal(outputs[0], clf.predict(X32))
    np.testing.assert_allclose(
        np.column_stack(outputs[1:]), expected, rtol=1e-4, atol=1e-6
    )

    onx = skl2onnx.to_onnx(
        clf,
        X32[:1],
        options={id(clf): {"zipmap": False, "output_class_labels": True}},
    )
    label, proba, classes = _run(onx, X32)
    np.testing.assert_array_equal(classes, clf.classes_)


@pytest.mark.parametrize(
    "make, option",
    [
        (lambda: classifier("full", "binary_int"), "raw_scores"),
        (lambda: _regressor("full", 1, scaler=False), "zipmap"),
    ],
)
def test_unsupported_option_is_named(make, option):
    model = make()
    with pytest.raises(NameError, match=option):
        skl2onnx.to_onnx(model, X32[:1], options={id(model): {option: True}})


@pytest.mark.parametrize("estimator", [GMNMRegressor(), GMNMClassifier()])
def test_unfitted_estimator_raises_not_fitted(estimator):
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(estimator, X32[:1])
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(make_pipeline(StandardScaler().fit(X), estimator), X32[:1])


def test_wrong_number_of_features_is_refused():
    reg = _regressor("tied", 1, scaler=False)
    with pytest.raises(ValueError, match="fitted on 4 features"):
        skl2onnx.to_onnx(reg, X32[:1, :3])


def test_float64_input_computes_in_float64():
    reg = _regressor("spherical", 2, scaler=False)
    (out,) = _run(skl2onnx.to_onnx(reg, X[:1]), X)
    assert out.dtype == np.float64
    assert_close(out, reg.predict(X))


@pytest.mark.parametrize("target_opset", [12, 17])
def test_older_opsets(target_opset):
    # ReduceSumSquare takes its axes as an attribute before opset 18.
    clf = classifier("full", "multiclass_int")
    onx = skl2onnx.to_onnx(
        clf,
        X32[:1],
        options={id(clf): {"zipmap": False}},
        target_opset=target_opset,
    )
    label, proba = _run(onx, X32)
    np.testing.assert_array_equal(label, clf.predict(X32))
    np.testing.assert_allclose(proba, clf.predict_proba(X32), rtol=1e-4, atol=1e-6)


def test_extreme_inputs_stay_finite():
    reg = _regressor("diag", 2, scaler=False)
    extreme = np.array([[1e30, -1e30, 1e30, 0.0], [-3e38, 3e38, 0.0, 1e-30]])
    (out,) = _run(skl2onnx.to_onnx(reg, X32[:1]), extreme.astype(np.float32))
    assert np.isfinite(out).all()
    assert_close(out, reg.predict(extreme))


def test_labels_that_onnx_cannot_hold_are_refused():
    from sklearn_gmnm._onnx import _label_array

    np.testing.assert_array_equal(_label_array(np.array([1.0, 3.0])), [1, 3])
    assert _label_array(np.array(["a", "é"])).tolist() == [b"a", "é".encode()]
    with pytest.raises(ValueError, match="integer and string class labels"):
        _label_array(np.array([0.5, 1.5]))


def test_registration_is_repeatable():
    gmnm_onnx.register_converters()
    reg = _regressor("full", 1)
    (out,) = _run(skl2onnx.to_onnx(reg, X32[:1]), X32)
    assert_close(out, reg.predict(X32).reshape(-1, 1))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_multilabel_classifier_as_mlp_converts(covariance_type):
    # skl2onnx converts a multilabel MLPClassifier to an int64 indicator
    # matrix of labels and the label probabilities: the same here.
    clf = multilabel(covariance_type)
    onx = skl2onnx.to_onnx(clf, X32[:1], options={id(clf): {"zipmap": False}})
    label, proba = _run(onx, X32)
    assert label.dtype == np.int64 and label.shape == (X.shape[0], 3)
    expected = clf.predict_proba(X32)
    np.testing.assert_allclose(proba, expected, rtol=1e-4, atol=1e-6)
    decided = np.abs(expected - 0.5) > 1e-4
    np.testing.assert_array_equal(label[decided], clf.predict(X32)[decided])
    assert onx.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 3


def test_multilabel_classifier_with_zipmap():
    clf = multilabel("full")
    label, proba = _run(skl2onnx.to_onnx(clf, X32[:1]), X32)
    np.testing.assert_array_equal(label, clf.predict(X32))
    as_array = np.array([[row[c] for c in range(3)] for row in proba])
    np.testing.assert_allclose(as_array, clf.predict_proba(X32), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "hidden_layer_sizes, activation",
    [((), "relu")]
    + [((6, 4), activation) for activation in ("identity", "logistic", "tanh", "relu")],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_graph_applies_the_exp_link(hidden_layer_sizes, activation, dtype):
    reg = poisson(hidden_layer_sizes, activation)
    inputs = X.astype(dtype)
    onx = skl2onnx.to_onnx(reg, inputs[:1])
    ops = {node.op_type for node in onx.graph.node}
    assert "Exp" in ops
    if hidden_layer_sizes and activation != "identity":
        op = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid"}[activation]
        assert op in ops
    (out,) = _run(onx, inputs)
    expected = reg.predict(inputs)
    assert out.dtype == dtype and np.all(out > 0)
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-4)


def test_poisson_with_a_trunk_in_a_pipeline():
    model = fit(
        GMNMRegressor(
            loss="poisson", n_components=6, hidden_layer_sizes=(8,), max_iter=3,
            random_state=0,
        ),
        Y_COUNTS,
        scaler=True,
    )
    (out,) = _run(skl2onnx.to_onnx(model, X32[:1]), X32)
    np.testing.assert_allclose(out[:, 0], model.predict(X32), rtol=1e-4)
