"""Gaussian activations of a GMNM layer in GEMM form.

Every function maps a 2-D batch ``x`` of shape ``(n, d)`` to the unnormalised
Gaussian activations ``g`` of shape ``(n, m)``, with

    g[:, i] = exp(-0.5 * || A_i (x - mu_i) ||^2).

None of them builds the ``(n, m, d)`` tensor of centred inputs: the squared
Mahalanobis distance is expanded into matrix products, so the memory is
``O(n * m * r)`` for the ``full`` type and ``O(n * m)`` for the others.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = [
    "gaussian_full",
    "gaussian_diag",
    "gaussian_spherical",
    "gaussian_tied",
    "smooth_clip",
]


def smooth_clip(x: Tensor, bound: float) -> Tensor:
    """``x / sqrt(1 + (x / bound)**2)``: near ``x`` for small ``|x|``, tending
    to ``+-bound`` for large ones (RealMLP's smooth clipping), with the same
    order of values. The GMNM layer applies it to the Gaussians' inputs
    when it has an ``input_clip``."""
    # 1 + (x / bound)^2 in one fused operation, then a reciprocal square
    # root: three passes over x instead of five.
    one = torch.ones((), dtype=x.dtype, device=x.device)
    return x * torch.addcmul(one, x, x, value=1.0 / bound**2).rsqrt()


def _squared_distance(x_sq: Tensor, cross: Tensor, c_sq: Tensor) -> Tensor:
    """Combine ``|x|^2 - 2 x.c + |c|^2``, clamped at zero against round-off."""
    return (x_sq.unsqueeze(-1) - 2.0 * cross + c_sq).clamp_min(0.0)


class _ProjectedGaussian(torch.autograd.Function):
    """``g_i = exp(-0.5 * || A_i (x - mu_i) ||^2)`` with a hand-written backward.

    The forward stacks the projections rank-major into ``W`` of shape
    ``(r * m, d)`` (row ``k * m + i`` is row ``k`` of ``A_i``) with their
    offsets ``c = A_i mu_i`` in the same order (:func:`stacked_projections`),
    so that the projection is one matrix product ``y = x @ W^T - c`` and the
    sum over the rank runs over ``r`` contiguous blocks of ``m`` columns: on
    527 x 512 projections that sum took 83 us, and the norm over groups of
    ``r`` adjacent columns 353 us. Autograd would keep the squared
    projections and run one elementwise pass per operation; here the forward
    saves only the projections ``y`` and the activations ``g``, and the
    backward uses ``dg / dy = -g * y`` directly, then maps the gradients of
    ``W`` and ``c`` back to the projections and centers itself. Stacking
    inside the node rather than before it took a default training step
    (forward and backward) from 507 to 421 us on 181 rows of 5 features,
    and from 1016 to 799 us on 256 rows of 30 features: autograd's nodes for
    the transpose, reshape and ``einsum`` of the stacking cost more than
    their arithmetic.
    """

    @staticmethod
    def forward(ctx, x: Tensor, centers: Tensor, projections: Tensor) -> Tensor:
        stacked, y, g = _projected_gaussian(x, centers, projections)
        ctx.save_for_backward(x, centers, projections, stacked, y, g)
        return g

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_g: Tensor):
        x, centers, projections, stacked, y, g = ctx.saved_tensors
        m, r, d = projections.shape
        n = x.shape[0]
        scale = (grad_g * g).neg_().unsqueeze(1)  # (n, 1, m)
        grad_y = (y.view(n, r, m) * scale).view(n, r * m)
        grad_x = grad_centers = grad_projections = None
        # Both products written with the (r * m)-long dimension last: torch's
        # CPU kernels took 465 us for grad_y.t() @ x and 160 us for
        # (x.t() @ grad_y).t() on 527 rows, 15 features and 512 projections
        # (378 against 184 us for grad_x).
        if ctx.needs_input_grad[0]:
            grad_x = (stacked.t() @ grad_y.t()).t()
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            # y = x @ W^T - c with c[k * m + i] = A_i[k] . mu_i.
            grad_offset = grad_y.sum(0).neg_().view(r, m).t()  # (m, r)
            if ctx.needs_input_grad[1]:
                grad_centers = torch.bmm(grad_offset.unsqueeze(1), projections)
                grad_centers = grad_centers.squeeze(1)
            if ctx.needs_input_grad[2]:
                grad_stacked = (x.t() @ grad_y).t()  # (r * m, d)
                grad_projections = grad_stacked.view(r, m, d).transpose(0, 1) + (
                    grad_offset.unsqueeze(-1) * centers.unsqueeze(1)
                )
        return grad_x, grad_centers, grad_projections


def _projected_gaussian(
    x: Tensor, centers: Tensor, projections: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """The stacked projections, the projections ``y`` and the activations ``g``."""
    n = x.shape[0]
    r = projections.shape[1]
    stacked, offset = stacked_projections(centers, projections)
    y = torch.addmm(offset, x, stacked.t(), beta=-1)  # (n, r * m)
    g = y.square().view(n, r, -1).sum(1).mul_(-0.5).exp_()
    return stacked, y, g


def stacked_projections(
    centers: Tensor, projections: Tensor
) -> tuple[Tensor, Tensor]:
    """Rank-major stack of the projections and their offsets.

    Parameters
    ----------
    centers : Tensor of shape (m, d)
        Component centers ``mu_i``.
    projections : Tensor of shape (m, r, d)
        Projections ``A_i``.

    Returns
    -------
    stacked : Tensor of shape (r * m, d)
        Row ``k * m + i`` is row ``k`` of ``A_i``.
    offset : Tensor of shape (r * m,)
        ``(A_i mu_i)_k`` at position ``k * m + i``.
    """
    m, r, d = projections.shape
    stacked = projections.transpose(0, 1).reshape(r * m, d)
    offset = torch.bmm(projections, centers.unsqueeze(-1)).view(m, r).t()
    return stacked, offset.reshape(r * m)


def gaussian_full(x: Tensor, centers: Tensor, projections: Tensor) -> Tensor:
    """Activations for per-component projections ``A_i`` of shape ``(r, d)``.

    ``A_i (x - mu_i) = A_i x - A_i mu_i``: all ``A_i`` are stacked into one
    ``(r * m, d)`` matrix (:func:`stacked_projections`), so the projection
    is a single matrix product; the stacking, the squaring, the sum over
    ``r`` and the exponential are fused into one autograd node
    (:class:`_ProjectedGaussian`).

    Parameters
    ----------
    x : Tensor of shape (n, d)
        Inputs.
    centers : Tensor of shape (m, d)
        Component centers ``mu_i``.
    projections : Tensor of shape (m, r, d)
        Projections ``A_i``; ``A_i^T A_i`` plays the inverse covariance.

    Returns
    -------
    g : Tensor of shape (n, m)
        Gaussian activations.
    """
    if torch.is_grad_enabled() and (
        x.requires_grad or centers.requires_grad or projections.requires_grad
    ):
        return _ProjectedGaussian.apply(x, centers, projections)
    # Without a gradient to compute, the same arithmetic outside the
    # autograd node: the early-stopping score of every epoch runs here, and
    # on 40 held-out rows the node's bookkeeping took a fifth of the
    # forward pass (87 against 70 us, best of 15 runs).
    return _projected_gaussian(x, centers, projections)[2]


def gaussian_diag(x: Tensor, centers: Tensor, scales: Tensor) -> Tensor:
    """Activations for axis-aligned (diagonal) precisions.

    ``sum_j a_ij^2 (x_j - mu_ij)^2 = (x*x) @ (a^2)^T - 2 x @ (a^2 mu)^T + const``.

    Parameters
    ----------
    x : Tensor of shape (n, d)
        Inputs.
    centers : Tensor of shape (m, d)
        Component centers.
    scales : Tensor of shape (m, d)
        Per-component, per-feature inverse widths ``a_ij``.

    Returns
    -------
    g : Tensor of shape (n, m)
        Gaussian activations.
    """
    prec = scales.square()
    weighted_centers = prec * centers
    q = (
        (x * x) @ prec.t()
        - 2.0 * (x @ weighted_centers.t())
        + (weighted_centers * centers).sum(-1)
    ).clamp_min(0.0)
    return torch.exp(-0.5 * q)


def gaussian_spherical(x: Tensor, centers: Tensor, scales: Tensor) -> Tensor:
    """Activations for one inverse width per component.

    Parameters
    ----------
    x : Tensor of shape (n, d)
        Inputs.
    centers : Tensor of shape (m, d)
        Component centers.
    scales : Tensor of shape (m,)
        Inverse widths ``s_i``: ``y_i^2 = s_i^2 ||x - mu_i||^2``.

    Returns
    -------
    g : Tensor of shape (n, m)
        Gaussian activations.
    """
    dist = _squared_distance(
        x.square().sum(-1), x @ centers.t(), centers.square().sum(-1)
    )
    return torch.exp(-0.5 * dist * scales.square())


def gaussian_tied(x: Tensor, centers: Tensor, projection: Tensor) -> Tensor:
    """Activations for one projection ``A`` of shape ``(r, d)`` shared by all.

    The squared distance is taken in the projected space ``A x``: an RBF
    network in a learned metric.

    Parameters
    ----------
    x : Tensor of shape (n, d)
        Inputs.
    centers : Tensor of shape (m, d)
        Component centers.
    projection : Tensor of shape (r, d)
        Shared projection ``A``.

    Returns
    -------
    g : Tensor of shape (n, m)
        Gaussian activations.
    """
    xp = x @ projection.t()
    cp = centers @ projection.t()
    dist = _squared_distance(xp.square().sum(-1), xp @ cp.t(), cp.square().sum(-1))
    return torch.exp(-0.5 * dist)
