"""skl2onnx parsers, shape calculators and converters of the GMNM estimators.

The graph is the inference form of :mod:`sklearn_gmnm._export` written with
ONNX operators: standardisation (``Sub``, ``Div``, ``Clip``), the trunk's
hidden layers when there are any (``MatMul``, ``Add`` and ``Relu``,
``Tanh`` or ``Sigmoid``), the Gaussian activations of the covariance type
(``MatMul``, ``ReduceSumSquare``, ``Relu``, ``Exp``), the mixing
(``MatMul``, ``Add``), then the target scaling of the regressor (after an
``Exp`` for the Poisson loss), or the ``Softmax`` and the label lookup
(``ArgMax``, ``Gather``) of the classifier. A multilabel classifier ends as
skl2onnx ends :class:`~sklearn.neural_network.MLPClassifier` fitted on an
indicator matrix: a ``Sigmoid`` per label for the probabilities, and labels
that are the int64 indicator matrix of the probabilities above 0.5
(``Greater``, ``Cast``). It computes in float32, or in float64 where the
input of the estimator is float64.

This module imports skl2onnx; :mod:`sklearn_gmnm.onnx` is its public face.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx._parse import _parse_sklearn_classifier, _parse_sklearn_simple_model
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    guess_proto_type,
)
from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
from skl2onnx.common.utils import (
    check_input_and_output_numbers,
    check_input_and_output_types,
)
from skl2onnx.common.utils_classifier import get_label_classes
from skl2onnx.proto import onnx_proto
from sklearn.utils.validation import check_is_fitted

from ._base import _MAX_STANDARD_SCORE
from ._classifier import GMNMClassifier
from ._export import _checked_module, inference_constants, trunk_constants
from ._regressor import GMNMRegressor
from .nn._trunk import split_network

#: Aliases under which skl2onnx knows the estimators.
REGRESSOR_ALIAS = "SklearnGMNMRegressor"
CLASSIFIER_ALIAS = "SklearnGMNMClassifier"

#: Options of the classifier's converter, as skl2onnx's classifiers have them.
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [False, True],
    "output_class_labels": [False, True],
}

_INPUT_TYPES = [BooleanTensorType, DoubleTensorType, FloatTensorType, Int64TensorType]


# -- parsing and shapes -------------------------------------------------------
def _check_fitted(model: Any) -> None:
    """NotFittedError before skl2onnx reads any fitted attribute."""
    check_is_fitted(model, "module_")
    _checked_module(model)


def _parse_regressor(scope, model, inputs, custom_parsers=None):
    _check_fitted(model)
    return _parse_sklearn_simple_model(
        scope, model, inputs, custom_parsers=custom_parsers
    )


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    _check_fitted(model)
    # Refuse labels that ONNX cannot hold before any graph is built (with
    # the option nocl, the labels are the class indices).
    _label_array(get_label_classes(scope, model))
    return _parse_sklearn_classifier(
        scope, model, inputs, custom_parsers=custom_parsers
    )


def _check_n_features(operator) -> None:
    model = operator.raw_operator
    shape = operator.inputs[0].type.shape
    if len(shape) != 2:
        raise ValueError(
            f"{type(model).__name__} expects a 2-D input, got shape {shape}."
        )
    n_features = shape[1]
    if isinstance(n_features, int) and n_features != model.n_features_in_:
        raise ValueError(
            f"{type(model).__name__} was fitted on {model.n_features_in_} "
            f"features, but the ONNX input has {n_features}."
        )


def _regressor_shape_calculator(operator) -> None:
    """Output ``variable`` of shape ``[N, n_outputs_]``, in the input's type."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    _check_n_features(operator)
    input_type = operator.inputs[0].type
    tensor_type = (
        type(input_type)
        if isinstance(input_type, (FloatTensorType, DoubleTensorType))
        else FloatTensorType
    )
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = tensor_type(
        [n_rows, operator.raw_operator.n_outputs_]
    )


def _classifier_shape_calculator(operator) -> None:
    """Labels of shape ``[N]`` and probabilities of shape ``[N, n_classes]``.

    Multilabel: labels of shape ``[N, n_labels]`` (int64).
    """
    calculate_linear_classifier_output_shapes(operator)
    _check_n_features(operator)
    model = operator.raw_operator
    if model._is_multilabel():
        n_rows = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n_rows, len(model.classes_)])


def _label_array(classes: np.ndarray) -> np.ndarray:
    """Class labels as int64 or as UTF-8 bytes, the two label types of ONNX."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iub":
        return classes.astype(np.int64)
    values = classes.tolist()
    if all(isinstance(value, str) for value in values):
        return np.array([value.encode("utf-8") for value in values], dtype=object)
    if all(
        isinstance(value, numbers.Real) and float(value).is_integer()
        for value in values
    ):
        return np.array([int(value) for value in values], dtype=np.int64)
    raise ValueError(
        "Only integer and string class labels can be converted to ONNX (its "
        f"label output is int64 or string); classes_ is {classes.tolist()!r}. "
        "Fit on integer or string labels, or convert with options "
        "{id(model): {'nocl': True}} to output class indices."
    )


# -- graph ------------------------------------------------------------------------
class _Graph:
    """Adds nodes and constants of one floating type to a skl2onnx container."""

    def __init__(self, scope, container, proto_dtype: int) -> None:
        self.scope = scope
        self.container = container
        self.proto_dtype = proto_dtype
        self.np_dtype = (
            np.float64 if proto_dtype == onnx_proto.TensorProto.DOUBLE else np.float32
        )

    @property
    def opset(self) -> int:
        return self.container.target_opset

    def constant(self, name: str, value: Any) -> str:
        array = np.asarray(value, dtype=self.np_dtype)
        unique = self.scope.get_unique_variable_name(name)
        self.container.add_initializer(
            unique, self.proto_dtype, list(array.shape), array.ravel().tolist()
        )
        return unique

    def int64(self, name: str, values: list[int]) -> str:
        unique = self.scope.get_unique_variable_name(name)
        self.container.add_initializer(
            unique, onnx_proto.TensorProto.INT64, [len(values)], values
        )
        return unique

    def node(
        self, op_type: str, inputs: list[str], output: str | None = None, **attrs
    ) -> str:
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output

    def sum_squares(self, x: str, axis: int, keepdims: int) -> str:
        """``ReduceSumSquare`` over one axis, in the form of the opset."""
        if self.opset >= 18:
            axes = self.int64("axes", [axis])
            return self.node("ReduceSumSquare", [x, axes], keepdims=keepdims)
        return self.node("ReduceSumSquare", [x], axes=[axis], keepdims=keepdims)

    def smooth_clip(self, x: str, bound: float) -> str:
        """RealMLP's smooth clipping ``x / sqrt(1 + (x / bound)^2)``."""
        squared = self.node("Mul", [x, x])
        scaled = self.node("Mul", [squared, self.constant("inv_bound_sq", bound**-2)])
        shifted = self.node("Add", [scaled, self.constant("one", 1.0)])
        return self.node("Div", [x, self.node("Sqrt", [shifted])])

    def clip(self, x: str, bound: float) -> str:
        if self.opset >= 11:
            low = self.constant("clip_min", -bound)
            high = self.constant("clip_max", bound)
            return self.node("Clip", [x, low, high])
        return self.node("Clip", [x], min=-bound, max=bound)


def _gmnm_outputs(graph: _Graph, model: Any, x: str) -> str:
    """Raw module outputs (regression scores or logits) of raw inputs ``x``."""
    module = _checked_module(model)
    c = inference_constants(split_network(module)[1])
    centered = graph.node("Sub", [x, graph.constant("x_mean", model._x_mean)])
    xs = graph.node("Div", [centered, graph.constant("x_scale", model._x_scale)])
    xs = graph.clip(xs, _MAX_STANDARD_SCORE)
    bound = getattr(model, "_x_clip", None)
    if bound is not None:
        xs = graph.smooth_clip(xs, bound)
    for weight_t, bias, activation in trunk_constants(module):
        xs = graph.node("MatMul", [xs, graph.constant("trunk_weight_t", weight_t)])
        xs = graph.node("Add", [xs, graph.constant("trunk_bias", bias)])
        if activation != "identity":
            op = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid"}[activation]
            xs = graph.node(op, [xs])

    linear_input = xs
    if c["input_clip"] is not None:
        xs = graph.smooth_clip(xs, c["input_clip"])  # the Gaussians' inputs
    kind = c["covariance_type"]
    if kind == "full":
        # y = x @ stacked_t - offset, then the sum of squares over the rank
        # (rank-major columns: r blocks of n_components)
        stacked = graph.constant("stacked_t", c["stacked_t"])
        y = graph.node("MatMul", [xs, stacked])
        y = graph.node("Sub", [y, graph.constant("offset", c["offset"])])
        shape = graph.int64("shape", [-1, c["rank"], c["n_components"]])
        q = graph.sum_squares(graph.node("Reshape", [y, shape]), axis=1, keepdims=0)
        exponent = graph.node("Mul", [q, graph.constant("neg_half", -0.5)])
    elif kind == "diag":
        # q = (x * x) @ prec_t + x @ cross_t + center_sq
        squares = graph.node("Mul", [xs, xs])
        q = graph.node("MatMul", [squares, graph.constant("prec_t", c["prec_t"])])
        cross = graph.node("MatMul", [xs, graph.constant("cross_t", c["cross_t"])])
        q = graph.node("Add", [q, cross])
        q = graph.node("Add", [q, graph.constant("center_sq", c["center_sq"])])
        q = graph.node("Relu", [q])
        exponent = graph.node("Mul", [q, graph.constant("neg_half", -0.5)])
    else:
        # spherical, or tied: the same squared distance in the projected space
        points = xs
        if kind == "tied":
            projection = graph.constant("projection_t", c["projection_t"])
            points = graph.node("MatMul", [xs, projection])
        dist = graph.sum_squares(points, axis=1, keepdims=1)
        cross = graph.node("MatMul", [points, graph.constant("cross_t", c["cross_t"])])
        dist = graph.node("Add", [dist, cross])
        dist = graph.node("Add", [dist, graph.constant("center_sq", c["center_sq"])])
        dist = graph.node("Relu", [dist])
        factor = (
            graph.constant("neg_half_prec", c["neg_half_prec"])
            if kind == "spherical"
            else graph.constant("neg_half", -0.5)
        )
        exponent = graph.node("Mul", [dist, factor])
    g = graph.node("Exp", [exponent])

    out = graph.node("MatMul", [g, graph.constant("weight_t", c["weight_t"])])
    out = graph.node("Add", [out, graph.constant("bias", c["bias"])])
    if c["linear_t"] is not None:
        linear = graph.node(
            "MatMul", [linear_input, graph.constant("linear_t", c["linear_t"])]
        )
        out = graph.node("Add", [out, linear])
    return out


def _start(scope, operator, container) -> tuple[_Graph, str]:
    """The graph helper in the computing type, and the input cast to it."""
    proto_dtype = guess_proto_type(operator.inputs[0].type)
    if proto_dtype != onnx_proto.TensorProto.DOUBLE:
        proto_dtype = onnx_proto.TensorProto.FLOAT
    graph = _Graph(scope, container, proto_dtype)
    x = operator.inputs[0].full_name
    if guess_proto_type(operator.inputs[0].type) != proto_dtype:
        x = graph.node("Cast", [x], to=proto_dtype)
    return graph, x


def convert_gmnm_regressor(scope, operator, container) -> None:
    """skl2onnx converter of :class:`~sklearn_gmnm.GMNMRegressor`."""
    model = operator.raw_operator
    graph, x = _start(scope, operator, container)
    head = model._export_head()
    out = _gmnm_outputs(graph, model, x)
    if head.get("exp", False):
        out = graph.node("Exp", [out])
    scale = graph.constant("y_scale", head["output_scale"])
    if head["output_offset"] is None:
        graph.node("Mul", [out, scale], output=operator.outputs[0].full_name)
        return
    out = graph.node("Mul", [out, scale])
    graph.node(
        "Add",
        [out, graph.constant("y_mean", head["output_offset"])],
        output=operator.outputs[0].full_name,
    )


def convert_gmnm_classifier(scope, operator, container) -> None:
    """skl2onnx converter of :class:`~sklearn_gmnm.GMNMClassifier`."""
    model = operator.raw_operator
    graph, x = _start(scope, operator, container)
    logits = _gmnm_outputs(graph, model, x)
    if model._is_multilabel():
        proba = graph.node(
            "Sigmoid", [logits], output=operator.outputs[1].full_name
        )
        above = graph.node("Greater", [proba, graph.constant("threshold", 0.5)])
        graph.node(
            "Cast",
            [above],
            output=operator.outputs[0].full_name,
            to=onnx_proto.TensorProto.INT64,
        )
        return
    graph.node("Softmax", [logits], output=operator.outputs[1].full_name, axis=1)
    # Labels from the logits, as predict takes them.
    index = graph.node("ArgMax", [logits], axis=1, keepdims=0)
    labels = _label_array(get_label_classes(scope, model))
    classes = scope.get_unique_variable_name("classes")
    if labels.dtype == np.int64:
        container.add_initializer(
            classes, onnx_proto.TensorProto.INT64, [len(labels)], labels.tolist()
        )
    else:
        container.add_initializer(
            classes, onnx_proto.TensorProto.STRING, [len(labels)], labels.tolist()
        )
    graph.node("Gather", [classes, index], output=operator.outputs[0].full_name, axis=0)


def register_converters() -> None:
    """Register both estimators with skl2onnx.

    Adds a parser, a shape calculator and a converter for
    :class:`~sklearn_gmnm.GMNMRegressor` (alias ``'SklearnGMNMRegressor'``)
    and :class:`~sklearn_gmnm.GMNMClassifier` (alias
    ``'SklearnGMNMClassifier'``, with the options ``zipmap``, ``nocl`` and
    ``output_class_labels``) through
    :func:`skl2onnx.update_registered_converter`. Importing
    :mod:`sklearn_gmnm.onnx` calls it; calling it again is harmless.
    """
    update_registered_converter(
        GMNMRegressor,
        REGRESSOR_ALIAS,
        _regressor_shape_calculator,
        convert_gmnm_regressor,
        parser=_parse_regressor,
    )
    update_registered_converter(
        GMNMClassifier,
        CLASSIFIER_ALIAS,
        _classifier_shape_calculator,
        convert_gmnm_classifier,
        parser=_parse_classifier,
        options=CLASSIFIER_OPTIONS,
    )
