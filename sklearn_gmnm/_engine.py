"""skorch glue: the engine of the mini-batch solver.

The estimators move the data to the device once, as tensors, and hand skorch
a :class:`TensorData` set; :class:`TensorBatches` then serves mini-batches by
indexing those tensors (no per-sample ``DataLoader`` collation). Sparse
inputs stay on the CPU as CSR rows (:class:`SparseRows`), and each batch is
densified and moved to the device when it is taken. The small
callbacks here implement what the estimators promise on top of skorch:
a guard against non-finite weights, weight averaging, a validation score,
MLP's stopping rule and an epoch progress bar.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, PassthroughScoring
from skorch.dataset import unpack_data
from torch import Tensor
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from ._loss import weighted_mean_loss
from ._sparse import StandardizedRows


class SparseRows:
    """Standardised sparse rows that index like a tensor on ``device``.

    Indexing (a slice, or a tensor of indices) densifies and standardises
    only the rows taken, on the CPU, and returns them as a ``dtype`` tensor
    on ``device``. The indices themselves are taken on the CPU: ``device``
    here is where batches end up, ``index_device`` where indices must be.

    Parameters
    ----------
    rows : StandardizedRows
        The sparse inputs and their standardisation.
    dtype : torch.dtype
        Dtype of the batches.
    device : torch.device
        Device of the batches.
    """

    index_device = torch.device("cpu")

    def __init__(
        self, rows: StandardizedRows, dtype: torch.dtype, device: torch.device
    ) -> None:
        self.rows = rows
        self.dtype = dtype
        self.device = torch.device(device)

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows.shape

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> Tensor:
        batch = torch.from_numpy(self.rows[index]).to(self.dtype)
        return batch.to(self.device, non_blocking=True)


def as_rows(
    X: np.ndarray | StandardizedRows, dtype: torch.dtype, device: torch.device
) -> Tensor | SparseRows:
    """Standardised inputs as a tensor on ``device``, or as :class:`SparseRows`."""
    if isinstance(X, StandardizedRows):
        return SparseRows(X, dtype, device)
    return torch.as_tensor(X, dtype=dtype).to(device)


class TensorData(Dataset):
    """Training tensors that already live on the training device.

    Parameters
    ----------
    X : Tensor or SparseRows of shape (n_samples, n_features)
        Inputs.
    y : Tensor of shape (n_samples, ...)
        Targets.
    sample_weight : Tensor of shape (n_samples,) or None, default=None
        Row weights.
    """

    def __init__(
        self, X: Tensor | SparseRows, y: Tensor, sample_weight: Tensor | None = None
    ):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, index):
        if self.sample_weight is None:
            return self.X[index], self.y[index]
        batch = {"X": self.X[index], "sample_weight": self.sample_weight[index]}
        return batch, self.y[index]


class TensorBatches:
    """Re-iterable mini-batches of a :class:`TensorData`, sliced on its device.

    Parameters
    ----------
    dataset : TensorData
        Data to iterate over.
    batch_size : int
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Whether to draw a new permutation at each pass.
    generator : torch.Generator or None, default=None
        Source of the permutations (a CPU generator, for reproducibility).
    """

    def __init__(
        self,
        dataset: TensorData,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator)
            X = self.dataset.X
            device = X.index_device if isinstance(X, SparseRows) else X.device
            order = order.to(device, non_blocking=True)
            for start in range(0, n, self.batch_size):
                yield self.dataset[order[start : start + self.batch_size]]
        else:
            for start in range(0, n, self.batch_size):
                yield self.dataset[start : start + self.batch_size]


def all_finite(tensors: list[Tensor]) -> bool:
    """Whether every entry of every tensor is finite.

    One check of the tensors flattened together: 20 us on a default model's
    five parameters, against 44 us for a check per tensor (twice an epoch,
    on data sets whose epochs last a few milliseconds).
    """
    return bool(torch.cat([t.detach().reshape(-1) for t in tensors]).isfinite().all())


class StopTraining(KeyboardInterrupt):
    """Raised by :class:`StoppingRule`; skorch ends the training loop on it."""


class GMNMNet(NeuralNet):
    """A skorch ``NeuralNet`` whose loss honours per-row sample weights.

    Batches are ``(X, y)`` or ``({'X': X, 'sample_weight': w}, y)``; the
    criterion must be built with ``reduction='none'``.

    skorch ends training on any ``KeyboardInterrupt``, the one its
    ``EarlyStopping`` raises included. After ``fit``, ``interrupted_`` tells
    whether training ended on a user's interrupt rather than a stopping rule.
    """

    interrupted_ = False

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except StopTraining:
            raise
        except KeyboardInterrupt:
            self.interrupted_ = not any(
                isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
                for _, cb in self.callbacks_
            )
            raise

    def get_default_callbacks(self):
        # skorch's validation split is never used (the estimators hold out
        # their own), and the per-epoch table costs about 0.4 ms an epoch even
        # when nothing is printed: keep them only when they have work to do.
        # The epoch's training loss is skorch's, read from the batches faster.
        return [
            (name, EpochTrainLoss() if name == "train_loss" else cb)
            for name, cb in super().get_default_callbacks()
            if name != "valid_loss" and (name != "print_log" or self.verbose)
        ]

    def infer(self, x, **fit_params):
        if isinstance(x, dict):
            x = x["X"]
        return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        weight = X["sample_weight"] if isinstance(X, dict) else None
        return weighted_mean_loss(self.criterion_, y_pred, y_true, weight)


class EpochTrainLoss(PassthroughScoring):
    """skorch's ``'train_loss'``: the batch-size weighted mean of the epoch's
    batch losses (and ``'train_loss_best'``).

    The same numbers as skorch's default, read from the epoch's list of
    batches directly rather than through the history's slicing, which took
    about 90 us an epoch (a twentieth of a small data set's epoch).
    """

    def __init__(self) -> None:
        super().__init__(name="train_loss", on_train=True)

    def get_avg_score(self, history: Any) -> float:
        batches = [batch for batch in history[-1]["batches"] if "train_loss" in batch]
        return np.average(
            [batch["train_loss"] for batch in batches],
            weights=[batch["train_batch_size"] for batch in batches],
        )

    def on_epoch_end(self, net: NeuralNet, **kwargs):
        if not any("train_loss" in batch for batch in net.history[-1]["batches"]):
            return
        score = self.get_avg_score(net.history)
        is_best = self._is_best_score(score)
        if is_best:
            self.best_score_ = score
        net.history.record("train_loss", score)
        net.history.record("train_loss_best", bool(is_best))


class NonFiniteGuard(Callback):
    """Keep training from leaving NaN or infinite weights behind.

    A snapshot of the module and optimizer state is kept from the start of
    training and refreshed after every epoch that ends with finite
    parameters. When a training batch gives a non-finite loss, or an epoch
    ends with non-finite parameters, the snapshot is restored and every
    learning rate is multiplied by ``factor``; the batch's recorded loss is
    replaced by the loss of the restored weights on that batch. After
    ``max_recoveries`` restorations training stops with a ``ValueError``.

    Parameters
    ----------
    factor : float, default=0.1
        Multiplier applied to the learning rates at each recovery.
    max_recoveries : int, default=10
        Restorations allowed in one ``fit`` before giving up.
    """

    def __init__(self, factor: float = 0.1, max_recoveries: int = 10) -> None:
        self.factor = factor
        self.max_recoveries = max_recoveries

    def _snapshot(self, net: NeuralNet) -> None:
        # Copied into buffers kept from the last snapshot, straight from the
        # live tensors: once per epoch, a deepcopy of the state dicts cost
        # about 1 ms, as much as a small data set's whole epoch, and going
        # through the state dicts' construction the guard's epoch end took
        # 168 us against 116 us now (379 rows, 13 features, in a fit).
        module_state = net.module_.state_dict(keep_vars=True)
        optimizer = net.optimizer_
        params = [p for group in optimizer.param_groups for p in group["params"]]
        # The optimizer's state as its state dict packs it: by the index of
        # the parameter over all groups.
        optimizer_state = [
            (i, optimizer.state[p])
            for i, p in enumerate(params)
            if p in optimizer.state
        ]
        layout = (
            tuple(module_state),
            tuple((i, tuple(state)) for i, state in optimizer_state),
        )
        tensors = [t.detach() for t in module_state.values()]
        for _, state in optimizer_state:
            tensors.extend(t.detach() for t in state.values())
        same = self.layout_ == layout and all(
            b.shape == t.shape for b, t in zip(self.buffers_, tensors, strict=True)
        )
        if same:
            torch._foreach_copy_(self.buffers_, tensors)
        else:
            self.layout_ = layout
            self.buffers_ = [t.clone() for t in tensors]
        # The groups as the state dict packs them (numbers, tuples and the
        # indices of their parameters): a copy of each dict is a deep copy.
        start = 0
        self.param_groups_ = []
        for group in optimizer.param_groups:
            n_params = len(group["params"])
            self.param_groups_.append(
                dict(group, params=list(range(start, start + n_params)))
            )
            start += n_params

    def _saved_state(self) -> tuple[dict, dict]:
        """The snapshot as a module and an optimizer state dict (copies)."""
        module_keys, optimizer_layout = self.layout_
        values = iter(b.clone() for b in self.buffers_)
        module_state = {key: next(values) for key in module_keys}
        optimizer_state = {
            "state": {i: {key: next(values) for key in keys}
                      for i, keys in optimizer_layout},
            "param_groups": copy.deepcopy(self.param_groups_),
        }
        return module_state, optimizer_state

    def _restore(self, net: NeuralNet, epoch: int, why: str) -> None:
        self.n_recoveries_ += 1
        if self.n_recoveries_ > self.max_recoveries:
            raise ValueError(
                f"Training diverged: {why} at epoch {epoch}, and still after "
                f"{self.max_recoveries} restorations with the learning rate "
                f"lowered {1 / self.factor:g}-fold each time. Lower "
                "learning_rate_init, or check the data for extreme values."
            )
        lrs = [group["lr"] * self.factor for group in net.optimizer_.param_groups]
        module_state, optimizer_state = self._saved_state()
        net.module_.load_state_dict(module_state)
        net.optimizer_.load_state_dict(optimizer_state)
        for group, lr in zip(net.optimizer_.param_groups, lrs, strict=True):
            group["lr"] = lr
        warnings.warn(
            f"{why} at epoch {epoch}: restored the weights of the last finite "
            f"epoch and lowered the learning rate to {lrs[0]:.3g}.",
            RuntimeWarning,
            stacklevel=2,
        )

    def on_train_begin(self, net: NeuralNet, X: Any = None, y: Any = None, **kwargs):
        self.n_recoveries_ = 0
        self.layout_ = None
        self._snapshot(net)

    def on_batch_end(self, net: NeuralNet, batch: Any = None, training: bool = False,
                     **kwargs):
        if not training:
            return
        record = net.history[-1]["batches"][-1]
        if math.isfinite(record["train_loss"]):
            return
        self._restore(net, len(net.history), "the training loss became non-finite")
        Xi, yi = unpack_data(batch)
        with torch.no_grad():
            y_pred = net.infer(Xi)
            record["train_loss"] = net.get_loss(y_pred, yi, X=Xi).item()

    def on_epoch_end(self, net: NeuralNet, **kwargs):
        if all_finite(list(net.module_.parameters())):
            self._snapshot(net)
            return
        self._restore(net, len(net.history), "the parameters became non-finite")


class WeightAveraging(Callback):
    """Keep an exponential moving average of the weights and let it stand in.

    After training step ``t`` (counted from 1 in this call of ``fit``) the
    average moves towards the weights by ``max((warmup - 1) / (warmup + t),
    min_rate)``: a horizon of about the last ``1 / (warmup - 1)`` of the
    steps so far (a tenth with the default ``warmup=10``), so that the
    average forgets the start at the pace the weights leave it, and of at
    most ``1 / min_rate`` steps. At each epoch's end the average replaces
    the weights, so that what follows (the validation score, the stopping
    rule's best weights, the weights left when training ends) sees the
    average; the weights of the optimiser's own trajectory come back at the
    next training batch.

    Placed after :class:`NonFiniteGuard`: a step that left the weights
    non-finite leaves the average non-finite too, until the guard restores
    the weights; an average that is not finite at an epoch's end restarts
    from the (restored) weights.

    Parameters
    ----------
    warmup : float, default=10.0
        Sets the early horizon, as above; larger keeps a shorter tail.
    min_rate : float, default=0.01
        Smallest step of the average: the horizon of a long training.
    """

    def __init__(self, warmup: float = 10.0, min_rate: float = 0.01) -> None:
        self.warmup = warmup
        self.min_rate = min_rate

    def _parameters(self, net: NeuralNet) -> list[Tensor]:
        return [p.detach() for p in net.module_.parameters()]

    def _restart(self, net: NeuralNet) -> None:
        self.average_ = [p.clone() for p in self._parameters(net)]

    def on_train_begin(self, net: NeuralNet, X: Any = None, y: Any = None, **kwargs):
        self._restart(net)
        # Adam's own weights while the average stands in (buffers kept
        # across epochs).
        self.trajectory_ = [p.clone() for p in self._parameters(net)]
        self.standing_in_ = False
        self.steps_ = 0

    def on_batch_begin(self, net: NeuralNet, batch: Any = None,
                       training: bool = False, **kwargs):
        # Here rather than at the epoch's beginning: a stop raised there
        # must leave the average in place.
        if training and self.standing_in_:
            torch._foreach_copy_(self._parameters(net), self.trajectory_)
            self.standing_in_ = False

    def on_batch_end(self, net: NeuralNet, batch: Any = None, training: bool = False,
                     **kwargs):
        if not training:
            return
        self.steps_ += 1
        rate = max((self.warmup - 1.0) / (self.warmup + self.steps_), self.min_rate)
        torch._foreach_lerp_(self.average_, self._parameters(net), rate)

    def on_epoch_end(self, net: NeuralNet, **kwargs):
        parameters = self._parameters(net)
        if not all_finite(self.average_):
            self._restart(net)
        torch._foreach_copy_(self.trajectory_, parameters)
        torch._foreach_copy_(parameters, self.average_)
        self.standing_in_ = True


class ValidationScore(Callback):
    """Record ``'valid_score'`` in the history: a score on held-out tensors.

    Parameters
    ----------
    X : Tensor or SparseRows of shape (n_samples, n_features)
        Validation inputs, on the training device.
    score : callable
        ``score(outputs)`` with the module's outputs as a float64 tensor on
        the CPU; higher is better.
    chunk_size : int, default=8192
        Rows per forward pass.
    """

    def __init__(
        self,
        X: Tensor | SparseRows,
        score: Callable[[Tensor], float],
        chunk_size: int = 8192,
    ):
        self.X = X
        self.score = score
        self.chunk_size = chunk_size

    def of(self, module: torch.nn.Module) -> float:
        """Score of ``module`` on the held-out rows (in eval mode)."""
        training = module.training
        module.eval()
        with torch.inference_mode():
            out = torch.cat(
                [
                    module(self.X[start : start + self.chunk_size])
                    for start in range(0, self.X.shape[0], self.chunk_size)
                ]
            )
        module.train(training)
        return float(self.score(out.double().cpu()))

    def on_epoch_end(self, net, **kwargs):
        net.history.record("valid_score", self.of(net.module_))


class StoppingRule(Callback):
    """MLPRegressor's stopping rule, with the best weights kept.

    Each epoch the monitored value counts as an improvement when it beats
    the best value so far by at least ``tol``; training stops once more than
    ``n_iter_no_change`` consecutive epochs brought none. With
    ``adaptive=True`` (the ``'adaptive'`` learning rate, whose scheduler
    divides the rate by 5), training stops only once the rate is at most
    ``1e-6``. The stop is raised at the start of the next epoch, so that
    every callback sees the last epoch end.

    Parameters
    ----------
    monitor : {'train_loss', 'valid_score'}
        History key to watch; the loss is minimised, the score maximised.
    tol : float
        Minimal improvement.
    n_iter_no_change : int
        Patience, in epochs.
    adaptive : bool, default=False
        Whether a learning-rate decrease replaces the stop until the rate is
        at most ``1e-6``.
    restore_best : bool, default=False
        Whether the weights of the best epoch are loaded when training ends.
    best : float or None, default=None
        Best value of an earlier call (warm start), or of the start, or None.
    no_improvement_count : int, default=0
        Count of an earlier call (warm start).
    best_state : dict or None, default=None
        Module state that ``best`` belongs to, restored when no epoch beats
        it (``restore_best`` only): the start of a fit with early stopping,
        so that training never ends worse on the held-out rows than where it
        began.
    """

    def __init__(
        self,
        monitor: str,
        tol: float,
        n_iter_no_change: int,
        adaptive: bool = False,
        restore_best: bool = False,
        best: float | None = None,
        no_improvement_count: int = 0,
        best_state: dict | None = None,
    ):
        self.monitor = monitor
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.adaptive = adaptive
        self.restore_best = restore_best
        self.best = best
        self.no_improvement_count = no_improvement_count
        self.best_state = best_state

    def initialize(self):
        self.lower_is_better_ = self.monitor != "valid_score"
        worst = np.inf if self.lower_is_better_ else -np.inf
        self.best_ = worst if self.best is None else self.best
        self.no_improvement_count_ = self.no_improvement_count
        self.best_state_ = self.best_state
        self.should_stop_ = False
        return self

    def on_epoch_begin(self, net, **kwargs):
        if self.should_stop_:
            raise StopTraining

    def on_epoch_end(self, net, **kwargs):
        value = net.history[-1, self.monitor]
        if self.lower_is_better_:
            improved, new_best = value <= self.best_ - self.tol, value < self.best_
        else:
            improved, new_best = value >= self.best_ + self.tol, value > self.best_
        self.no_improvement_count_ = 0 if improved else self.no_improvement_count_ + 1
        if new_best:
            self.best_ = float(value)
            if self.restore_best:
                # (clones: a deepcopy of the state dict cost 0.3 ms an epoch)
                self.best_state_ = {
                    key: value.detach().clone()
                    for key, value in net.module_.state_dict().items()
                }
        if self.no_improvement_count_ > self.n_iter_no_change:
            lr = max(group["lr"] for group in net.optimizer_.param_groups)
            if self.adaptive and lr > 1e-6:
                self.no_improvement_count_ = 0
            else:
                self.should_stop_ = True

    def on_train_end(self, net, **kwargs):
        if self.restore_best and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)


class EpochProgressBar(Callback):
    """A tqdm bar over epochs, showing the last loss and validation score.

    Parameters
    ----------
    total : int
        Number of epochs at most.
    desc : str, default=''
        Label in front of the bar.
    """

    def __init__(self, total: int, desc: str = ""):
        self.total = total
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=self.total, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        postfix = {"loss": f"{row['train_loss']:.4g}"}
        if "valid_score" in row:
            postfix["valid_score"] = f"{row['valid_score']:.4g}"
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()
