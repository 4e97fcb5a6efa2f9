"""ONNX conversion of the GMNM estimators, through skl2onnx.

Importing this module registers a parser, a shape calculator and a converter
for :class:`~sklearn_gmnm.GMNMRegressor` and
:class:`~sklearn_gmnm.GMNMClassifier` with skl2onnx, so that
:func:`skl2onnx.to_onnx` converts them, alone or inside a pipeline, and
onnxruntime runs the result. The graph holds the whole model: the
standardisation of the inputs, the Gaussian layer, and the target scaling
(regressor) or the softmax and the class labels (classifier).

The regressor's output ``variable`` has shape ``(n_samples, n_outputs)``, also
for a 1-D ``y``, as skl2onnx's regressors have. The classifier's outputs are
``label`` and ``probabilities``, the latter a list of dictionaries (ZipMap)
unless the option ``zipmap`` is False; the options ``zipmap``, ``nocl`` and
``output_class_labels`` work as for scikit-learn's classifiers. A classifier
fitted on a multilabel indicator matrix outputs the label probabilities (a
sigmoid per label) and, as ``label``, the int64 indicator matrix of shape
``(n_samples, n_labels)``, as skl2onnx converts a multilabel
:class:`~sklearn.neural_network.MLPClassifier`. The graph
computes in float32, or in float64 where its input is float64.

Requires the optional dependencies ``skl2onnx`` and ``onnxruntime``
(``pip install "sklearn-gmnm[onnx]"``).

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> import skl2onnx
>>> from sklearn.datasets import load_diabetes
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from sklearn_gmnm import GMNMRegressor
>>> import sklearn_gmnm.onnx  # registers the converters
>>> X, y = load_diabetes(return_X_y=True)
>>> X = X.astype(np.float32)
>>> model = make_pipeline(
...     StandardScaler(), GMNMRegressor(n_components=8, max_iter=5, random_state=0)
... ).fit(X, y)
>>> onx = skl2onnx.to_onnx(model, X[:1])
>>> session = ort.InferenceSession(onx.SerializeToString())
>>> session.run(None, {"X": X[:3]})[0].shape
(3, 1)
"""

from __future__ import annotations

try:
    import skl2onnx  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sklearn_gmnm.onnx needs skl2onnx (and onnxruntime to run the "
        "converted models): pip install 'sklearn-gmnm[onnx]'."
    ) from exc

from ._onnx import register_converters

__all__ = ["register_converters"]

register_converters()
