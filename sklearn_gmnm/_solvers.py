"""The two solvers: mini-batch Adam and full-batch L-BFGS.

The estimator front (:mod:`sklearn_gmnm._base`) validates and standardises
the data, initialises the module and hands a :class:`TrainingProblem` to
:func:`fit_stochastic` or :func:`fit_lbfgs`. Each reads top to bottom, as
``_fit_stochastic`` and ``_fit_lbfgs`` do in scikit-learn's MLP, and returns
a :class:`TrainingRecord`, which the front books into the fitted attributes
(``n_iter_``, ``loss_curve_``, the warnings) in one place.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize
import torch
from skorch.callbacks import LRScheduler
from torch.nn.utils import parameters_to_vector
from tqdm.auto import tqdm

from ._device import explain_cuda_oom
from ._engine import (
    EpochProgressBar,
    GMNMNet,
    NonFiniteGuard,
    SparseRows,
    StoppingRule,
    TensorBatches,
    TensorData,
    ValidationScore,
    WeightAveraging,
    as_rows,
)
from ._loss import PENALISED_PATTERN, penalised_parameters, weighted_mean_loss
from ._optim import Adam
from ._parallel import thread_pools
from ._sparse import StandardizedRows

#: Elements (rows x max(features, components x rank)) of one chunk of the
#: full-batch loss on sparse inputs: 4M float64 values, 32 MiB.
_SPARSE_CHUNK_BUDGET = 1 << 22


@dataclass
class TrainingProblem:
    """What a solver trains: a module, its loss and its data.

    Parameters
    ----------
    module : torch.nn.Module
        The initialised module (on the CPU).
    criterion : torch.nn.Module
        Per-row loss, built with ``reduction='none'``.
    X : ndarray or StandardizedRows of shape (n_samples, n_features)
        Standardised inputs, float64, or a lazy view of sparse inputs that
        densifies the rows it is asked for.
    y : ndarray
        Encoded targets: float values, or class indices.
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights.
    alpha : float
        MLP's L2 penalty strength.
    device : torch.device
        Device to train on.
    validation : tuple of (ndarray, callable) or None, default=None
        Standardised held-out inputs and ``score(outputs) -> float`` (higher
        is better; the outputs as a float64 tensor on the CPU) for early
        stopping.
    """

    module: torch.nn.Module
    criterion: torch.nn.Module
    X: np.ndarray | StandardizedRows
    y: np.ndarray
    sample_weight: np.ndarray | None
    alpha: float
    device: torch.device
    validation: (
        tuple[np.ndarray | StandardizedRows, Callable[[torch.Tensor], float]] | None
    ) = None

    def tensors(self, dtype: torch.dtype) -> tuple:
        """Inputs, targets and weights as tensors on ``device``.

        Float data take ``dtype``; class indices stay ``int64``. Sparse
        inputs become :class:`~sklearn_gmnm._engine.SparseRows`, densified
        a batch at a time.
        """
        y = np.asarray(self.y)
        y_dtype = dtype if np.issubdtype(y.dtype, np.floating) else torch.int64
        weight = (
            None
            if self.sample_weight is None
            else torch.as_tensor(self.sample_weight, dtype=dtype).to(self.device)
        )
        return (
            as_rows(self.X, dtype, self.device),
            torch.as_tensor(y, dtype=y_dtype).to(self.device),
            weight,
        )

    def penalty(self, n_rows: int) -> float:
        """L2 coefficient of a step over ``n_rows`` rows, as MLP scales it.

        MLP adds ``alpha / (2 * n_rows) * ||W||^2`` to the mean loss of a
        step; with row weights, a step carries ``n_rows * mean(weight)`` rows'
        worth of data.
        """
        mean_weight = (
            1.0 if self.sample_weight is None else float(self.sample_weight.mean())
        )
        return self.alpha / (n_rows * mean_weight)


@dataclass
class TrainingRecord:
    """What one call of a solver did, for the estimator to book.

    Attributes
    ----------
    module : torch.nn.Module
        The trained module (on the training device).
    losses : list of float
        Training loss (penalty excluded) after each epoch or iteration.
    validation_scores : list of float
        Validation score after each epoch (early stopping only).
    best : float or None
        Best loss, or best validation score with early stopping.
    no_improvement_count : int
        Epochs since the last improvement (continued by ``warm_start``).
    optimizer_state : dict or None
        The optimiser's state, for ``partial_fit`` (Adam only).
    converged : bool
        Whether training ended on its own criterion rather than its budget.
    interrupted : bool
        Whether a ``KeyboardInterrupt`` ended training.
    limit : str or None
        The budget that ended training (``'max_iter'`` or ``'max_fun'``).
    """

    module: torch.nn.Module | None = None
    losses: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best: float | None = None
    no_improvement_count: int = 0
    optimizer_state: dict | None = None
    converged: bool = False
    interrupted: bool = False
    limit: str | None = None


def _lr_schedule(est: Any, monitor: str, epoch_offset: int, patience: int) -> list:
    """The skorch scheduler behind ``learning_rate``, as named callbacks."""
    if est.learning_rate == "invscaling":
        power_t = est.power_t
        return [
            (
                "gmnm_lr",
                LRScheduler(
                    torch.optim.lr_scheduler.LambdaLR,
                    lr_lambda=lambda epoch: (epoch_offset + epoch + 1) ** -power_t,
                ),
            )
        ]
    if est.learning_rate == "adaptive":
        return [
            (
                "gmnm_lr",
                LRScheduler(
                    torch.optim.lr_scheduler.ReduceLROnPlateau,
                    monitor=monitor,
                    mode="max" if monitor == "valid_score" else "min",
                    factor=0.2,
                    patience=patience,
                    threshold=est.tol,
                    threshold_mode="abs",
                ),
            )
        ]
    return []


def fit_stochastic(
    est: Any,
    problem: TrainingProblem,
    *,
    batch_size: int,
    max_epochs: int,
    patience: int,
    seed: int,
    average: bool = False,
    epoch_offset: int = 0,
    resume: tuple[float | None, int, dict | None] | None = None,
) -> TrainingRecord:
    """Mini-batch Adam, run by the skorch engine.

    Parameters
    ----------
    est : BaseGMNM
        The estimator, whose Adam settings (``learning_rate*``, ``power_t``,
        ``tol``, ``callbacks``,
        ``verbose``) apply.
    problem : TrainingProblem
        Module, loss and data.
    batch_size : int
        Rows per step.
    max_epochs : int
        Epochs at most.
    patience : int
        Epochs without an improvement of at least ``tol`` after which
        training stops (``n_iter_no_change`` resolved).
    seed : int
        Seed of the shuffling.
    average : bool, default=False
        Whether the weights that are scored, kept as best and left at the
        end are a moving average of the steps' weights
        (:class:`~sklearn_gmnm._engine.WeightAveraging`).
    epoch_offset : int, default=0
        Epochs run by earlier calls (for the ``'invscaling'`` schedule).
    resume : tuple or None, default=None
        ``(best, no_improvement_count, optimizer_state)`` of an earlier call
        to continue from; the optimiser state is loaded only when not None.

    Returns
    -------
    record : TrainingRecord
    """
    module = problem.module.to(dtype=torch.float32)
    best, no_improvement_count, optimizer_state = resume or (None, 0, None)
    callbacks: list = [("gmnm_non_finite_guard", NonFiniteGuard())]
    if average:
        callbacks.append(("gmnm_average", WeightAveraging()))
    validates = problem.validation is not None
    best_state = None
    if validates:
        X_val, score = problem.validation
        X_val = as_rows(X_val, torch.float32, problem.device)
        scorer = ValidationScore(X_val, score)
        callbacks.append(("gmnm_valid_score", scorer))
        if best is None:
            # A fresh fit competes with its data-driven start: if no epoch
            # beats the start's validation score, the start is kept.
            module = module.to(problem.device)
            best = scorer.of(module)
            best_state = copy.deepcopy(module.state_dict())
    monitor = "valid_score" if validates else "train_loss"
    callbacks.extend(_lr_schedule(est, monitor, epoch_offset, patience))
    stopping = StoppingRule(
        monitor,
        tol=est.tol,
        n_iter_no_change=patience,
        adaptive=est.learning_rate == "adaptive",
        restore_best=validates,
        best=best,
        no_improvement_count=no_improvement_count,
        best_state=best_state,
    )
    callbacks.append(("gmnm_stopping", stopping))
    if est.verbose == 1:
        desc = type(est).__name__
        callbacks.append(("gmnm_progress", EpochProgressBar(max_epochs, desc)))
    callbacks.extend(copy.deepcopy(est.callbacks or []))

    net = GMNMNet(
        module=module,
        criterion=problem.criterion,
        optimizer=Adam,
        optimizer__param_groups=[
            (PENALISED_PATTERN, {"weight_decay": problem.penalty(batch_size)})
        ],
        lr=est.learning_rate_init,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=TensorBatches,
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(seed),
        train_split=None,
        callbacks=callbacks,
        device=problem.device,
        verbose=int(est.verbose >= 2),
    )
    net.initialize()
    if optimizer_state is not None:
        net.optimizer_.load_state_dict(optimizer_state)
    with explain_cuda_oom("fit"):
        net.partial_fit(TensorData(*problem.tensors(torch.float32)), None)

    epochs = [row for row in net.history if "train_loss" in row]
    return TrainingRecord(
        module=net.module_,
        losses=[float(row["train_loss"]) for row in epochs],
        validation_scores=[
            float(row["valid_score"]) for row in epochs if "valid_score" in row
        ],
        best=stopping.best_,
        no_improvement_count=stopping.no_improvement_count_,
        optimizer_state=net.optimizer_.state_dict(),
        converged=stopping.should_stop_,
        interrupted=net.interrupted_,
        limit=(
            "max_iter"
            if not stopping.should_stop_ and len(epochs) == max_epochs
            else None
        ),
    )


class _NonFiniteLoss(ArithmeticError):
    """Raised inside L-BFGS's objective to end the run on a non-finite loss."""


def fit_lbfgs(
    est: Any, problem: TrainingProblem, *, max_iter: int
) -> TrainingRecord:
    """Full-batch L-BFGS-B (scipy) on all parameters at once, in float64.

    Why scipy's L-BFGS-B rather than ``torch.optim.LBFGS``, measured on a
    smooth 3-D function (2000 rows, 16 components): at equal iteration
    counts both reach the same test RMSE (7.9e-3 at 100 iterations, 2.3e-3
    at 500, 6.1e-4 against 6.7e-4 at 2000) at the same cost per iteration
    (BLAS on one thread); scipy's gives a callback per iteration (the loss
    curve, progress, interrupts), MLP's exact stopping semantics (``gtol``,
    ``maxiter``, ``maxfun``), and no TorchDynamo import (constructing
    ``torch.optim.LBFGS`` costs 1.7 s once per process, see
    :mod:`sklearn_gmnm._optim`). Going further on ``exp(-|x|^2)``, 3000
    iterations reached 3.9e-5 in float64 against 7.5e-5 for torch's float32
    run, which stopped on round-off: hence float64.

    As in scikit-learn's MLP: the objective is the loss of all rows plus
    ``alpha / (2 * n_samples) * ||W||^2``, ``max_iter`` bounds the
    iterations, ``max_fun`` the loss evaluations, and ``tol`` is the
    projected-gradient tolerance (``gtol``). The module trains in float64:
    the line search compares losses that differ in their last float32
    digits once the fit is close. If the loss turns non-finite, the last
    iterate is restored with a warning; on a ``KeyboardInterrupt`` too.

    Parameters
    ----------
    est : BaseGMNM
        The estimator, whose ``max_fun``, ``tol`` and ``verbose`` apply.
    problem : TrainingProblem
        Module, loss and data.
    max_iter : int
        Iterations at most.

    Returns
    -------
    record : TrainingRecord
    """
    module = problem.module.to(device=problem.device, dtype=torch.float64).train()
    X, y, weight = problem.tensors(torch.float64)
    params = [p for p in module.parameters() if p.requires_grad]
    penalised = penalised_parameters(module)
    penalty = problem.penalty(X.shape[0])
    last = {"theta": None, "loss": math.nan}

    def set_parameters(theta: np.ndarray) -> None:
        # Copies: scipy reuses its arrays, the parameters keep their storage.
        start = 0
        with torch.no_grad():
            for param in params:
                stop = start + param.numel()
                param.copy_(torch.from_numpy(theta[start:stop]).view_as(param))
                start = stop

    chunk = None
    if isinstance(X, SparseRows):
        components = getattr(module, "n_components", 1) * getattr(module, "rank", 1)
        width = max(X.shape[1], components)
        chunk = max(1, _SPARSE_CHUNK_BUDGET // width)
        total_weight = X.shape[0] if weight is None else weight.sum()
        if chunk >= X.shape[0]:
            # Within the budget: densify once, and compute as for dense data.
            X, chunk = X[0 : X.shape[0]], None

    def chunked_loss() -> torch.Tensor:
        """Loss of all rows, its gradient accumulated chunk by chunk.

        Sparse inputs are densified a bounded chunk of rows at a time; the
        loss is the sum of the chunks' weighted means times their share of
        the rows (of the weight).
        """
        loss = torch.zeros((), dtype=torch.float64, device=problem.device)
        for start in range(0, X.shape[0], chunk):
            stop = start + chunk
            w = None if weight is None else weight[start:stop]
            share = (stop - start if w is None else w.sum()) / total_weight
            part = share * weighted_mean_loss(
                problem.criterion, module(X[start:stop]), y[start:stop], w
            )
            part.backward()
            loss += part.detach()
        return loss

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        set_parameters(theta)
        for param in params:
            param.grad = None
        with torch.enable_grad():
            reg = 0.5 * penalty * sum(p.square().sum() for p in penalised)
            if chunk is None:
                loss = weighted_mean_loss(problem.criterion, module(X), y, weight)
                total = loss + reg
                total.backward()
            else:
                loss = chunked_loss()
                reg.backward()
                total = loss + reg.detach()
        value = total.item()
        if not math.isfinite(value):
            raise _NonFiniteLoss
        last["theta"], last["loss"] = theta.copy(), loss.item()
        grad = parameters_to_vector([p.grad for p in params])
        return value, grad.cpu().numpy()

    record = TrainingRecord()
    iterate = parameters_to_vector(params).detach().cpu().numpy().copy()
    bar = tqdm(total=max_iter, desc=type(est).__name__, unit="iter") \
        if est.verbose == 1 else None

    def callback(intermediate_result: scipy.optimize.OptimizeResult) -> None:
        nonlocal iterate
        iterate = intermediate_result.x.copy()
        if last["theta"] is None or not np.array_equal(last["theta"], iterate):
            objective(iterate)
        record.losses.append(last["loss"])
        if bar is not None:
            bar.set_postfix({"loss": f"{last['loss']:.4g}"}, refresh=False)
            bar.update(1)
        elif est.verbose >= 2:
            print(f"Iteration {len(record.losses)}, loss = {last['loss']:.8f}")

    try:
        # scipy's L-BFGS-B works on vectors of a few thousand entries; BLAS
        # threads only add wake-up costs there (50x on a busy 2-core CPU).
        with thread_pools().limit(limits=1, user_api="blas"), explain_cuda_oom("fit"):
            result = scipy.optimize.minimize(
                objective,
                iterate,
                jac=True,
                method="L-BFGS-B",
                callback=callback,
                options={"maxiter": max_iter, "maxfun": est.max_fun, "gtol": est.tol},
            )
        iterate = result.x
        record.converged = result.status == 0 or result.status == 2
        if result.status == 1:
            record.limit = "max_iter" if result.nit >= max_iter else "max_fun"
    except _NonFiniteLoss:
        warnings.warn(
            f"The training loss became non-finite at L-BFGS iteration "
            f"{len(record.losses) + 1}: the model keeps the last finite "
            "iterate. Check the data for extreme values, or increase alpha.",
            RuntimeWarning,
            stacklevel=2,
        )
    except KeyboardInterrupt:
        record.interrupted = True
    finally:
        if bar is not None:
            bar.close()
    set_parameters(iterate)
    record.module = module
    record.best = min(record.losses, default=None)
    return record
