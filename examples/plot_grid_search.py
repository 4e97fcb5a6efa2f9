"""
Tuning GMNM with a Pipeline and GridSearchCV
============================================

Every hyper-parameter of :class:`~sklearn_gmnm.GMNMRegressor` is a
constructor parameter, so scikit-learn's searches reach all of them through
the usual ``step__parameter`` names. Here we search the number of components
and the covariance type on the bundled diabetes data.
"""

# %%
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gmnm import GMNMRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

pipe = Pipeline([
    ("scale", StandardScaler()),
    ("gmnm", GMNMRegressor(max_iter=30, alpha=1e-2, random_state=0)),
])
param_grid = {
    "gmnm__n_components": [2, 4, 8, 16, 32],
    "gmnm__covariance_type": ["full", "diag", "spherical"],
}
search = GridSearchCV(
    pipe, param_grid, cv=KFold(3, shuffle=True, random_state=0), scoring="r2"
)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"best CV R^2: {search.best_score_:.3f}")
print(f"test R^2 of the refitted best pipeline: {search.score(X_test, y_test):.3f}")

# %%
# The cross-validated score of every combination. On a small, noisy data set
# like this one, few components are enough: more of them mostly fit noise.
results = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots(figsize=(6, 4))
for cov, group in results.groupby("param_gmnm__covariance_type"):
    ax.errorbar(
        group["param_gmnm__n_components"], group["mean_test_score"],
        yerr=group["std_test_score"], marker="o", capsize=3, label=cov,
    )
ax.set_xscale("log", base=2)
ax.set_xlabel("n_components")
ax.set_ylabel("mean CV $R^2$")
ax.legend(title="covariance_type")
ax.set_title("GridSearchCV over GMNMRegressor")
fig.tight_layout()
plt.show()
