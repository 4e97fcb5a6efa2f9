"""
Out-of-core training: partial_fit over chunks, and dask-ml's Incremental
========================================================================

A data set that does not fit in memory can still train a GMNM model: the
stochastic solver (``solver='adam'``, the default) learns from one chunk of
rows at a time through ``partial_fit``. The first call initialises the model
(k-means centers, widths and the ridge start) from its chunk and learns the
input standardisation from it; every later call is one epoch of Adam on the
next chunk. Memory then depends on the chunk, not on the rows streamed
(``benchmarks/bench_streaming.py`` measures it over 10 million rows).

Two ways to feed the chunks: a plain loop over any source (files, a
database cursor, a generator), and `dask-ml <https://ml.dask.org>`_'s
:class:`~dask_ml.wrappers.Incremental`, which calls ``partial_fit`` on each
block of a Dask array in turn.
"""

# %%
# Chunks from a generator
# -----------------------
# Each chunk is made when it is needed and dropped after its epoch. The first
# chunk should be representative of the data: it places the Gaussians and
# fixes the standardisation. Here the chunks are drawn from the same
# distribution, which a shuffled file would give.
import dask.array as da
import numpy as np
from dask_ml.wrappers import Incremental
from sklearn.metrics import r2_score

from sklearn_gmnm import GMNMClassifier, GMNMRegressor


def chunks(n_chunks, rows, seed=0):
    """Yield (X, y) chunks of a smooth regression problem."""
    for index in range(n_chunks):
        rng = np.random.RandomState(seed + index)
        X = rng.uniform(-2, 2, size=(rows, 5)).astype(np.float32)
        y = np.sin(X[:, 0]) * X[:, 1] + np.cos(X[:, 2]) + 0.05 * rng.randn(rows)
        yield X, y


reg = GMNMRegressor(n_components=32, random_state=0)
for X_chunk, y_chunk in chunks(n_chunks=10, rows=2_000):
    reg.partial_fit(X_chunk, y_chunk)

X_test, y_test = next(chunks(1, 2_000, seed=1000))
print(f"epochs: {reg.n_iter_}, held-out R^2: {reg.score(X_test, y_test):.3f}")

# %%
# A classifier needs every class on the first call (``classes``), as for any
# scikit-learn estimator with ``partial_fit``; a chunk may miss some of them.
clf = GMNMClassifier(n_components=16, random_state=0)
for X_chunk, y_chunk in chunks(n_chunks=5, rows=2_000, seed=100):
    labels = np.digitize(y_chunk, [0.0, 1.0])
    clf.partial_fit(X_chunk, labels, classes=[0, 1, 2])
accuracy = clf.score(X_test, np.digitize(y_test, [0.0, 1.0]))
print(f"held-out accuracy: {accuracy:.3f}")

# %%
# dask-ml's Incremental
# ---------------------
# :class:`~dask_ml.wrappers.Incremental` wraps the estimator and calls its
# ``partial_fit`` on the blocks of a Dask array, one after the other, so only
# one block is in memory at a time (a Dask array read from Parquet or Zarr
# files is never loaded whole). Keyword arguments of ``fit`` go to every
# ``partial_fit`` call (``classes`` for a classifier).
# ``Incremental.predict`` works block by block too, lazily; the fitted
# estimator is ``estimator_``.

rng = np.random.RandomState(0)
X_all = da.from_array(rng.uniform(-2, 2, size=(40_000, 5)), chunks=(5_000, 5))
y_all = da.sin(X_all[:, 0]) * X_all[:, 1] + da.cos(X_all[:, 2])

incremental = Incremental(GMNMRegressor(n_components=32, random_state=0))
incremental.fit(X_all, y_all)
print(f"blocks trained on: {incremental.estimator_.n_iter_}")

# Predictions are a Dask array, computed block by block.
predictions = incremental.predict(X_all)
score = r2_score(y_all[:5_000].compute(), predictions[:5_000].compute())
print(f"R^2 on the first block: {score:.3f}")

# %%
# ``Incremental.fit`` starts from a fresh clone of the estimator; for more
# passes over the blocks, call ``incremental.partial_fit(X_all, y_all)``,
# which continues with the fitted one. A hyper-parameter search that trains
# incrementally is dask-ml's
# :class:`~dask_ml.model_selection.IncrementalSearchCV`.
incremental.partial_fit(X_all, y_all)
print(f"blocks trained on after a second pass: {incremental.estimator_.n_iter_}")
