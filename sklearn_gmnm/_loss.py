"""The training objective, shared by both solvers.

The objective of a fit is the weighted mean of a per-row loss plus MLP's L2
penalty, ``alpha / 2 * ||W||^2`` divided by the rows (the weight) a step
sees, on the mixing weights and the linear term.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: skorch name pattern of the penalised parameters (the mixing weights
#: ``weight`` and the linear term ``linear_weight``).
PENALISED_PATTERN = "*weight"


def penalised_parameters(module: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters the L2 penalty acts on: those named like ``*weight``."""
    return [
        param
        for name, param in module.named_parameters()
        if name.split(".")[-1].endswith("weight") and param.requires_grad
    ]


class HalfSquaredError(torch.nn.Module):
    """Per-element ``0.5 * (prediction - target)^2`` (the loss MLPRegressor reports)."""

    def forward(self, prediction: Tensor, target: Tensor) -> Tensor:
        return 0.5 * (prediction - target).square()


class MultilabelLogLoss(torch.nn.Module):
    """Per-row binary cross-entropy of logits, summed over the labels.

    MLPClassifier's multilabel loss: a sigmoid per label, and the sum over
    the labels of their log losses (so a row's loss is a sum, not a mean).
    """

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, target, reduction="none"
        )
        return loss.sum(-1)


def weighted_mean_loss(
    criterion: torch.nn.Module,
    prediction: Tensor,
    target: Tensor,
    sample_weight: Tensor | None = None,
) -> Tensor:
    """Mean over rows of ``criterion`` (built with ``reduction='none'``).

    A multi-column loss (multi-output regression) is first averaged over its
    columns; with ``sample_weight`` the mean over rows is weighted.
    """
    loss = criterion(prediction, target)
    if loss.dim() > 1:
        loss = loss.flatten(1).mean(1)
    if sample_weight is None:
        return loss.mean()
    total = sample_weight.sum().clamp_min(torch.finfo(sample_weight.dtype).tiny)
    return (loss * sample_weight).sum() / total


class HalfPoissonDeviance(torch.nn.Module):
    """Per-element half Poisson deviance of a log-mean prediction.

    ``prediction`` is ``log(mu)`` (the log link); the loss is
    ``target * log(target / mu) - target + mu``, MLPRegressor's
    ``poisson_loss`` with ``loss='poisson'``: zero where ``mu == target``.
    """

    def forward(self, prediction: Tensor, target: Tensor) -> Tensor:
        return (
            torch.xlogy(target, target)
            - target
            - target * prediction
            + torch.exp(prediction)
        )
