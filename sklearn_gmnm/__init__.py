"""Gaussian Mixture-Inspired Nonlinear Modules (GMNM) for scikit-learn.

The estimators :class:`GMNMRegressor` and :class:`GMNMClassifier` follow the
scikit-learn API; the layer itself is :class:`sklearn_gmnm.nn.GMNM`.
"""

from ._classifier import GMNMClassifier
from ._initialization import init_from_data
from ._regressor import GMNMRegressor

__version__ = "0.2.0.dev0"

__all__ = ["GMNMClassifier", "GMNMRegressor", "init_from_data", "__version__"]
