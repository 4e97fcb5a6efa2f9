"""
Quick start: GMNMRegressor next to MLPRegressor and RidgeCV
===========================================================

Fits three estimators at their defaults, each behind a ``StandardScaler``, on
scikit-learn's bundled diabetes data, and prints the test R^2 and the fit
time of each. The data are small (331 training rows) and noisy, and close to
linear: a cross-validated ridge regression is hard to beat there, and GMNM's
defaults aim to stay close to it (their start is a ridge fit with a
leave-one-out penalty, and early stopping keeps it unless training beats it
on held-out rows) where an MLP over-fits.
"""

from time import perf_counter

from sklearn.datasets import load_diabetes
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

print(f"{'estimator':<14} {'test R^2':>9} {'fit time':>9}")
for estimator in (
    GMNMRegressor(random_state=0),
    MLPRegressor(random_state=0),
    RidgeCV(),
):
    model = make_pipeline(StandardScaler(), estimator)
    start = perf_counter()
    model.fit(X_train, y_train)
    seconds = perf_counter() - start
    score = model.score(X_test, y_test)
    print(f"{type(estimator).__name__:<14} {score:>9.3f} {seconds:>8.2f}s")
