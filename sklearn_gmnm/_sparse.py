"""Sparse inputs: standardised and densified a bounded block of rows at a time.

The estimators standardise their inputs (centre and scale each column), which
turns a sparse matrix dense. Rather than densifying the whole matrix, the
front keeps it in CSR form and hands the solvers a :class:`StandardizedRows`
view, whose rows are densified and standardised when a mini-batch, a chunk
of the full-batch loss or a predict chunk takes them. The column means and
standard deviations come from
:func:`sklearn.utils.sparsefuncs.mean_variance_axis`, without densifying.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis

__all__ = [
    "StandardizedRows",
    "robust_center_and_scale",
    "smooth_clip",
    "round_statistics",
    "sparse_mean_and_scale",
    "standardize",
]

#: Significant bits kept of the standardisation's statistics.
_STATISTICS_BITS = 32


def round_statistics(
    mean: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Round the column scales to 32 significant bits, the means to ``scale / 2**32``.

    Dense and sparse inputs get their statistics from different summations,
    which differ in the last bits. Those bits would be harmless, were it not
    for the initial projections: the widths come from eigenvectors of the
    clusters' covariances, and within a degenerate eigenvalue any rotation is
    as good, so round-off picks one, and Adam (not rotation-invariant) then
    trains the two starts apart. Rounded statistics are the same for both
    (but within ``2**-32`` of a standard deviation of the exact ones, far
    below anything the float32 module resolves).
    """
    exponent = np.frexp(scale)[1]
    step = np.ldexp(1.0, exponent - _STATISTICS_BITS)
    scale = np.round(scale / step) * step
    step = np.ldexp(1.0, np.frexp(scale)[1] - _STATISTICS_BITS)
    return np.round(mean / step) * step, scale


def smooth_clip(Xs: np.ndarray, bound: float) -> np.ndarray:
    """``z / sqrt(1 + (z / bound)**2)`` in place: near ``z`` for small ``|z|``,
    tending to ``+-bound`` for large ones (RealMLP's smooth clipping).

    ``Xs`` must be finite and at most ``1e150`` in absolute value (the
    estimators clip it to ``1e6`` first), so that the square stays finite.
    """
    denominator = np.square(Xs / bound)
    denominator += 1.0
    np.sqrt(denominator, out=denominator)
    Xs /= denominator
    return Xs


def standardize(
    X: Any,
    mean: np.ndarray,
    scale: np.ndarray,
    max_score: float,
    clip: float | None = None,
) -> np.ndarray:
    """``(X - mean) / scale`` in float64, C order, clipped to ``+-max_score``.

    With ``clip``, the result then goes through :func:`smooth_clip` with that
    bound. A sparse ``X`` is densified first: pass it a bounded block of rows.
    """
    if sp.issparse(X):
        X = X.toarray()
    Xs = np.subtract(X, mean, dtype=np.float64, order="C")
    Xs /= scale
    np.clip(Xs, -max_score, max_score, out=Xs)
    return Xs if clip is None else smooth_clip(Xs, clip)


def robust_center_and_scale(
    X: Any, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Column medians and interquartile ranges, as RealMLP scales its inputs.

    Where the quartiles coincide (a column of mostly one value), the scale is
    half the column's range; for a constant column it is 1. Row-weighted by
    ``sample_weight`` (weighted quantiles, inverted-CDF rule; rows of weight
    zero take no part, and equal weights give the unweighted quantiles), and
    computed
    column by column in float64, so that a sparse matrix (whose implicit
    zeros count) is densified one column at a time and gives the same
    statistics as its dense form.
    """
    if sp.issparse(X):
        X = X.tocsc()
    rows = None
    if sample_weight is not None:
        # Rows of weight zero take no part; equal weights are no weights, so
        # that both give the unweighted (interpolated) quantiles.
        rows = np.flatnonzero(sample_weight > 0)
        sample_weight = sample_weight[rows]
        if np.all(sample_weight == sample_weight[0]):
            sample_weight = None
    n_features = X.shape[1]
    center, scale = np.empty(n_features), np.empty(n_features)
    for j in range(n_features):
        column = X[:, [j]].toarray().ravel() if sp.issparse(X) else X[:, j]
        column = np.asarray(column, dtype=np.float64)
        if rows is not None:
            column = column[rows]
        if sample_weight is None:
            q1, q2, q3 = np.quantile(column, [0.25, 0.5, 0.75])
        else:
            q1, q2, q3 = np.quantile(
                column, [0.25, 0.5, 0.75], weights=sample_weight,
                method="inverted_cdf",
            )
        spread = q3 - q1
        if not spread > 0:
            # half the range, computed so that it cannot overflow
            spread = column.max() / 2 - column.min() / 2
        center[j] = q2
        scale[j] = spread if np.isfinite(spread) and spread > 0 else 1.0
    return center, scale


def sparse_mean_and_scale(
    X: Any, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 where zero) of a sparse matrix.

    Row-weighted by ``sample_weight``; the implicit zeros count. Computed in
    float64 from the stored values only.
    """
    X = X.astype(np.float64, copy=False)
    mean, variance = mean_variance_axis(X, axis=0, weights=sample_weight)
    scale = np.sqrt(np.maximum(variance, 0.0))
    return np.asarray(mean, dtype=np.float64), np.where(scale > 0, scale, 1.0)


class StandardizedRows:
    """Standardised view of a CSR matrix, densified only for the rows asked.

    Indexing with a slice, an integer array (or a CPU tensor of indices)
    returns those rows as a dense float64 C-ordered array, standardised
    exactly as dense input is (:func:`standardize`).

    Parameters
    ----------
    X : sparse matrix or array of shape (n_samples, n_features)
        Raw inputs, CSR.
    mean : ndarray of shape (n_features,)
        Column means.
    scale : ndarray of shape (n_features,)
        Column standard deviations (no zeros).
    max_score : float
        Standardised values are clipped to ``[-max_score, max_score]``.
    clip : float or None, default=None
        Bound of the smooth clipping that follows, or None for none.
    """

    def __init__(
        self,
        X: Any,
        mean: np.ndarray,
        scale: np.ndarray,
        max_score: float,
        clip: float | None = None,
    ) -> None:
        self.X = X.tocsr() if X.format != "csr" else X
        self.mean = mean
        self.scale = scale
        self.max_score = max_score
        self.clip = clip

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        if hasattr(index, "numpy"):  # a torch tensor of indices
            index = index.cpu().numpy()
        return standardize(
            self.X[index], self.mean, self.scale, self.max_score, self.clip
        )
