"""GMNMRegressor: the scikit-learn regressor."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._available_if import available_if

from ._base import BaseGMNM, _weighted_mean_and_scale
from ._docstrings import fill_doc
from ._loss import HalfSquaredError
from ._validation import validate_X_y_regression


@fill_doc
class GMNMRegressor(RegressorMixin, BaseGMNM):
    """Regressor built on a Gaussian Mixture-Inspired Nonlinear Module.

    The model is ``sum_i pi_i exp(-0.5 ||A_i (x - mu_i)||^2) + b``: centers
    from k-means, widths from the clusters' spread, mixing weights from a
    ridge fit, then trained end to end on the squared error, with mini-batch
    Adam or full-batch L-BFGS (``solver``). Inputs and targets are
    standardised internally.

    Training stops early on the stopping rule (see ``tol``). Interrupting
    ``fit`` (Ctrl-C, ``KeyboardInterrupt``) ends training after a warning and
    leaves a usable model with the weights reached so far (the best ones with
    ``early_stopping``).

    Which solver: ``'lbfgs'`` for small and smooth problems (up to a few
    thousand rows, a target that is a smooth function of the inputs), where
    it converges far beyond Adam; ``'adam'`` for larger data, noisy targets,
    ``partial_fit`` and early stopping. This is the advice scikit-learn gives
    for :class:`~sklearn.neural_network.MLPRegressor`.

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
        n_components: int | str = "auto",
        *,
        covariance_type: str = "full",
        rank: int | None = None,
        learn_centers: bool = True,
        linear_term: bool = True,
        init: str = "kmeans",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        power_t: float = 0.5,
        max_iter: int | str = "auto",
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        warm_start: bool = False,
        callbacks: list | None = None,
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
            linear_term=linear_term,
            init=init,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            warm_start=warm_start,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
            device=device,
            n_jobs=n_jobs,
        )

    def _criterion(self) -> torch.nn.Module:
        return HalfSquaredError()

    def _fit_target_encoding(
        self, y: np.ndarray, sample_weight: np.ndarray | None
    ) -> None:
        self._y_ndim = y.ndim
        Y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        self.n_outputs_ = Y.shape[1]
        self._y_mean, self._y_scale = _weighted_mean_and_scale(Y, sample_weight)

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s), but {type(self).__name__} was "
                f"fitted with {self.n_outputs_}."
            )
        Ys = (Y - self._y_mean) / self._y_scale
        return Ys, Ys

    def _validation_score(
        self, outputs: np.ndarray, targets: np.ndarray, sample_weight: np.ndarray | None
    ) -> float:
        # R^2 is unchanged by the per-output standardisation of the targets.
        return float(r2_score(targets, outputs, sample_weight=sample_weight))

    def _validate_fit_data(self, X: Any, y: Any, reset: bool):
        return validate_X_y_regression(self, X, y, reset=reset)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GMNMRegressor:
        """Fit the model to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, used in the initialisation and in the
            loss; rows of weight 0 have no influence. None means all ones.

        Returns
        -------
        self : GMNMRegressor
            The fitted estimator.
        """
        X, y = self._validate_fit_data(X, y, reset=not self._continues(False))
        return self._fit(X, y, self._check_sample_weight(sample_weight, X))

    @available_if(BaseGMNM._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None
    ) -> GMNMRegressor:
        """Train for one epoch on ``X`` and ``y``, continuing from earlier calls.

        The first call (on an unfitted estimator) learns the standardisation
        and initialises the model from this chunk; later calls continue with
        the same optimiser state. ``max_iter`` and early stopping do not
        apply.
        Only with ``solver='adam'``: with ``'lbfgs'``, which trains on all
        rows at once, the estimator has no ``partial_fit`` (as MLP).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights. None means all ones.

        Returns
        -------
        self : GMNMRegressor
            The estimator.
        """
        X, y = self._validate_fit_data(X, y, reset=not hasattr(self, "module_"))
        return self._fit(
            X, y, self._check_sample_weight(sample_weight, X), incremental=True
        )

    def predict(self, X: Any) -> np.ndarray:
        """Predict targets for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions shaped like the ``y`` given to ``fit``: float32
            where the training inputs and ``X`` are float32 (as MLP's),
            float64 otherwise.
        """
        out = self._forward(X)
        Y = (out * self._y_scale + self._y_mean).astype(out.dtype, copy=False)
        return Y.ravel() if self._y_ndim == 1 else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _export_head(self) -> dict:
        """Output map of :meth:`to_torch` and of the ONNX converter."""
        return {
            "output_scale": self._y_scale,
            "output_offset": self._y_mean,
            "squeeze": self._y_ndim == 1,
        }
