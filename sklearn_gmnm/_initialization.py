"""Data-driven initialisation of a GMNM layer.

Three steps, each a function of its own:

1. :func:`place_centers`: k-means cluster centers (or random rows) of a
   bounded random subsample;
2. :func:`fit_widths`: each component's projection from the spread of its
   cluster, so that ``y^2`` is of order one for the cluster's points;
3. :func:`fit_mixing_weights`: a ridge least-squares fit of the targets on the
   Gaussian activations (the classic RBF-network fit), and on the inputs
   themselves when the layer has a linear term.

Everything is computed in float64 on the CPU and copied into the layer at
the end; training then only refines a model that is already good.

This module sits above :mod:`sklearn_gmnm.nn`: it writes into a layer, and
the layer itself knows nothing of k-means or ridge regression.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

from ._sparse import smooth_clip
from .nn import _functional as F
from .nn._layer import GMNM
from .nn._trunk import split_network, trunk_layers

__all__ = [
    "init_from_data",
    "init_network_from_data",
    "glorot_uniform_",
    "place_centers",
    "fit_widths",
    "fit_mixing_weights",
]

#: Typical squared distance ``y^2`` of a cluster's points to its center after
#: :func:`fit_widths`; larger values give narrower Gaussians.
TARGET_SQUARED_DISTANCE = 0.25

#: Rows (drawn at random) that :func:`init_from_data` uses by default.
MAX_INIT_SAMPLES = 20_000


def _as_float64_array(data: Any) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    return np.asarray(data, dtype=np.float64)


def subsample(
    n_samples: int,
    max_samples: int,
    sample_weight: np.ndarray | None,
    random_state: np.random.RandomState,
) -> np.ndarray:
    """Indices of at most ``max_samples`` rows, skipping rows of weight zero."""
    candidates = np.arange(n_samples)
    if sample_weight is not None:
        candidates = candidates[sample_weight > 0]
    if candidates.shape[0] <= max_samples:
        return candidates
    return np.sort(random_state.choice(candidates, max_samples, replace=False))


def place_centers(
    X: np.ndarray,
    n_components: int,
    *,
    init: str = "kmeans",
    sample_weight: np.ndarray | None = None,
    random_state: np.random.RandomState,
) -> np.ndarray:
    """Component centers from the data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows to place the centers among.
    n_components : int
        Number of centers.
    init : {'kmeans', 'random'}, default='kmeans'
        k-means cluster centers, or randomly chosen distinct rows.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights for k-means.
    random_state : RandomState instance
        Source of randomness.

    Returns
    -------
    centers : ndarray of shape (n_components, n_features)
        When ``X`` has fewer distinct rows than ``n_components``, every
        distinct row is a center and the remaining centers are jittered copies.
    """
    distinct = np.unique(X, axis=0)
    if distinct.shape[0] <= n_components:
        extra = n_components - distinct.shape[0]
        mean = np.average(X, axis=0, weights=sample_weight)
        spread = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sample_weight))
        spread = np.where(spread > 0, spread, 1.0)
        copies = distinct[random_state.randint(distinct.shape[0], size=extra)]
        jitter = 0.1 * spread * random_state.standard_normal(copies.shape)
        return np.vstack([distinct, copies + jitter])
    if init == "random":
        p = None
        if sample_weight is not None:
            p = sample_weight / sample_weight.sum()
        rows = random_state.choice(X.shape[0], n_components, replace=False, p=p)
        centers = X[rows]
        if np.unique(centers, axis=0).shape[0] == n_components:
            return centers
        # Duplicated rows were drawn: fall back on distinct rows.
        rows = random_state.choice(distinct.shape[0], n_components, replace=False)
        return distinct[rows]
    if init != "kmeans":
        raise ValueError(f"init must be 'kmeans' or 'random', got {init!r}.")
    kmeans = KMeans(
        n_clusters=n_components,
        n_init=1,
        max_iter=100,
        random_state=random_state.randint(np.iinfo(np.int32).max),
    )
    kmeans.fit(X, sample_weight=sample_weight)
    return kmeans.cluster_centers_


def _nearest(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d2 = (
        (X * X).sum(1)[:, None]
        - 2.0 * X @ centers.T
        + (centers * centers).sum(1)[None, :]
    )
    return d2.argmin(axis=1)


def _top_whitening(cov: torch.Tensor, rank: int) -> torch.Tensor:
    """Rows ``u_k / sqrt(lambda_k * rank)`` for the ``rank`` largest eigenpairs."""
    eigvals, eigvecs = torch.linalg.eigh(cov)
    eigvals = eigvals[..., -rank:].clamp_min(1e-12)
    eigvecs = eigvecs[..., -rank:]
    scale = 1.0 / torch.sqrt(eigvals * rank / TARGET_SQUARED_DISTANCE)
    return (eigvecs * scale.unsqueeze(-2)).transpose(-1, -2)


def fit_widths(
    X: np.ndarray,
    centers: np.ndarray,
    covariance_type: str,
    rank: int,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Projections that whiten each cluster's spread.

    Points are assigned to their nearest center; each cluster's weighted
    covariance is shrunk towards the pooled within-cluster variance (with a
    prior weight of ``n_features`` points, so small clusters stay well
    conditioned) and inverted in the form the covariance type needs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows.
    centers : ndarray of shape (n_components, n_features)
        Component centers.
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
        Structure of the projections.
    rank : int
        Rows of the projections of the ``'full'`` and ``'tied'`` types.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    projections : ndarray
        In the shape :class:`~sklearn_gmnm.nn.GMNM` stores them.
    """
    n, d = X.shape
    m = centers.shape[0]
    # Weights count rows (a weight of 2 is a repeated row), which sets how far
    # each cluster's covariance is shrunk towards the pooled one.
    w = np.ones(n) if sample_weight is None else sample_weight
    labels = _nearest(X, centers)
    Z = X - centers[labels]
    counts = np.bincount(labels, weights=w, minlength=m)
    pooled = float((w * (Z * Z).sum(1)).sum() / (w.sum() * d))
    if not pooled > 0:
        total = X.var(axis=0).mean()
        pooled = float(total) if total > 0 else 1.0
    prior = float(d)
    shrink = (counts / (counts + prior))[:, None]

    if covariance_type in ("diag", "spherical"):
        var = np.zeros((m, d))
        np.add.at(var, labels, w[:, None] * Z * Z)
        var = var / np.maximum(counts, 1e-12)[:, None]
        var = shrink * var + (1.0 - shrink) * pooled
        if covariance_type == "spherical":
            return 1.0 / np.sqrt(var.mean(1) * d / TARGET_SQUARED_DISTANCE)
        return 1.0 / np.sqrt(var * d / TARGET_SQUARED_DISTANCE)

    Zt = torch.from_numpy(Z * np.sqrt(w)[:, None])
    eye = torch.eye(d, dtype=torch.float64)
    if covariance_type == "tied":
        cov = Zt.t() @ Zt / w.sum()
        return _top_whitening(cov + 1e-6 * pooled * eye, rank).numpy()
    if covariance_type != "full":
        raise ValueError(f"Unknown covariance_type {covariance_type!r}.")
    # Per-cluster scatter matrices, accumulated one cluster at a time to keep
    # memory at O(n d + m d^2).
    labels_t = torch.from_numpy(labels)
    cov = torch.empty(m, d, d, dtype=torch.float64)
    for i in range(m):
        Zi = Zt[labels_t == i]
        cov[i] = Zi.t() @ Zi / max(counts[i], 1e-12)
    s = torch.from_numpy(shrink).unsqueeze(-1)
    cov = s * cov + (1.0 - s) * pooled * eye
    return _top_whitening(cov, rank).numpy()


def activations(
    X: np.ndarray, centers: np.ndarray, projections: np.ndarray, covariance_type: str
) -> np.ndarray:
    """Gaussian activations in float64, with the layer's own kernels."""
    kernel = getattr(F, f"gaussian_{covariance_type}")
    with torch.no_grad():
        g = kernel(*(torch.from_numpy(a) for a in (X, centers, projections)))
    return g.numpy()


#: Relative ridge penalties among which ``ridge_alpha='auto'`` chooses.
RIDGE_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


def _loo_best_penalty(
    Gc: np.ndarray, Yc: np.ndarray, gram: np.ndarray, penalties: np.ndarray
) -> float:
    """The penalty of least leave-one-out squared error, as RidgeCV finds it.

    With ``gram = V diag(s) V^T``, the fit with penalty ``p`` has hat-matrix
    diagonal ``h_i = sum_j (Gc V)_ij^2 / (s_j + p)`` and leave-one-out
    residuals ``e_i / (1 - h_i)``: one eigendecomposition serves all
    penalties. Rows are already scaled by the square roots of their weights.
    """
    s, V = np.linalg.eigh(gram)
    s = np.maximum(s, 0.0)
    GV = Gc @ V
    GV2 = GV**2
    proj = GV.T @ Yc
    errors = []
    for p in penalties:
        inv = 1.0 / (s + p)
        fitted = GV @ (inv[:, None] * proj)
        hat = GV2 @ inv
        loo = (Yc - fitted) / np.maximum(1.0 - hat, 1e-12)[:, None]
        errors.append(np.sum(loo**2))
    return float(penalties[int(np.argmin(errors))])


def fit_mixing_weights(
    G: np.ndarray,
    Y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    ridge_alpha: float | str = 1e-3,
    fit_intercept: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge least-squares fit of ``Y`` on the activations ``G``.

    Parameters
    ----------
    G : ndarray of shape (n_samples, n_regressors)
        Gaussian activations, followed by the inputs when the layer has a
        linear term.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights.
    ridge_alpha : float or 'auto', default=1e-3
        Penalty relative to the mean diagonal of ``G^T G``. ``'auto'``
        chooses it among ``RIDGE_ALPHAS`` by the leave-one-out error (as
        :class:`~sklearn.linear_model.RidgeCV` does, ignoring the
        intercept's share), so that on small, noisy data the start is no
        worse than a cross-validated ridge regression on the same columns.
    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept.

    Returns
    -------
    weight : ndarray of shape (n_outputs, n_regressors)
        Coefficients of the columns of ``G``.
    bias : ndarray of shape (n_outputs,)
        Intercept (zeros when ``fit_intercept=False``).
    """
    w = np.ones(G.shape[0]) if sample_weight is None else sample_weight
    if fit_intercept:
        g_mean = w @ G / w.sum()
        y_mean = w @ Y / w.sum()
    else:
        g_mean = np.zeros(G.shape[1])
        y_mean = np.zeros(Y.shape[1])
    sw = np.sqrt(w)[:, None]
    Gc = (G - g_mean) * sw
    Yc = (Y - y_mean) * sw
    gram = Gc.T @ Gc
    unit = max(np.trace(gram) / gram.shape[0], 1e-12)
    if isinstance(ridge_alpha, str):  # 'auto'
        penalty = _loo_best_penalty(Gc, Yc, gram, unit * np.asarray(RIDGE_ALPHAS))
    else:
        penalty = ridge_alpha * unit
    gram[np.diag_indices_from(gram)] += penalty
    coef = np.linalg.solve(gram, Gc.T @ Yc)
    return coef.T, y_mean - g_mean @ coef


@torch.no_grad()
def init_from_data(
    module: GMNM,
    X: Any,
    y: Any = None,
    *,
    init: str = "kmeans",
    sample_weight: Any = None,
    ridge_alpha: float | str = 1e-3,
    max_samples: int = MAX_INIT_SAMPLES,
    random_state: Any = None,
) -> GMNM:
    """Initialise a GMNM layer's centers, widths and mixing weights from data.

    Centers come from k-means (or random rows), widths from each cluster's
    spread, and, when ``y`` is given, mixing weights, bias and linear term
    from a ridge least-squares fit of ``y`` on the activations (and on ``X``
    itself, for a layer with ``linear_term=True``). This is how the
    estimators start; a torch user calls it on a layer of their own network.

    The widths fit the spread of ``X`` as it is now: call it on inputs that
    keep their distribution during training (raw or normalised features).
    Inside a network whose earlier layers are still to be trained, those
    features move and the Gaussians can end up far from them; there, prefer
    the layer's data-free start (:meth:`~sklearn_gmnm.nn.GMNM.reset_parameters`)
    on normalised inputs (for example after a :class:`torch.nn.LayerNorm`),
    or initialise from the trained features.

    Parameters
    ----------
    module : sklearn_gmnm.nn.GMNM
        The layer to initialise, in place.
    X : array-like or Tensor of shape (n_samples, in_features)
        Inputs, in the space the layer sees them. With the layer's
        ``input_clip``, centers and widths are fitted to the clipped inputs
        (where the Gaussians act) and the linear term to the inputs.
    y : array-like or Tensor of shape (n_samples, out_features), default=None
        Targets for the ridge fit of the mixing weights. ``None`` keeps the
        current mixing weights.
    init : {'kmeans', 'random'}, default='kmeans'
        How to place the centers: k-means cluster centers, or randomly
        chosen rows.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights; rows of weight zero have no influence.
    ridge_alpha : float or 'auto', default=1e-3
        Relative ridge penalty of the mixing-weight fit; ``'auto'`` chooses
        it by leave-one-out error (see :func:`fit_mixing_weights`).
    max_samples : int, default=20_000
        Rows (drawn at random) used for the initialisation.
    random_state : int, RandomState instance or None, default=None
        Seed of the subsampling and of k-means.

    Returns
    -------
    module : sklearn_gmnm.nn.GMNM
        The initialised layer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gmnm import init_from_data
    >>> from sklearn_gmnm.nn import GMNM
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> layer = init_from_data(GMNM(3, 1, n_components=8), X, X[:, :1] ** 2,
    ...                        random_state=0)
    >>> layer.centers.shape
    torch.Size([8, 3])
    """
    X = _as_float64_array(X)
    if X.ndim != 2 or X.shape[1] != module.in_features:
        raise ValueError(
            f"X must have shape (n_samples, {module.in_features}), got {X.shape}."
        )
    if X.shape[0] == 0:
        raise ValueError("X has no rows: at least one is needed to initialise.")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity.")
    rng = check_random_state(random_state)
    w = None
    if sample_weight is not None:
        w = _as_float64_array(sample_weight).reshape(-1)
        if w.shape[0] != X.shape[0] or (w < 0).any() or not w.sum() > 0:
            raise ValueError(
                "sample_weight must hold one non-negative weight per row, "
                "with a positive sum."
            )
    rows = subsample(X.shape[0], max_samples, w, rng)
    X_sub = X[rows]
    w_sub = None if w is None else w[rows]
    # The Gaussians act on the clipped inputs (the layer's input_clip), the
    # linear term on the inputs themselves.
    Z_sub = X_sub if module.input_clip is None else smooth_clip(
        X_sub.copy(), module.input_clip
    )

    centers = place_centers(
        Z_sub, module.n_components, init=init, sample_weight=w_sub, random_state=rng
    )
    projections = fit_widths(
        Z_sub, centers, module.covariance_type, module.rank, w_sub
    )
    param = module.centers
    module.centers.copy_(torch.as_tensor(centers, dtype=param.dtype))
    module.projections.copy_(torch.as_tensor(projections, dtype=param.dtype))

    if y is not None:
        Y = _as_float64_array(y)
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.shape != (X.shape[0], module.out_features):
            raise ValueError(
                f"y must have shape ({X.shape[0]}, {module.out_features}), "
                f"got {Y.shape}."
            )
        G = activations(Z_sub, centers, projections, module.covariance_type)
        linear = module.linear_weight is not None
        weight, bias = fit_mixing_weights(
            np.hstack([G, X_sub]) if linear else G,
            Y[rows],
            sample_weight=w_sub,
            ridge_alpha=ridge_alpha,
            fit_intercept=module.bias is not None,
        )
        m = module.n_components
        module.weight.copy_(torch.as_tensor(weight[:, :m], dtype=param.dtype))
        if linear:
            module.linear_weight.copy_(
                torch.as_tensor(weight[:, m:], dtype=param.dtype)
            )
        if module.bias is not None:
            module.bias.copy_(torch.as_tensor(bias, dtype=param.dtype))
    return module


@torch.no_grad()
def glorot_uniform_(
    trunk: torch.nn.Sequential | None, random_state: np.random.RandomState
) -> None:
    """Initialise the linear layers of a trunk as scikit-learn's MLP does.

    Each layer's weights and then its biases are drawn uniformly in
    ``[-b, b]`` with ``b = sqrt(6 / (fan_in + fan_out))``, or ``sqrt(2 /
    (fan_in + fan_out))`` for the ``'logistic'`` activation, from
    ``random_state`` in the order of
    ``MLPRegressor._init_coef`` (weights of shape ``(fan_in, fan_out)``).
    """
    for linear, activation in trunk_layers(trunk):
        fan_out, fan_in = linear.weight.shape
        factor = 2.0 if activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = random_state.uniform(-bound, bound, fan_out)
        dtype = linear.weight.dtype
        linear.weight.copy_(torch.as_tensor(coef.T, dtype=dtype))
        linear.bias.copy_(torch.as_tensor(intercept, dtype=dtype))


@torch.no_grad()
def trunk_features(trunk: torch.nn.Sequential | None, X: np.ndarray) -> np.ndarray:
    """Outputs of a trunk on ``X``, computed in float64 (``X`` itself if None)."""
    if trunk is None or len(trunk) == 0:
        return X
    trunk64 = copy.deepcopy(trunk).to(device="cpu", dtype=torch.float64)
    return trunk64(torch.from_numpy(np.ascontiguousarray(X))).numpy()


def init_network_from_data(
    network: torch.nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    *,
    init: str = "kmeans",
    sample_weight: np.ndarray | None = None,
    ridge_alpha: float | str = 1e-3,
    max_samples: int = 20_000,
    random_state: np.random.RandomState,
) -> torch.nn.Module:
    """Initialise a network of :func:`~sklearn_gmnm.nn.gmnm_network` from data.

    A single GMNM layer is initialised by :func:`init_from_data`, exactly.
    With a trunk, its linear layers get MLP's Glorot start
    (:func:`glorot_uniform_`); then a bounded random subsample of the rows
    goes through the untrained trunk, and :func:`init_from_data` places the
    head's centers, fits its widths and solves its mixing weights on those
    features, in the trunk's output space.

    Parameters
    ----------
    network : GMNM or torch.nn.Sequential
        The module to initialise, in place.
    X : ndarray of shape (n_samples, n_features)
        Inputs as the network sees them.
    y : ndarray of shape (n_samples, n_outputs)
        Targets of the ridge fit of the head.
    init : {'kmeans', 'random'}, default='kmeans'
        How the head's centers are placed.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights.
    ridge_alpha : float or 'auto', default=1e-3
        Relative ridge penalty of the head's mixing weights (see
        :func:`fit_mixing_weights`).
    max_samples : int, default=20_000
        Rows used for the head's initialisation.
    random_state : RandomState instance
        Source of randomness.

    Returns
    -------
    network : torch.nn.Module
        The initialised network.
    """
    trunk, head = split_network(network)
    if trunk is None:
        return init_from_data(
            head,
            X,
            y,
            init=init,
            sample_weight=sample_weight,
            ridge_alpha=ridge_alpha,
            max_samples=max_samples,
            random_state=random_state,
        )
    glorot_uniform_(trunk, random_state)
    rows = subsample(X.shape[0], max_samples, sample_weight, random_state)
    init_from_data(
        head,
        trunk_features(trunk, X[rows]),
        y[rows],
        init=init,
        sample_weight=None if sample_weight is None else sample_weight[rows],
        ridge_alpha=ridge_alpha,
        max_samples=max_samples,
        random_state=random_state,
    )
    return network
