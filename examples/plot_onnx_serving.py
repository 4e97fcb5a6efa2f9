"""
Serving a GMNM pipeline with ONNX Runtime
=========================================

A fitted pipeline that ends in a :class:`~sklearn_gmnm.GMNMRegressor`
converts to ONNX in one :func:`skl2onnx.to_onnx` call once
:mod:`sklearn_gmnm.onnx` has been imported, and `onnxruntime
<https://onnxruntime.ai>`_ then serves it without scikit-learn or torch. Here
we convert a small pipeline, check that onnxruntime gives the same
predictions, and compare the time of one call with ``predict`` and with the
torch module of :meth:`~sklearn_gmnm.GMNMRegressor.to_torch`.

This example needs the optional extra ``sklearn-gmnm[onnx]``.
"""

# %%
# Fit and convert
# ---------------
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
import skl2onnx
import torch
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_gmnm.onnx  # noqa: F401  (registers the converters)
from sklearn_gmnm import GMNMClassifier, GMNMRegressor

# Short trainings keep the example fast.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_diabetes(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

model = make_pipeline(
    StandardScaler(),
    GMNMRegressor(
        n_components=8, covariance_type="diag", max_iter=20, random_state=0
    ),
).fit(X_train, y_train)

# The example row fixes the input's type (float32) and number of features.
onx = skl2onnx.to_onnx(model, X_train[:1])

# One thread per call, as a server answering requests in parallel would run
# it (onnxruntime's default thread pool would also compete with torch's
# threads in the timings below).
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(
    onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
)
print("inputs: ", [(i.name, i.shape, i.type) for i in session.get_inputs()])
print("outputs:", [(o.name, o.shape, o.type) for o in session.get_outputs()])

# %%
# The same predictions
# --------------------
# The graph holds the whole model: the scaler, the estimator's own
# standardisation, the Gaussian layer and the target scaling. It computes in
# float32, so it agrees with ``predict`` to float32 round-off. The output has
# shape ``(n_samples, 1)``, as skl2onnx's regressors have.
expected = model.predict(X_test)
(onnx_pred,) = session.run(None, {"X": X_test})
difference = np.abs(onnx_pred.ravel() - expected)
print(f"largest difference: {difference.max():.2e} "
      f"(relative {difference.max() / np.abs(expected).max():.1e})")
print(f"test R^2: {model.score(X_test, y_test):.3f}")

# %%
# The torch module of the estimator takes the scaled inputs, so here it
# follows the pipeline's scaler.
scaler, reg = model[0], model[-1]
module = reg.to_torch()
with torch.no_grad():
    torch_pred = module(torch.as_tensor(scaler.transform(X_test))).numpy()
print(f"torch module, largest difference: {np.abs(torch_pred - expected).max():.2e}")

# %%
# Latency
# -------
# The median time of one call, for one row (a request) and for the whole
# test set (a batch). ``predict`` validates its input and runs scikit-learn
# and torch code for every call; onnxruntime runs one prepared graph; the
# torch module (after the scaler's ``transform``) runs a handful of tensor
# operations.


def median_time(function, repeats=100):
    function()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


row, batch = X_test[:1], X_test
# One thread for torch too, as for the onnxruntime session above.
threads = torch.get_num_threads()
torch.set_num_threads(1)
latency = {
    "predict": [
        1e3 * median_time(lambda x=x: model.predict(x)) for x in (row, batch)
    ],
    "onnxruntime": [
        1e3 * median_time(lambda x=x: session.run(None, {"X": x}))
        for x in (row, batch)
    ],
}
with torch.inference_mode():
    latency["torch module"] = [
        1e3 * median_time(lambda x=x: module(torch.as_tensor(scaler.transform(x))))
        for x in (row, batch)
    ]
torch.set_num_threads(threads)
for name, (one, many) in latency.items():
    print(f"{name:>12}: {one:.3f} ms for 1 row, {many:.3f} ms for {len(batch)} rows")

fig, ax = plt.subplots(figsize=(6, 3.5))
width = 0.27
positions = np.arange(2)
for k, (name, times) in enumerate(latency.items()):
    ax.bar(positions + (k - 1) * width, times, width, label=name)
ax.set_xticks(positions, ["1 row", f"{len(batch)} rows"])
ax.set_yscale("log")
ax.set_ylabel("median time per call (ms)")
ax.set_title("GMNM pipeline: predict, onnxruntime, torch module")
ax.legend()
fig.tight_layout()

# %%
# A classifier
# ------------
# The classifier's graph outputs the labels and the probabilities. By default
# skl2onnx wraps the probabilities into one dictionary per row (ZipMap); the
# option ``zipmap=False`` keeps them as an array.
X_iris, y_iris = load_iris(return_X_y=True)
X_iris = X_iris.astype(np.float32)
labels = np.array(["setosa", "versicolor", "virginica"])[y_iris]
clf = GMNMClassifier(n_components=8, max_iter=20, random_state=0).fit(X_iris, labels)
onx = skl2onnx.to_onnx(clf, X_iris[:1], options={id(clf): {"zipmap": False}})
session = ort.InferenceSession(
    onx.SerializeToString(), providers=["CPUExecutionProvider"]
)
onnx_labels, onnx_proba = session.run(None, {"X": X_iris})
print("labels identical:", bool((onnx_labels == clf.predict(X_iris)).all()))
print(f"largest probability difference: "
      f"{np.abs(onnx_proba - clf.predict_proba(X_iris)).max():.2e}")
