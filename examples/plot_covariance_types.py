"""
Covariance types and fixed vs learned centers
=============================================

What the four covariance types look like, with centers that are learned or
kept where k-means put them. We fit a :class:`~sklearn_gmnm.GMNMRegressor`
with 8 components to a 2-D function and draw, over the function's fitted
values, the level set :math:`\\lVert A_i (x - \\mu_i) \\rVert = 1` of every
Gaussian (the ellipse on which it has fallen to :math:`e^{-1/2}` of its peak):

- ``'full'``: each Gaussian has its own ellipse, of any orientation;
- ``'diag'``: each has its own axis-aligned ellipse;
- ``'spherical'``: each is a circle with its own radius;
- ``'tied'``: one ellipse shape shared by all, moved to each center.

The inputs are standardised before the fit so that the Gaussians'
projections, which act on standardised inputs, can be drawn in the plotted
coordinates.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMRegressor


def target(X):
    return np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.5 * X[:, 0] * X[:, 1]


rng = np.random.RandomState(0)
X = StandardScaler().fit_transform(rng.uniform(-2, 2, (1000, 2)) @ [[1, 0], [0.6, 0.8]])
y = target(X)
X_test = StandardScaler().fit_transform(
    rng.uniform(-2, 2, (1000, 2)) @ [[1, 0], [0.6, 0.8]])
y_test = target(X_test)


def precisions(model):
    """The precision matrices ``A_i^T A_i`` of a fitted 2-D model."""
    p = model.projections_
    m = model.centers_.shape[0]
    kind = model.covariance_type
    if kind == "full":
        return np.einsum("mri,mrj->mij", p, p)
    if kind == "diag":
        return np.stack([np.diag(a ** 2) for a in p])
    if kind == "spherical":
        return np.stack([s ** 2 * np.eye(2) for s in p])
    return np.repeat((p.T @ p)[None], m, axis=0)


def ellipse(center, precision, n=100):
    """Points x with (x - c)^T P (x - c) = 1."""
    vals, vecs = np.linalg.eigh(precision)
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)])
    return (center[:, None] + vecs @ (circle / np.sqrt(vals)[:, None])).T


xx, yy = np.meshgrid(np.linspace(-2.2, 2.2, 150), np.linspace(-2.2, 2.2, 150))
grid = np.c_[xx.ravel(), yy.ravel()]
kinds = ["full", "diag", "spherical", "tied"]
fig, axes = plt.subplots(
    2, 4, figsize=(14, 8), sharex=True, sharey=True, layout="constrained"
)
for row, learn in enumerate([True, False]):
    for col, kind in enumerate(kinds):
        model = GMNMRegressor(
            n_components=8, covariance_type=kind, learn_centers=learn,
            learning_rate_init=1e-2, max_iter=60, random_state=0,
        ).fit(X, y)
        ax = axes[row, col]
        ax.contourf(xx, yy, model.predict(grid).reshape(xx.shape), levels=20,
                    cmap="viridis")
        for center, precision in zip(model.centers_, precisions(model),
                                     strict=True):
            e = ellipse(center, precision)
            ax.plot(e[:, 0], e[:, 1], color="white", lw=1.2)
        ax.scatter(*model.centers_.T, marker="X", c="red", edgecolors="white",
                   s=60)
        centers = "learned" if learn else "fixed"
        ax.set_title(f"'{kind}', {centers} centers\n"
                     f"test $R^2$ = {model.score(X_test, y_test):.3f}",
                     fontsize=10)
        ax.set_aspect("equal")
        ax.set_xlim(-2.2, 2.2)
        ax.set_ylim(-2.2, 2.2)
plt.show()

# %%
# A rank-2 ``'full'`` Gaussian can be very long in one direction: it then acts
# like a ridge along that direction rather than a bump, which is how few
# components cover a function that changes mostly across one axis. Learned
# centers move towards the extremes of the function; fixed centers stay on
# the k-means grid and leave all the work to the widths and weights.
