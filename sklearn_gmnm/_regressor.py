"""GMNMRegressor: the scikit-learn regressor."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils.validation import validate_data

from ._base import BaseGMNM
from ._docstrings import fill_doc
from ._engine import HalfSquaredError


@fill_doc
class GMNMRegressor(RegressorMixin, BaseGMNM):
    """Regressor built on a Gaussian Mixture-Inspired Nonlinear Module.

    The model is ``sum_i pi_i exp(-0.5 ||A_i (x - mu_i)||^2) + b``: centers
    from k-means, widths from the clusters' spread, mixing weights from a
    ridge fit, then trained end to end with Adam on the squared error. Inputs
    and targets are standardised internally.

    Parameters
    ----------
{shared_parameters}

    Attributes
    ----------
{shared_attributes}

    n_outputs_ : int
        Number of targets.

    See Also
    --------
    GMNMClassifier : The classifier counterpart.
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron regressor.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_gmnm import GMNMRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = GMNMRegressor(n_components=16, max_iter=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        n_components: int = 64,
        *,
        covariance_type: str = "full",
        rank: int | None = None,
        learn_centers: bool = True,
        init: str = "kmeans",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        random_state: Any = None,
        verbose: int = 0,
        device: str = "auto",
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(
            n_components,
            covariance_type=covariance_type,
            rank=rank,
            learn_centers=learn_centers,
            init=init,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            verbose=verbose,
            device=device,
            n_jobs=n_jobs,
        )

    _target_dtype = torch.float32

    def _criterion(self) -> torch.nn.Module:
        return HalfSquaredError()

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(y, dtype=np.float64)
        self._y_ndim = y.ndim
        Y = y.reshape(y.shape[0], -1)
        self.n_outputs_ = Y.shape[1]
        self._y_mean = Y.mean(axis=0)
        scale = Y.std(axis=0)
        self._y_scale = np.where(scale > 0, scale, 1.0)
        Ys = (Y - self._y_mean) / self._y_scale
        return Ys, Ys

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> "GMNMRegressor":
        """Fit the model to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        Returns
        -------
        self : GMNMRegressor
            The fitted estimator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=True,
            reset=True,
        )
        return self._fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, float64, shaped like the ``y`` given to ``fit``.
        """
        Y = self._forward(X) * self._y_scale + self._y_mean
        return Y.ravel() if self._y_ndim == 1 else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
