"""GMNMRegressor: the scikit-learn regressor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.special import logsumexp
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from torch import Tensor

from ._base import (
    BaseGMNM,
    _weighted_mean_and_scale,
    module_dtype,
    unchanged_on_error,
    weight_tensor,
)
from ._docstrings import fill_doc
from ._loss import HalfPoissonDeviance, HalfSquaredError
from ._sparse import StandardizedRows
from ._validation import validate_X_y_regression
from .nn._trunk import split_network

#: Offset of the Poisson ridge start, in units of the target's mean: the
#: ridge fits ``log(y / mean + POISSON_RIDGE_OFFSET)``, finite at ``y = 0``.
POISSON_RIDGE_OFFSET = 0.1


@fill_doc
class GMNMRegressor(RegressorMixin, BaseGMNM):
    """Regressor built on a Gaussian Mixture-Inspired Nonlinear Module.

    The model is ``sum_i pi_i exp(-0.5 ||A_i (x - mu_i)||^2) + b``: centers
    from k-means, widths from the clusters' spread, mixing weights from a
    ridge fit, then trained end to end on the squared error (or, with
    ``loss='poisson'``, the Poisson deviance of its exponential), with
    mini-batch Adam or full-batch L-BFGS (``solver``). With
    ``hidden_layer_sizes`` the GMNM is the head of an MLP trunk and acts on
    its output. Inputs and targets are standardised internally.

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

    loss : {{'squared_error', 'poisson'}}, default='squared_error'
        Training loss, as in :class:`~sklearn.neural_network.MLPRegressor`:

        - ``'squared_error'``: half the squared error, identity output;
        - ``'poisson'``: half the Poisson deviance with a log link, for
          counts and other non-negative targets: the module outputs the log
          of the mean, and ``predict`` returns its exponential, always
          positive. The targets must be non-negative, with a positive
          (weighted) mean. They are divided by their (weighted) mean
          instead of being standardised, so that they stay non-negative,
          and the ridge start fits ``log(y / mean + 0.1)``, after which the
          intercept is set to its Poisson maximum-likelihood value. The
          validation score of early stopping is then the fraction of
          Poisson deviance explained (D^2) instead of R^2.

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
        input_scaling: str = "robust",
        hidden_layer_sizes: Any = (),
        activation: str = "relu",
        init: str = "kmeans",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 3e-3,
        power_t: float = 0.5,
        average: bool = True,
        max_iter: int | str = "auto",
        tol: float = 1e-4,
        n_iter_no_change: int | str = "auto",
        max_fun: int = 15000,
        early_stopping: bool | str = "auto",
        validation_fraction: float = 0.1,
        warm_start: bool = False,
        callbacks: list | None = None,
        random_state: Any = None,
        verbose: int = 0,
        device: str = "auto",
        n_jobs: int | None = None,
        loss: str = "squared_error",
    ) -> None:
        super().__init__(
            n_components,
            covariance_type=covariance_type,
            rank=rank,
            learn_centers=learn_centers,
            linear_term=linear_term,
            input_scaling=input_scaling,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            init=init,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            average=average,
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
        self.loss = loss

    _parameter_constraints: dict = {
        **BaseGMNM._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    _added_parameters: dict = {
        **BaseGMNM._added_parameters,
        "loss": "squared_error",
    }

    def _poisson(self) -> bool:
        """Whether the fitted (or, unfitted, the chosen) loss is Poisson."""
        return getattr(self, "_fitted_loss", self.loss) == "poisson"

    def _criterion(self) -> torch.nn.Module:
        return HalfPoissonDeviance() if self._poisson() else HalfSquaredError()

    def _check_targets(
        self, y: np.ndarray, sample_weight: np.ndarray | None, *, first: bool
    ) -> None:
        """Refuse targets the loss cannot fit, before any fitted state changes."""
        continues = not first
        fitted_loss = getattr(self, "_fitted_loss", "squared_error")
        if continues and fitted_loss != self.loss:
            raise ValueError(
                f"warm_start and partial_fit continue the model fitted with "
                f"loss={fitted_loss!r}; got loss={self.loss!r}. Restore "
                "it, or set warm_start=False for a new model."
            )
        if self.loss != "poisson":
            return
        Y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        negative = int(np.count_nonzero((Y < 0).any(axis=1)))
        if negative:
            raise ValueError(
                f"loss='poisson' requires non-negative targets, but {negative} "
                f"of the {Y.shape[0]} rows of y have negative values."
            )
        if first:
            w = np.ones(Y.shape[0]) if sample_weight is None else sample_weight
            zero = np.flatnonzero(~(w @ Y > 0))
            if zero.size:
                where = "" if Y.shape[1] == 1 else f" (outputs {zero.tolist()})"
                raise ValueError(
                    "loss='poisson' requires targets with a positive mean, but y "
                    f"is zero on every row of positive sample weight{where}: the "
                    "log link has no finite start for an all-zero target."
                )

    def _fit_target_encoding(
        self, y: np.ndarray, sample_weight: np.ndarray | None
    ) -> None:
        self._y_ndim = y.ndim
        self._fitted_loss = self.loss
        Y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        self.n_outputs_ = Y.shape[1]
        if self._poisson():
            # Divide by the mean only: the targets stay non-negative and the
            # log link absorbs the scale (log(mean) is added back by predict).
            mean = np.average(Y, axis=0, weights=sample_weight)
            if not np.all(mean > 0):
                raise ValueError(
                    "loss='poisson' requires targets with a positive mean in the "
                    "training rows; the rows left after the early-stopping split "
                    "are all zero. Use another random_state or validation_fraction."
                )
            self._y_mean, self._y_scale = np.zeros_like(mean), mean
        else:
            self._y_mean, self._y_scale = _weighted_mean_and_scale(Y, sample_weight)

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s), but {type(self).__name__} was "
                f"fitted with {self.n_outputs_}."
            )
        Ys = (Y - self._y_mean) / self._y_scale
        if self._poisson():
            return Ys, np.log(np.maximum(Ys, 0.0) + POISSON_RIDGE_OFFSET)
        return Ys, Ys

    def _adjust_start(
        self,
        module: torch.nn.Module,
        Xs: np.ndarray | StandardizedRows,
        targets: np.ndarray | None,
        sample_weight: np.ndarray | None,
    ) -> None:
        """Poisson: set the intercept to its maximum-likelihood value.

        The ridge start fits ``log(y + offset)``, whose exponential is biased;
        the intercept that makes the (weighted) mean prediction equal the
        mean target is the Poisson deviance's minimiser over the intercept.
        """
        if not self._poisson() or targets is None:
            return
        head = split_network(module)[1]
        if head.bias is None:
            return
        dtype = module_dtype(module)
        chunk = self._predict_chunk_rows()
        with torch.no_grad():
            eta = np.vstack([
                module(torch.as_tensor(Xs[i : i + chunk], dtype=dtype))
                .double()
                .numpy()
                for i in range(0, Xs.shape[0], chunk)
            ])
        w = np.ones(Xs.shape[0]) if sample_weight is None else sample_weight
        shift = np.log(w @ targets) - logsumexp(eta, axis=0, b=w[:, None])
        with torch.no_grad():
            head.bias += torch.as_tensor(shift, dtype=head.bias.dtype)

    def _validation_scorer(
        self, targets: np.ndarray, sample_weight: np.ndarray | None
    ) -> Callable[[Tensor], float]:
        if self._poisson():
            return _d2_poisson_scorer(targets, sample_weight)
        # R^2 is unchanged by the per-output standardisation of the targets.
        return _r2_scorer(targets, sample_weight)

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
        first = not self._continues(False)
        with unchanged_on_error(self):
            X, y = self._validate_fit_data(X, y, reset=first)
            sample_weight = self._check_sample_weight(sample_weight, X)
            self._check_targets(y, sample_weight, first=first)
        return self._fit(X, y, sample_weight)

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
        first = not hasattr(self, "module_")
        with unchanged_on_error(self):
            X, y = self._validate_fit_data(X, y, reset=first)
            sample_weight = self._check_sample_weight(sample_weight, X)
            self._check_targets(y, sample_weight, first=first)
        return self._fit(X, y, sample_weight, incremental=True)

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
            float64 otherwise; positive with ``loss='poisson'``.
        """
        out = self._forward(X)
        if self._poisson():
            Y = np.exp(out) * self._y_scale
        else:
            Y = out * self._y_scale + self._y_mean
        Y = Y.astype(out.dtype, copy=False)
        return Y.ravel() if self._y_ndim == 1 else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    def _export_head(self) -> dict:
        """Output map of :meth:`to_torch` and of the ONNX converter."""
        poisson = self._poisson()
        return {
            "output_scale": self._y_scale,
            "output_offset": None if poisson else self._y_mean,
            "exp": poisson,
            "squeeze": self._y_ndim == 1,
        }


def _r2_scorer(
    targets: np.ndarray, sample_weight: np.ndarray | None
) -> Callable[[Tensor], float]:
    """``score(outputs)``: R^2 averaged over the outputs, as
    :func:`sklearn.metrics.r2_score`.

    The same definition (a constant output scores 1 when predicted exactly,
    else 0), without the metric's input validation, with the targets'
    spread computed once, in torch on float64 tensors of shape (n, k): the
    early-stopping rule scores every epoch, and within a fit on a small data
    set, numpy's calls after the epoch's torch work cost several times what
    they cost alone.
    """
    t = torch.as_tensor(targets, dtype=torch.float64)
    w = weight_tensor(t.shape[0], sample_weight)
    mean = (w @ t) / w.sum()
    total = w @ (t - mean).square()
    spread = total > 0
    divisor = torch.where(spread, total, 1.0)

    def score(outputs: Tensor) -> float:
        residual = w @ (t - outputs).square()
        exact = (residual <= 0).to(torch.float64)
        return float(torch.where(spread, 1.0 - residual / divisor, exact).mean())

    return score


def _d2_poisson_scorer(
    targets: np.ndarray, sample_weight: np.ndarray | None
) -> Callable[[Tensor], float]:
    """``score(log_mean)``: fraction of Poisson deviance explained, averaged
    over the outputs.

    ``log_mean`` holds the module's outputs (log of the predicted mean, a
    float64 tensor of shape (n, k)), so that no prediction underflows to
    zero; the reference model predicts the (weighted) mean of each output.
    What depends on the targets alone is computed once.
    """
    t = torch.as_tensor(targets, dtype=torch.float64)
    w = weight_tensor(t.shape[0], sample_weight)
    saturated = torch.xlogy(t, t) - t
    mean = (w @ t) / w.sum()
    null = torch.xlogy(t, t / torch.where(mean > 0, mean, 1.0)) - t + mean
    ref = w @ null
    informative = ref > 0
    divisor = torch.where(informative, ref, 1.0)

    def score(log_mean: Tensor) -> float:
        deviance = saturated - t * log_mean + log_mean.exp()
        d2 = 1.0 - (w @ deviance) / divisor
        return float(torch.where(informative, d2, 0.0).mean())

    return score
