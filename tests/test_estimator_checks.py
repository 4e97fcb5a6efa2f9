"""scikit-learn's estimator checks over both estimators and every covariance type."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

# Small budgets keep the checks fast; every covariance type, and fixed centers.
_SETTINGS = [
    {"covariance_type": covariance_type}
    for covariance_type in ("full", "diag", "spherical", "tied")
] + [{"learn_centers": False}]


def _estimators():
    for settings in _SETTINGS:
        for cls in (GMNMRegressor, GMNMClassifier):
            yield cls(n_components=16, max_iter=20, random_state=0, **settings)


@parametrize_with_checks(list(_estimators()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
