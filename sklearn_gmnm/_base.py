"""Shared scikit-learn front of the GMNM estimators.

This module holds what :class:`~sklearn_gmnm.GMNMRegressor` and
:class:`~sklearn_gmnm.GMNMClassifier` have in common: parameter validation,
input standardisation, building and initialising the torch module, handing
the training to a solver and booking what it did, and chunked prediction.
The torch math lives in :mod:`sklearn_gmnm.nn`, the data-driven
initialisation in :mod:`sklearn_gmnm._initialization`, the solvers in
:mod:`sklearn_gmnm._solvers` (over the skorch glue of
:mod:`sklearn_gmnm._engine`).
"""

from __future__ import annotations

import copy
import math
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from numbers import Real
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._device import (
    explain_cuda_oom,
    predict_device,
    release_cuda_memory,
    resolve_device,
)
from ._initialization import MAX_INIT_SAMPLES, init_network_from_data, subsample
from ._parallel import (
    fit_threads,
    initialization_threads,
    limit_threads,
    predict_threads,
    torch_threads,
)
from ._solvers import TrainingProblem, TrainingRecord, fit_lbfgs, fit_stochastic
from ._sparse import (
    StandardizedRows,
    robust_center_and_scale,
    round_statistics,
    sparse_mean_and_scale,
    standardize,
)
from ._validation import DeviceName, HiddenLayerSizes, IntInterval, validate_X
from .nn import GMNM, gmnm_network
from .nn._layer import COVARIANCE_TYPES
from .nn._trunk import ACTIVATIONS, split_network, trunk_layers

SOLVERS = ("adam", "lbfgs")

#: What ``max_iter='auto'`` means for ``'lbfgs'``: iterations.
_AUTO_LBFGS_ITER = 500

#: ``max_iter='auto'`` for ``'adam'``: epochs (MLP's default; a cap that
#: the early-stopping rule ends an ordinary fit well before) ...
_AUTO_ADAM_EPOCHS = 200

#: ... or more on small data sets: at least this many steps. Up to 256
#: rows an epoch is one step, and 200 steps cut off fits whose loss still
#: fell (``load_iris`` stops by itself after 180 to 363; see
#: ``benchmarks/RESULTS.md``).
_AUTO_ADAM_STEPS = 1000

#: ``n_iter_no_change='auto'``: at least this many epochs, and at least
#: ``_AUTO_PATIENCE_STEPS`` steps, so that a small data set (a step or two
#: an epoch) is not stopped by the noise of a few steps.
_AUTO_PATIENCE_EPOCHS = 5
_AUTO_PATIENCE_STEPS = 30

#: Ridge penalty of the data-driven start (see
#: :func:`~sklearn_gmnm._initialization.fit_mixing_weights`).
START_RIDGE_ALPHA: float | str = "auto"

#: ``early_stopping='auto'`` holds out a validation set when it has at
#: least this many rows.
AUTO_MIN_VALIDATION_ROWS = 20

#: Number of float32 intermediates (rows x components x rank) one predict
#: chunk may hold: 4 MiB, which stays in cache. On 4755 x 10 inputs with 64
#: components of rank 8 a predict took 3.65 ms with it, 4.26 ms with 32 MiB
#: chunks and 4.73 ms with 1 MiB ones (per-chunk overhead).
_PREDICT_BUDGET = 1 << 20

#: Standardised inputs are clipped to this many standard deviations, so that
#: a finite but extreme input (1e300, say) cannot overflow float32 into
#: ``inf - inf = nan``; every Gaussian is zero that far from the data anyway.
_MAX_STANDARD_SCORE = 1e6

#: Bound of the smooth clipping of ``input_scaling='robust'``: RealMLP's.
SMOOTH_CLIP_BOUND = 3.0


def auto_batch_size(n_samples: int) -> int:
    """Batch size used for ``batch_size='auto'``.

    256 rows up to 16384 samples, then ``n_samples // 64`` (at most 2048), so
    an epoch has at least 64 steps and large data sets do not pay the fixed
    cost of a step for every 256 rows.
    """
    return min(n_samples, max(256, min(2048, n_samples // 64)))


def auto_n_components(n_samples: int, n_outputs: int = 1) -> int:
    """Components used for ``n_components='auto'``.

    ``n_samples // 10``, at least 8 and at most ``max(64, 5 * n_outputs)``
    (``n_outputs``: outputs of the regression, or classes): ten rows per
    Gaussian, and room for five Gaussians per class where there are many
    classes. Chosen on the development suite (``benchmarks/RESULTS.md``).
    """
    return min(max(64, 5 * n_outputs), max(8, n_samples // 10))


def weight_tensor(n_rows: int, sample_weight: np.ndarray | None) -> torch.Tensor:
    """Row weights as a float64 tensor on the CPU (ones when None)."""
    if sample_weight is None:
        return torch.ones(n_rows, dtype=torch.float64)
    return torch.as_tensor(sample_weight, dtype=torch.float64)


def _weighted_mean_and_scale(
    X: np.ndarray, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 where zero), row-weighted."""
    mean = np.average(X, axis=0, weights=sample_weight)
    scale = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sample_weight))
    return mean, np.where(scale > 0, scale, 1.0)


def hidden_sizes(hidden_layer_sizes: Any) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of ints (one int is one layer)."""
    if np.ndim(hidden_layer_sizes) == 0:
        return (int(hidden_layer_sizes),)
    return tuple(int(size) for size in np.ravel(hidden_layer_sizes))


def module_dtype(module: torch.nn.Module) -> torch.dtype:
    """Floating type of a module's parameters."""
    return next(module.parameters()).dtype


@contextmanager
def unchanged_on_error(estimator: BaseEstimator) -> Iterator[None]:
    """Restore the estimator's attributes if the block raises.

    Wraps the validation at the start of ``fit``: ``validate_data`` records
    ``n_features_in_`` before the targets are checked, and a refused fit
    must leave a fitted model as it was.
    """
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def _cpu_copy(state: Any) -> Any:
    """Deep copy of a (nested) state dict with every tensor on the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: _cpu_copy(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu_copy(value) for value in state)
    return copy.deepcopy(state)


def _tensors_to_arrays(state: Any) -> Any:
    """Copy of a (nested) state dict with every tensor as a numpy array."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu().numpy().copy()
    if isinstance(state, dict):
        return {key: _tensors_to_arrays(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_tensors_to_arrays(value) for value in state)
    return state


def _arrays_to_tensors(state: Any) -> Any:
    """Inverse of :func:`_tensors_to_arrays` (torch state holds no arrays)."""
    if isinstance(state, np.ndarray):
        return torch.from_numpy(np.array(state))
    if isinstance(state, dict):
        return {key: _arrays_to_tensors(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_arrays_to_tensors(value) for value in state)
    return state


class BaseGMNM(BaseEstimator, metaclass=ABCMeta):
    """Base class of the GMNM estimators; not for direct use."""

    _parameter_constraints: dict = {
        "n_components": [StrOptions({"auto"}), IntInterval(1, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "rank": [IntInterval(1, None, closed="left"), None],
        "learn_centers": ["boolean"],
        "linear_term": ["boolean"],
        "input_scaling": [StrOptions({"robust", "standard"})],
        "hidden_layer_sizes": [HiddenLayerSizes()],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "init": [StrOptions({"kmeans", "random"})],
        "solver": [StrOptions(set(SOLVERS))],
        "alpha": [Interval(Real, 0, np.inf, closed="left")],
        "batch_size": [StrOptions({"auto"}), IntInterval(1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, np.inf, closed="neither")],
        "power_t": [Interval(Real, 0, np.inf, closed="left")],
        "average": ["boolean"],
        "max_iter": [StrOptions({"auto"}), IntInterval(1, None, closed="left")],
        "tol": [Interval(Real, 0, np.inf, closed="left")],
        "n_iter_no_change": [StrOptions({"auto"}), IntInterval(1, None, closed="left")],
        "max_fun": [IntInterval(1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "warm_start": ["boolean"],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [DeviceName()],
        "n_jobs": [
            IntInterval(None, -1, closed="right"),
            IntInterval(1, None, closed="left"),
            None,
        ],
    }

    @abstractmethod
    def __init__(
        self,
        n_components: int,
        *,
        covariance_type: str,
        rank: int | None,
        learn_centers: bool,
        linear_term: bool,
        input_scaling: str,
        hidden_layer_sizes: Any,
        activation: str,
        init: str,
        solver: str,
        alpha: float,
        batch_size: int | str,
        learning_rate: str,
        learning_rate_init: float,
        power_t: float,
        average: bool,
        max_iter: int | str,
        tol: float,
        n_iter_no_change: int | str,
        max_fun: int,
        early_stopping: bool | str,
        validation_fraction: float,
        warm_start: bool,
        callbacks: list | None,
        random_state: Any,
        verbose: int,
        device: str,
        n_jobs: int | None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.rank = rank
        self.learn_centers = learn_centers
        self.linear_term = linear_term
        self.input_scaling = input_scaling
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.average = average
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.n_jobs = n_jobs

    # -- hooks the subclasses fill in -------------------------------------
    @abstractmethod
    def _fit_target_encoding(self, y: np.ndarray, sample_weight: np.ndarray | None):
        """Learn what the encoding of the targets needs (first fit only)."""

    @abstractmethod
    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encode targets: return (training targets, ridge targets)."""

    @abstractmethod
    def _criterion(self) -> torch.nn.Module:
        """Per-row loss with ``reduction='none'``."""

    @abstractmethod
    def _validation_scorer(
        self, targets: np.ndarray, sample_weight: np.ndarray | None
    ) -> Callable[[torch.Tensor], float]:
        """``score(outputs)``: score (higher is better) of raw module outputs
        (a float64 tensor on the CPU) on these encoded targets, with what
        depends on the targets alone computed once (the early-stopping rule
        scores every epoch)."""

    #: Parameters added after the first release, with the values that
    #: estimators saved before them implicitly had.
    _added_parameters: dict = {
        "hidden_layer_sizes": (),
        "activation": "relu",
        "input_scaling": "standard",
        "_x_clip": None,
    }

    #: Whether the early-stopping split is stratified on ``y``.
    _stratify_split = False

    # -- fitting ----------------------------------------------------------
    def _check_solver(self) -> bool:
        """``partial_fit`` is there for the stochastic solver only (as MLP)."""
        if self.solver != "adam":
            raise AttributeError(
                "partial_fit is only available for the stochastic solver "
                f"'adam'; solver={self.solver!r} trains on all rows at once."
            )
        return True

    def _continues(self, incremental: bool) -> bool:
        """Whether this fit continues from the fitted module."""
        return (incremental or self.warm_start) and hasattr(self, "module_")

    def _check_continued_structure(self) -> None:
        """Refuse to continue a fitted module with other hidden layers.

        ``warm_start`` and ``partial_fit`` train the fitted module further:
        ``hidden_layer_sizes`` and ``activation`` must be those it was built
        with.
        """
        layers = trunk_layers(split_network(self.module_)[0])
        fitted = tuple(linear.out_features for linear, _ in layers)
        wanted = hidden_sizes(self.hidden_layer_sizes)
        if fitted != wanted or (layers and layers[0][1] != self.activation):
            activation = layers[0][1] if layers else self.activation
            raise ValueError(
                "warm_start and partial_fit continue the fitted model, which has "
                f"hidden_layer_sizes={fitted} and activation={activation!r}; got "
                f"hidden_layer_sizes={wanted} and activation={self.activation!r}. "
                "Restore them, or set warm_start=False for a new model."
            )

    def _standardize(self, X: Any) -> np.ndarray:
        """Centre and scale in float64, before any cast to float32.

        Scores beyond ``_MAX_STANDARD_SCORE`` standard deviations are clipped,
        so that the float32 computation stays finite for any finite input.
        The result is C-ordered whatever the layout of X (a DataFrame's
        values are often column-major), so that the same rows give
        bit-identical outputs. A sparse ``X`` is densified: pass a bounded
        block of rows, or see :meth:`_standardized_rows`.
        """
        return standardize(
            X, self._x_mean, self._x_scale, _MAX_STANDARD_SCORE, self._x_clip
        )

    def _standardized_rows(self, X: Any) -> np.ndarray | StandardizedRows:
        """Standardised training rows: an array, or a lazy view of sparse ``X``."""
        if sp.issparse(X):
            return StandardizedRows(
                X, self._x_mean, self._x_scale, _MAX_STANDARD_SCORE, self._x_clip
            )
        return self._standardize(X)

    def _check_sample_weight(
        self, sample_weight: Any, X: np.ndarray
    ) -> np.ndarray | None:
        if sample_weight is None:
            return None
        return _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        incremental: bool = False,
    ) -> BaseGMNM:
        """Train on validated ``X``, ``y`` and row weights (or None).

        ``incremental=True`` is one epoch of ``partial_fit``; with it or with
        ``warm_start``, training continues from the fitted module.
        """
        if incremental and self.early_stopping != "auto" and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: there is no "
                "validation set to watch across calls. Set early_stopping=False."
            )
        if self.solver == "lbfgs" and self.callbacks:
            raise ValueError(
                "callbacks are skorch callbacks of the mini-batch loop and apply "
                "to solver='adam' only; remove them, or use solver='adam'."
            )
        if self._continues(incremental):
            self._check_continued_structure()
        device = resolve_device(self.device)
        n_threads = fit_threads(self.n_jobs, self.solver == "adam", device.type)
        with limit_threads(self.n_jobs), torch_threads(n_threads):
            try:
                return self._fit_on(device, X, y, sample_weight, incremental)
            finally:
                if device.type == "cuda":
                    release_cuda_memory(device)

    def _fit_on(
        self,
        device: torch.device,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        incremental: bool,
    ) -> BaseGMNM:
        """Prepare the data, initialise the module, run the solver, book it."""
        continues = self._continues(incremental)
        if not continues:
            self._random_state = check_random_state(self.random_state)
        rng = self._random_state

        self._validates = self._resolve_early_stopping(X, y, incremental)
        held_out = None
        if self._early_stopping():
            X, y, sample_weight, held_out = self._split_validation(
                X, y, sample_weight, rng
            )
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError(
                "The sample weights of the training rows are all zero: at least "
                "one row needs a positive weight."
            )
        if not continues:
            self._fit_target_encoding(y, sample_weight)
            self._x_mean, self._x_scale, self._x_clip = self._input_statistics(
                X, sample_weight
            )
            # Predictions are float32 only for a model trained on float32
            # inputs, as MLP's (whose weights take the inputs' dtype).
            # (a plain str: skops loads it without trusting a numpy type)
            self._fit_dtype = X.dtype.name
        targets, ridge_targets = self._encode_targets(y)
        Xs = self._standardized_rows(X)
        if not continues:
            with initialization_threads(self.n_jobs):
                self._initialize_module(Xs, ridge_targets, sample_weight, rng, targets)

        problem = TrainingProblem(
            module=self.module_,
            criterion=self._criterion(),
            X=Xs,
            y=targets,
            sample_weight=sample_weight,
            alpha=self.alpha,
            device=device,
            validation=None if held_out is None else self._validation(*held_out),
        )
        if self.solver == "lbfgs":
            max_iter = self._max_iter()
            record = fit_lbfgs(self, problem, max_iter=max_iter)
        else:
            batch_size = (
                auto_batch_size(X.shape[0])
                if self.batch_size == "auto"
                else min(self.batch_size, X.shape[0])
            )
            steps_per_epoch = math.ceil(X.shape[0] / batch_size)
            max_iter = 1 if incremental else self._max_iter(steps_per_epoch)
            best, no_improvement_count = self._stopping_state
            record = fit_stochastic(
                self,
                problem,
                batch_size=batch_size,
                max_epochs=max_iter,
                patience=self._patience(steps_per_epoch),
                seed=int(rng.randint(np.iinfo(np.int32).max)),
                average=self.average and not incremental,
                epoch_offset=self.n_iter_,
                resume=(
                    best,
                    no_improvement_count,
                    self._optimizer_state if incremental else None,
                ),
            )
        self._book(record, device, incremental, max_iter)
        return self

    def _input_statistics(
        self, X: Any, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, float | None]:
        """Center, scale and smooth-clip bound of the input map.

        ``'standard'``: column means and standard deviations, no clipping.
        ``'robust'``: medians and interquartile ranges; with a hidden-layer
        trunk, then smooth clipping at ``SMOOTH_CLIP_BOUND`` (see
        :func:`~sklearn_gmnm._sparse.smooth_clip`). Without a trunk the
        clipping is the GMNM layer's ``input_clip`` (:meth:`_input_clip`),
        so that it reaches the Gaussians and not the linear term.
        """
        if self.input_scaling == "robust":
            center, scale = robust_center_and_scale(X, sample_weight)
            # one clip: the layer's (without a trunk) or this one
            clip = None if self._input_clip() is not None else SMOOTH_CLIP_BOUND
        elif sp.issparse(X):
            (center, scale), clip = sparse_mean_and_scale(X, sample_weight), None
        else:
            X64 = X.astype(np.float64, copy=False)
            (center, scale), clip = _weighted_mean_and_scale(X64, sample_weight), None
        return (*round_statistics(center, scale), clip)

    def _input_clip(self) -> float | None:
        """The GMNM layer's ``input_clip``: ``input_scaling='robust'`` clips
        the Gaussians' inputs smoothly, and not the linear term's, which
        follows a trend along a heavy-tailed column beyond its bulk; with a
        trunk the trunk's inputs are clipped instead (see
        :meth:`_input_statistics`)."""
        if self.input_scaling == "robust" and not hidden_sizes(
            self.hidden_layer_sizes
        ):
            return SMOOTH_CLIP_BOUND
        return None

    def _resolve_early_stopping(
        self, X: Any, y: np.ndarray, incremental: bool
    ) -> bool:
        """Whether this fit holds out a validation set.

        Adam only, as MLP. ``'auto'`` means: when the validation set has at
        least ``AUTO_MIN_VALIDATION_ROWS`` rows (and, for a classifier, the
        stratified split is possible), never in ``partial_fit``.
        """
        if self.solver != "adam":
            return False
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        n_validation = math.ceil(X.shape[0] * self.validation_fraction)
        return (
            not incremental
            and n_validation >= AUTO_MIN_VALIDATION_ROWS
            and self._can_split(y, n_validation)
        )

    def _can_split(self, y: np.ndarray, n_validation: int) -> bool:
        """Whether ``y`` allows the early-stopping split (always, unstratified)."""
        return True

    def _early_stopping(self) -> bool:
        """Whether the current fit holds out a validation set."""
        return getattr(self, "_validates", False)

    def _max_iter(self, steps_per_epoch: int = 1) -> int:
        """``max_iter``, with ``'auto'`` resolved for the solver (and, for
        ``'adam'``, the steps an epoch takes)."""
        if self.max_iter != "auto":
            return self.max_iter
        if self.solver == "lbfgs":
            return _AUTO_LBFGS_ITER
        return max(_AUTO_ADAM_EPOCHS, math.ceil(_AUTO_ADAM_STEPS / steps_per_epoch))

    def _patience(self, steps_per_epoch: int) -> int:
        """``n_iter_no_change`` in epochs, with ``'auto'`` resolved."""
        if self.n_iter_no_change != "auto":
            return self.n_iter_no_change
        return max(
            _AUTO_PATIENCE_EPOCHS, math.ceil(_AUTO_PATIENCE_STEPS / steps_per_epoch)
        )

    def _split_validation(
        self,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        rng: np.random.RandomState,
    ) -> tuple:
        """Hold out ``validation_fraction`` of the rows for early stopping.

        Returns the training rows ``X, y, sample_weight`` and the held-out
        rows ``(X_val, y_val, w_val)``.
        """
        train, val = train_test_split(
            np.arange(X.shape[0]),
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=y if self._stratify_split else None,
        )
        w_val = None
        if sample_weight is not None:
            sample_weight, w_val = sample_weight[train], sample_weight[val]
            if not w_val.sum() > 0:
                raise ValueError(
                    "The sample weights of the validation set are all zero; "
                    "use another random_state or validation_fraction."
                )
        return X[train], y[train], sample_weight, (X[val], y[val], w_val)

    def _validation(
        self, X_val: np.ndarray, y_val: np.ndarray, w_val: np.ndarray | None
    ) -> tuple[np.ndarray, Callable[[torch.Tensor], float]]:
        """Standardised held-out inputs and the score of outputs on them."""
        val_targets, _ = self._encode_targets(y_val)
        return self._standardized_rows(X_val), self._validation_scorer(
            val_targets, w_val
        )

    def _initialize_module(
        self,
        Xs: np.ndarray | StandardizedRows,
        ridge_targets: np.ndarray,
        sample_weight: np.ndarray | None,
        rng: np.random.RandomState,
        targets: np.ndarray | None = None,
    ) -> None:
        """Build the module, initialise it from data and reset the fit record.

        Without hidden layers the module is a :class:`~sklearn_gmnm.nn.GMNM`
        layer; with them, the trunk and head of
        :func:`~sklearn_gmnm.nn.gmnm_network`, the head initialised in the
        trunk's output space.
        """
        n_features = Xs.shape[1]
        hidden = hidden_sizes(self.hidden_layer_sizes)
        head_features = hidden[-1] if hidden else n_features
        if (
            self.rank is not None
            and self.covariance_type in ("full", "tied")
            and self.rank > head_features
        ):
            what = (
                f"the width of the last hidden layer ({head_features}), the "
                "features the GMNM head sees"
                if hidden
                else f"the number of features ({n_features})"
            )
            raise ValueError(
                f"rank={self.rank} is larger than {what}: a projection of "
                "more rows than features adds nothing. Use rank <= "
                f"{head_features}, or rank=None for min({head_features}, 8)."
            )
        seed = int(rng.randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = gmnm_network(
                n_features,
                ridge_targets.shape[1],
                hidden,
                self.activation,
                n_components=(
                    auto_n_components(
                        Xs.shape[0]
                        if sample_weight is None
                        else int(np.count_nonzero(sample_weight)),
                        ridge_targets.shape[1],
                    )
                    if self.n_components == "auto"
                    else self.n_components
                ),
                covariance_type=self.covariance_type,
                rank=self.rank,
                learn_centers=self.learn_centers,
                linear_term=self.linear_term,
                input_clip=self._input_clip(),
            )
        X_init, ridge_init, w_init = Xs, ridge_targets, sample_weight
        if isinstance(Xs, StandardizedRows):
            # Densify only the rows the initialisation uses: the same draw
            # as init_from_data's own (which then keeps them all), so that
            # sparse and dense inputs start alike.
            rows = subsample(Xs.shape[0], MAX_INIT_SAMPLES, sample_weight, rng)
            X_init, ridge_init = Xs[rows], ridge_targets[rows]
            w_init = None if sample_weight is None else sample_weight[rows]
        init_network_from_data(
            module,
            X_init,
            ridge_init,
            init=self.init,
            sample_weight=w_init,
            ridge_alpha=START_RIDGE_ALPHA,
            max_samples=MAX_INIT_SAMPLES,
            random_state=rng,
        )
        self.module_ = module
        # The adjustment sees every training row, dense or sparse (a chunk
        # at a time).
        self._adjust_start(module, Xs, targets, sample_weight)
        self._reset_record()

    def _adjust_start(
        self,
        module: torch.nn.Module,
        Xs: np.ndarray | StandardizedRows,
        targets: np.ndarray | None,
        sample_weight: np.ndarray | None,
    ) -> None:
        """Adapt the data-driven start to the loss (nothing to do by default)."""

    # -- the fit record ---------------------------------------------------
    def _reset_record(self) -> None:
        """Empty fit record of a freshly initialised module."""
        self._optimizer_state = None
        self._stopping_state = (None, 0)
        self.n_iter_ = 0
        self.loss_curve_ = []
        if self._early_stopping():
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _book(
        self,
        record: TrainingRecord,
        device: torch.device,
        incremental: bool,
        max_iter: int,
    ) -> None:
        """Book a solver's record into the fitted attributes, and warn."""
        self.device_ = device
        # The fitted module lives on the CPU, so that a fitted estimator
        # holds no GPU memory and unpickles on machines without a GPU.
        self.module_ = record.module.to("cpu").eval()
        self._optimizer_state = (
            None
            if record.optimizer_state is None
            else _cpu_copy(record.optimizer_state)
        )
        self._stopping_state = (record.best, record.no_improvement_count)
        self.n_iter_ += len(record.losses)
        self.loss_curve_.extend(record.losses)
        if self._early_stopping():
            if self.validation_scores_ is None:  # warm start of a fit without
                self.validation_scores_ = []
            self.validation_scores_.extend(record.validation_scores)
            self.best_validation_score_ = record.best
        elif record.best is not None:
            previous = np.inf if self.best_loss_ is None else self.best_loss_
            self.best_loss_ = min(record.best, previous)
        self._export_parameters()
        self._cache_predict_module()

        unit = "iteration" if self.solver == "lbfgs" else "epoch"
        if record.interrupted:
            warnings.warn(
                f"Training interrupted by user after {len(record.losses)} "
                f"{unit}(s); the model keeps the weights reached so far.",
                UserWarning,
                stacklevel=5,
            )
        elif record.limit is not None and not incremental:
            limit = (
                f"max_fun={self.max_fun} loss evaluations"
                if record.limit == "max_fun"
                else f"max_iter={max_iter} {unit}s"
            )
            warnings.warn(
                f"{type(self).__name__}: the maximum number of {unit}s or loss "
                f"evaluations ({limit}) was reached and the optimisation has "
                f"not converged yet; consider increasing {record.limit}.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _export_parameters(self) -> None:
        """Copy the trained parameters into numpy attributes.

        Without a trunk the centers are in input units; with one they are in
        the trunk's output space, where the head acts.
        """
        trunk, module = split_network(self.module_)
        with torch.no_grad():
            centers = module.centers.double().numpy().copy()
            bound = module.input_clip
            if bound is None:  # an estimator pickled before input_clip
                bound = getattr(self, "_x_clip", None)
            if trunk is None and bound is not None:
                # Undo the smooth clipping; a center trained to the bound or
                # beyond it lies at infinity in input units.
                ratio = np.clip(centers / bound, -1.0, 1.0)
                with np.errstate(divide="ignore"):
                    centers = np.where(
                        np.abs(ratio) < 1.0,
                        centers / np.sqrt(1.0 - ratio**2),
                        np.copysign(np.inf, centers),
                    )
            self.centers_ = (
                centers * self._x_scale + self._x_mean if trunk is None else centers
            )
            self.coefs_ = [
                linear.weight.double().numpy().T.copy()
                for linear, _ in trunk_layers(trunk)
            ]
            self.intercepts_ = [
                linear.bias.double().numpy().copy()
                for linear, _ in trunk_layers(trunk)
            ]
            self.projections_ = module.projections.double().numpy().copy()
            self.mixing_weights_ = module.weight.double().numpy().copy()
            self.intercept_ = module.bias.double().numpy().copy()
            self.linear_coef_ = (
                None
                if module.linear_weight is None
                else module.linear_weight.double().numpy().copy()
            )

    # -- prediction -------------------------------------------------------
    def _predict_chunk_rows(self, sparse: bool = False) -> int:
        """Rows per predict chunk: at most ``_PREDICT_BUDGET`` intermediates.

        The widest intermediate counts: the projections of the head, a
        hidden layer of the trunk, or, for sparse inputs, the densified chunk.
        """
        trunk, module = split_network(self.module_)
        rank = module.rank if module.covariance_type == "full" else 1
        width = max(
            [module.n_components * rank]
            + [linear.out_features for linear, _ in trunk_layers(trunk)]
            + ([module.in_features if trunk is None else trunk[0].in_features]
               if sparse else [])
        )
        return max(1, _PREDICT_BUDGET // width)

    def _output_dtype(self, X: Any) -> type:
        """Dtype of predictions, as MLP's: float32 where both the training
        inputs and ``X`` are float32, float64 otherwise."""
        fit_dtype = getattr(self, "_fit_dtype", "float64")
        if fit_dtype == "float32" and X.dtype == np.float32:
            return np.float32
        return np.float64

    def _forward(self, X: Any) -> np.ndarray:
        """Raw module outputs, computed in bounded-memory chunks.

        Returned in the dtype of the predictions (:meth:`_output_dtype`).
        On the CPU the float64 inference form computes them
        (:meth:`_predict_module`); on ``device_`` when this machine has that
        device, the float32 inference form, with ``module_`` itself left on
        the CPU. With ``n_jobs=None`` an input of fewer than
        ``_THREADED_PREDICT_ROWS`` rows runs on one torch thread (see
        :func:`~sklearn_gmnm._parallel.predict_threads`).
        """
        check_is_fitted(self, "module_")
        X = validate_X(self, X, reset=False)
        device = predict_device(self.device_)
        n_threads = predict_threads(self.n_jobs, X.shape[0])
        with torch_threads(n_threads), explain_cuda_oom("predict"):
            if device.type != "cuda":
                out = self._forward_on(self._predict_module(), device, X)
            else:
                try:
                    module = self._inference_form(torch.float32).to(device)
                    out = self._forward_on(module, device, X)
                finally:
                    release_cuda_memory(device)
        return out.astype(self._output_dtype(X), copy=False)

    def _inference_form(self, dtype: torch.dtype, **output_map: Any) -> torch.nn.Module:
        """The fitted network and its input map as plain tensor operations.

        See :class:`~sklearn_gmnm._export.GMNMInference`; without
        ``output_map`` it returns the raw module outputs.
        """
        from ._export import GMNMInference

        return GMNMInference(
            self.module_,
            self._x_mean,
            self._x_scale,
            _MAX_STANDARD_SCORE,
            smooth_clip=getattr(self, "_x_clip", None),
            dtype=dtype,
            **output_map,
        ).eval()

    def _predict_module(self) -> torch.nn.Module:
        """The float64 inference form that ``predict`` runs on the CPU.

        Built once per fit and kept (not pickled). float64, because float32
        matrix products round differently for different numbers of rows (the
        kernels change with the shape): in float64 a row's prediction does
        not depend on the rows predicted with it (1e-7 relative differences
        were seen in float32, which scikit-learn's subset-invariance check
        refuses). The inference form precomputes what does not depend on
        the inputs (the projected centers) and needs no autograd function.
        """
        cached = self.__dict__.get("_module_predict")
        if cached is None:  # (predict must not change the estimator)
            return self._inference_form(torch.float64)
        return cached

    def _cache_predict_module(self) -> None:
        """Keep the inference form that :meth:`_predict_module` returns."""
        self.__dict__.pop("_module_predict", None)
        self._module_predict = self._inference_form(torch.float64)

    def _forward_on(
        self, module: torch.nn.Module, device: torch.device, X: Any
    ) -> np.ndarray:
        """Outputs of an inference form for all raw rows, chunk by chunk.

        A sparse ``X`` is densified one chunk at a time.
        """
        chunk = self._predict_chunk_rows(sparse=sp.issparse(X))
        out = np.empty(
            (X.shape[0], module.out_features),
            dtype=torch.empty((), dtype=module.dtype).numpy().dtype,
        )
        with torch.inference_mode():
            for start in range(0, X.shape[0], chunk):
                rows = X[start:start + chunk]
                rows = rows.toarray() if sp.issparse(rows) else np.asarray(rows)
                xb = torch.from_numpy(np.ascontiguousarray(rows)).to(device)
                out[start:start + chunk] = module(xb).cpu().numpy()
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- persistence ------------------------------------------------------
    def __getstate__(self) -> dict:
        """Fitted state as numpy arrays and plain values, free of torch objects.

        The module is stored as its constructor arguments and its parameters,
        the optimiser state (kept for ``partial_fit``/``warm_start``) with its
        tensors as arrays, and ``device_`` as a string: a pickle made on a GPU
        machine loads on a CPU-only one, and :mod:`skops.io` can save the
        estimator without trusting any torch type.
        """
        state = dict(super().__getstate__())
        state.pop("_module_predict", None)
        module = state.get("module_")
        if isinstance(module, torch.nn.Module):
            trunk, head = split_network(module)
            layers = trunk_layers(trunk)
            state["module_"] = {
                "config": {
                    "in_features": head.in_features,
                    "out_features": head.out_features,
                    "n_components": head.n_components,
                    "covariance_type": head.covariance_type,
                    "rank": head.rank,
                    "learn_centers": head.learn_centers,
                    "bias": head.bias is not None,
                    "linear_term": head.linear_weight is not None,
                },
                "parameters": _tensors_to_arrays(module.state_dict()),
            }
            if head.input_clip is not None:
                # Only when set, as for the trunk below.
                state["module_"]["config"]["input_clip"] = head.input_clip
            if layers:
                # Only with a trunk, so that the state of a single layer is
                # the same as before trunks existed.
                state["module_"]["trunk"] = {
                    "in_features": layers[0][0].in_features,
                    "hidden_layer_sizes": [lin.out_features for lin, _ in layers],
                    "activation": layers[0][1],
                }
        if state.get("_optimizer_state") is not None:
            state["_optimizer_state"] = _tensors_to_arrays(state["_optimizer_state"])
        if isinstance(state.get("device_"), torch.device):
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        # Estimators saved before these parameters existed had their values.
        for name, default in self._added_parameters.items():
            state.setdefault(name, default)
        module = state.get("module_")
        if isinstance(module, dict):
            params = _arrays_to_tensors(module["parameters"])
            dtype = next(iter(params.values())).dtype
            trunk = module.get("trunk")
            if trunk is None:
                rebuilt = GMNM(**module["config"], dtype=dtype)
            else:
                config = dict(module["config"])
                config.pop("in_features")
                rebuilt = gmnm_network(
                    trunk["in_features"],
                    config.pop("out_features"),
                    trunk["hidden_layer_sizes"],
                    trunk["activation"],
                    **config,
                    dtype=dtype,
                )
            rebuilt.load_state_dict(params)
            state["module_"] = rebuilt.eval()
        if state.get("_optimizer_state") is not None:
            state["_optimizer_state"] = _arrays_to_tensors(state["_optimizer_state"])
        if isinstance(state.get("device_"), str):
            state["device_"] = torch.device(state["device_"])
        super().__setstate__(state)
        if isinstance(getattr(self, "module_", None), torch.nn.Module):
            self._cache_predict_module()

    # -- serving ----------------------------------------------------------
    def to_torch(self) -> torch.nn.Module:
        """The fitted model as a self-contained ``torch.nn.Module``.

        The module maps raw float32 inputs of shape ``(n_samples,
        n_features)`` to what :meth:`predict` returns for the regressor and
        to what :meth:`predict_proba` returns for the classifier (the label
        probabilities, for multilabel targets), the
        standardisation of the inputs (and of the targets) included. It
        computes in float32 with plain tensor operations, holds its
        parameters as buffers (``.to(device)`` moves them) and is accepted by
        :func:`torch.jit.trace` and :func:`torch.export.export`. It is a copy:
        later fits of the estimator do not change it.

        Returns
        -------
        module : torch.nn.Module
            The model in inference form, in eval mode.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.

        Examples
        --------
        >>> import torch
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn_gmnm import GMNMRegressor
        >>> X, y = load_diabetes(return_X_y=True)
        >>> reg = GMNMRegressor(n_components=8, max_iter=5, random_state=0)
        >>> module = reg.fit(X, y).to_torch()
        >>> module(torch.as_tensor(X[:3], dtype=torch.float32)).shape
        torch.Size([3])
        """
        from ._export import _checked_module

        check_is_fitted(self, "module_")
        _checked_module(self)
        return self._inference_form(torch.float32, **self._export_head())
