"""
Decision boundaries on 2-D toy data
===================================

:class:`~sklearn_gmnm.GMNMClassifier` and
:class:`~sklearn.neural_network.MLPClassifier` on three 2-D data sets. The
background shows the predicted probability of the second class; the white
crosses are the GMNM's Gaussian centers (the fitted attribute ``centers_``,
in the units of the data). Each class logit is a weighted sum of the same
Gaussians, so the boundaries are smooth curves drawn around those centers.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from sklearn.datasets import make_circles, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_gmnm import GMNMClassifier

datasets = {
    "moons": make_moons(n_samples=300, noise=0.25, random_state=0),
    "circles": make_circles(n_samples=300, noise=0.15, factor=0.5, random_state=1),
    "linearly separable": make_classification(
        n_samples=300, n_features=2, n_redundant=0, n_informative=2,
        n_clusters_per_class=1, class_sep=1.2, random_state=2,
    ),
}
models = {
    "GMNMClassifier (8 components)": lambda: GMNMClassifier(
        n_components=8, max_iter=100, learning_rate_init=1e-2, random_state=0
    ),
    "MLPClassifier (32 hidden units)": lambda: MLPClassifier(
        hidden_layer_sizes=(32,), max_iter=1000, random_state=0
    ),
}

# The MLP may stop at its iteration limit on these small sets; that is fine.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
points = ListedColormap(["#d62728", "#1f77b4"])

fig, axes = plt.subplots(len(datasets), len(models), figsize=(9, 12))
for row, (data_name, (X, y)) in enumerate(datasets.items()):
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    pad = 0.5
    xx, yy = np.meshgrid(
        np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 200),
        np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 200),
    )
    grid = np.c_[xx.ravel(), yy.ravel()]
    for col, (model_name, make) in enumerate(models.items()):
        ax = axes[row, col]
        model = make().fit(X_train, y_train)
        proba = model.predict_proba(grid)[:, 1].reshape(xx.shape)
        ax.contourf(xx, yy, proba, levels=20, cmap="RdBu", alpha=0.6)
        ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1)
        ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap=points,
                   edgecolors="k", s=18)
        ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap=points,
                   edgecolors="k", s=18, alpha=0.5)
        if isinstance(model, GMNMClassifier):
            ax.scatter(model.centers_[:, 0], model.centers_[:, 1], marker="X",
                       s=120, c="white", edgecolors="k", label="centers_")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlim(xx.min(), xx.max())
        ax.set_ylim(yy.min(), yy.max())
        ax.set_xticks(())
        ax.set_yticks(())
        ax.text(0.02, 0.96, f"test accuracy {model.score(X_test, y_test):.2f}",
                transform=ax.transAxes, va="top", fontsize=9,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
        if row == 0:
            ax.set_title(model_name)
        if col == 0:
            ax.set_ylabel(data_name)
fig.tight_layout()
plt.show()
