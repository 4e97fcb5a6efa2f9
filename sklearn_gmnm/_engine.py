"""skorch glue: the training engine behind the estimators.

The estimators move the data to the device once, as tensors, and hand skorch
a :class:`TensorData` set; :class:`TensorBatches` then serves mini-batches by
indexing those tensors (no per-sample ``DataLoader`` collation).
"""

from __future__ import annotations

from typing import Iterator

import torch
from skorch import NeuralNet
from torch import Tensor
from torch.utils.data import Dataset


class TensorData(Dataset):
    """Training tensors that already live on the training device.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Inputs.
    y : Tensor of shape (n_samples, ...)
        Targets.
    sample_weight : Tensor of shape (n_samples,) or None, default=None
        Row weights.
    """

    def __init__(self, X: Tensor, y: Tensor, sample_weight: Tensor | None = None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, index):
        if self.sample_weight is None:
            return self.X[index], self.y[index]
        return {"X": self.X[index], "sample_weight": self.sample_weight[index]}, self.y[index]


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
            order = order.to(self.dataset.X.device, non_blocking=True)
            for start in range(0, n, self.batch_size):
                yield self.dataset[order[start : start + self.batch_size]]
        else:
            for start in range(0, n, self.batch_size):
                yield self.dataset[start : start + self.batch_size]


class GMNMNet(NeuralNet):
    """A skorch ``NeuralNet`` whose loss honours per-row sample weights.

    Batches are ``(X, y)`` or ``({'X': X, 'sample_weight': w}, y)``; the
    criterion must be built with ``reduction='none'``.
    """

    def infer(self, x, **fit_params):
        if isinstance(x, dict):
            x = x["X"]
        return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.criterion_(y_pred, y_true)
        if loss.dim() > 1:
            loss = loss.flatten(1).mean(1)
        if isinstance(X, dict):
            w = X["sample_weight"]
            return (loss * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)
        return loss.mean()


class HalfSquaredError(torch.nn.Module):
    """Per-element ``0.5 * (prediction - target)^2`` (the loss MLPRegressor reports)."""

    def forward(self, prediction: Tensor, target: Tensor) -> Tensor:
        return 0.5 * (prediction - target).square()
