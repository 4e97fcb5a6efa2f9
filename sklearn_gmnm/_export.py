"""Inference form of a fitted estimator: its ``predict`` and its exports.

A fitted estimator computes its outputs in three steps: standardise the
inputs (clipped at ``_MAX_STANDARD_SCORE`` standard deviations, then smoothly
clipped for ``input_scaling='robust'``), run the network (the trunk's linear
layers and activations when it has hidden layers, then the GMNM layer), then
map the raw outputs back (target scaling, after an ``exp`` for the Poisson
loss's log link, for the regressor; a softmax for the classifier, a sigmoid
per label for a multilabel classifier). :func:`inference_constants` turns
the fitted module into the arrays that a plain chain of matrix products and
elementwise operations needs; :class:`GMNMInference` is that chain as a
self-contained ``torch.nn.Module``: in float64 and without the output map,
it computes the estimators' ``predict`` on the CPU; in float32 with the
output map, it is what ``to_torch`` returns. :mod:`sklearn_gmnm._onnx`
writes the same float32 chain as an ONNX graph.

The inference form does not use the custom autograd function of the full
covariance type (``_ProjectedGaussian``): ``torch.jit.trace`` cannot record
it, and inference needs no backward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .nn import GMNM
from .nn._functional import smooth_clip, stacked_projections
from .nn._trunk import split_network, trunk_layers

__all__ = ["GMNMInference", "inference_constants", "trunk_constants"]


def _checked_module(estimator: Any) -> nn.Module:
    """The fitted module of ``estimator``, or a TypeError.

    Exportable are a single GMNM layer and a trunk of linear layers and
    MLP activations followed by a GMNM head (:func:`~sklearn_gmnm.nn.gmnm_network`).
    """
    module = estimator.module_
    try:
        trunk_layers(split_network(module)[0])
    except TypeError as err:
        raise TypeError(
            f"{type(estimator).__name__} holds a module of type "
            f"{type(module).__name__}; only a GMNM layer, alone or behind a "
            f"trunk of linear layers and MLP activations, can be exported ({err})"
        ) from None
    return module


def _array(tensor: Tensor, dtype: torch.dtype) -> np.ndarray:
    """A C-ordered numpy copy of ``tensor`` in ``dtype``."""
    return tensor.detach().to(dtype).contiguous().numpy().copy()


@torch.no_grad()
def trunk_constants(
    module: nn.Module, dtype: torch.dtype = torch.float32
) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """``(weight_t, bias, activation)`` of each layer of the trunk, in ``dtype``.

    ``weight_t`` has shape ``(fan_in, fan_out)``: a layer computes
    ``activation(h @ weight_t + bias)``. Empty for a single GMNM layer.
    """
    return [
        (_array(linear.weight.t(), dtype), _array(linear.bias, dtype), activation)
        for linear, activation in trunk_layers(split_network(module)[0])
    ]


@torch.no_grad()
def inference_constants(
    module: GMNM, dtype: torch.dtype = torch.float32
) -> dict[str, np.ndarray | int | str]:
    """Arrays of the inference form of a GMNM module, in ``dtype``.

    The derived arrays (stacked projections, precisions, squared norms of
    the centers) are computed in float64 from the module's parameters with
    the operations of :mod:`sklearn_gmnm.nn._functional`, then cast to
    ``dtype``. Factors of ``-2`` and ``-0.5``, which are exact in floating
    point, are folded in.

    Parameters
    ----------
    module : GMNM
        A (fitted) GMNM layer.
    dtype : torch.dtype, default=torch.float32
        Dtype of the returned arrays.

    Returns
    -------
    constants : dict
        ``covariance_type`` and ``n_components``; per type:

        - ``'full'``: ``stacked_t`` of shape (d, r * m), ``offset`` of shape
          (r * m,) and ``rank``, rank-major (column ``k * m + i`` is row
          ``k`` of component ``i``'s projection): ``g = exp(-0.5 * sum_k
          (x @ stacked_t - offset)[:, k * m:(k + 1) * m]^2)``;
        - ``'diag'``: ``prec_t`` (d, m), ``cross_t`` (d, m) and ``center_sq``
          (m,): ``q = (x * x) @ prec_t + x @ cross_t + center_sq``;
        - ``'spherical'``: ``cross_t`` (d, m), ``center_sq`` (m,) and
          ``neg_half_prec`` (m,): ``g = exp(relu(|x|^2 + x @ cross_t +
          center_sq) * neg_half_prec)``;
        - ``'tied'``: ``projection_t`` (d, r), ``cross_t`` (r, m) and
          ``center_sq`` (m,), the spherical form in the projected space.

        For every type, ``weight_t`` (m, k), ``bias`` (k,),
        ``linear_t`` (d, k) or None, and ``input_clip``, the layer's bound
        (a float or None): the Gaussians act on ``x / sqrt(1 + (x /
        input_clip)^2)``, the linear term on ``x``.
    """
    centers = module.centers.detach().double()
    proj = module.projections.detach().double()
    kind = module.covariance_type
    out: dict[str, Any] = {
        "covariance_type": kind,
        "n_components": module.n_components,
        "input_clip": module.input_clip,
    }
    if kind == "full":
        stacked, out["offset"] = stacked_projections(centers, proj)
        out["stacked_t"] = stacked.t()
        out["rank"] = proj.shape[1]
    elif kind == "diag":
        prec = proj.square()
        weighted = prec * centers
        out["prec_t"] = prec.t()
        out["cross_t"] = -2.0 * weighted.t()
        out["center_sq"] = (weighted * centers).sum(-1)
    elif kind == "spherical":
        out["cross_t"] = -2.0 * centers.t()
        out["center_sq"] = centers.square().sum(-1)
        out["neg_half_prec"] = -0.5 * proj.square()
    else:  # tied
        projected = centers @ proj.t()
        out["projection_t"] = proj.t()
        out["cross_t"] = -2.0 * projected.t()
        out["center_sq"] = projected.square().sum(-1)
    out["weight_t"] = module.weight.detach().t()
    out["bias"] = (
        torch.zeros(module.out_features, dtype=module.weight.dtype)
        if module.bias is None
        else module.bias.detach()
    )
    out["linear_t"] = (
        None if module.linear_weight is None else module.linear_weight.detach().t()
    )
    return {
        key: _array(value, dtype) if isinstance(value, Tensor) else value
        for key, value in out.items()
    }


class GMNMInference(nn.Module):
    """A fitted GMNM estimator as a plain ``torch.nn.Module``.

    Maps raw inputs of shape ``(n, n_features)`` to the estimator's outputs:
    standardisation (and its clip), the GMNM layer in plain operations, and
    the output map (target scaling, a softmax, or a sigmoid per label). Every
    tensor is a buffer,
    so ``.to(device)`` moves the whole model, and ``torch.jit.trace`` and
    ``torch.export.export`` accept it.

    Parameters
    ----------
    module : GMNM or torch.nn.Sequential
        The fitted layer, or trunk and GMNM head as
        :func:`~sklearn_gmnm.nn.gmnm_network` builds them; the parameters
        are copied in ``dtype``.
    x_mean : ndarray of shape (n_features,)
        Means used to standardise the inputs.
    x_scale : ndarray of shape (n_features,)
        Standard deviations used to standardise the inputs.
    max_score : float
        Standardised inputs are clipped to ``[-max_score, max_score]``.
    smooth_clip : float or None, default=None
        Bound ``b`` of the smooth clipping ``z / sqrt(1 + (z / b)**2)`` that
        follows (``input_scaling='robust'``), or None for none.
    output_scale : ndarray of shape (n_outputs,) or None, default=None
        Factor applied to the layer's outputs (regression targets).
    output_offset : ndarray of shape (n_outputs,) or None, default=None
        Offset added after ``output_scale``.
    softmax : bool, default=False
        Whether to return the softmax of the outputs (class probabilities).
    sigmoid : bool, default=False
        Whether to return the sigmoid of each output (the label
        probabilities of a multilabel classifier).
    exp : bool, default=False
        Whether to take the ``exp`` of the outputs before ``output_scale``
        (the log link of the Poisson loss).
    squeeze : bool, default=False
        Whether to return a 1-D output (the layer has one output).
    dtype : torch.dtype, default=torch.float32
        Dtype of the buffers and of the computation (inputs are cast to it):
        float32 for serving, float64 for the estimator's own ``predict``.
    """

    def __init__(
        self,
        module: nn.Module,
        x_mean: np.ndarray,
        x_scale: np.ndarray,
        max_score: float,
        *,
        smooth_clip: float | None = None,
        output_scale: np.ndarray | None = None,
        output_offset: np.ndarray | None = None,
        softmax: bool = False,
        sigmoid: bool = False,
        exp: bool = False,
        squeeze: bool = False,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if softmax + sigmoid + exp > 1:
            raise ValueError("softmax, sigmoid and exp are exclusive output maps.")
        trunk = trunk_constants(module, dtype)
        head = split_network(module)[1]
        if squeeze and head.out_features != 1:
            raise ValueError(
                f"squeeze=True needs a single output, got {head.out_features}."
            )
        constants = inference_constants(head, dtype)
        self.covariance_type: str = head.covariance_type
        self.in_features: int = (
            trunk[0][0].shape[0] if trunk else head.in_features
        )
        self.out_features: int = head.out_features
        self.n_components: int = head.n_components
        self.rank: int = int(constants.get("rank", 1))
        self.max_score = float(max_score)
        self.smooth_clip = None if smooth_clip is None else float(smooth_clip)
        self.input_clip: float | None = constants["input_clip"]
        self.softmax = bool(softmax)
        self.sigmoid = bool(sigmoid)
        self.exp = bool(exp)
        self.squeeze = bool(squeeze)
        self.dtype = dtype
        self.trunk_activations: list[str] = [act for _, _, act in trunk]

        def buffer(name: str, value: Any) -> None:
            # What a model does not use is a plain None attribute, not a None
            # buffer: torch.export does not accept those.
            if value is None:
                setattr(self, name, None)
            else:
                tensor = torch.as_tensor(np.asarray(value)).to(dtype)
                self.register_buffer(name, tensor)

        buffer("x_mean", x_mean)
        buffer("x_scale", x_scale)
        for i, (weight_t, bias, _) in enumerate(trunk):
            buffer(f"trunk_weight_t_{i}", weight_t)
            buffer(f"trunk_bias_{i}", bias)
        for name in (
            "stacked_t",
            "offset",
            "prec_t",
            "cross_t",
            "center_sq",
            "neg_half_prec",
            "projection_t",
            "weight_t",
            "bias",
            "linear_t",
        ):
            buffer(name, constants.get(name))
        buffer("output_scale", output_scale)
        buffer("output_offset", output_offset)

    def activations(self, xs: Tensor) -> Tensor:
        """Gaussian activations of standardised inputs.

        Parameters
        ----------
        xs : Tensor of shape (n, head_features)
            Standardised inputs, after the trunk when there is one.

        Returns
        -------
        g : Tensor of shape (n, n_components)
            Activations in ``[0, 1]``.
        """
        if self.input_clip is not None:
            xs = smooth_clip(xs, self.input_clip)
        if self.covariance_type == "full":
            y = torch.addmm(self.offset, xs, self.stacked_t, beta=-1)
            q = y.square_().reshape(-1, self.rank, self.n_components).sum(1)
            return q.mul_(-0.5).exp_()
        if self.covariance_type == "diag":
            q = (xs * xs) @ self.prec_t + xs @ self.cross_t + self.center_sq
            return torch.exp(-0.5 * torch.relu(q))
        if self.covariance_type == "spherical":
            dist = xs.square().sum(-1, keepdim=True) + xs @ self.cross_t
            return torch.exp(torch.relu(dist + self.center_sq) * self.neg_half_prec)
        xp = xs @ self.projection_t
        dist = xp.square().sum(-1, keepdim=True) + xp @ self.cross_t
        return torch.exp(-0.5 * torch.relu(dist + self.center_sq))

    def forward(self, x: Tensor) -> Tensor:
        """Outputs of the estimator for raw inputs.

        Parameters
        ----------
        x : Tensor of shape (n, n_features)
            Raw inputs, as given to ``predict``; cast to ``dtype``.

        Returns
        -------
        out : Tensor of shape (n,), (n, n_outputs) or (n, n_classes)
            Predictions (1-D where the regressor was fitted on a 1-D ``y``),
            class probabilities, or label probabilities (multilabel).
        """
        x = x.to(self.dtype)
        xs = ((x - self.x_mean) / self.x_scale).clamp(-self.max_score, self.max_score)
        if self.smooth_clip is not None:
            xs = smooth_clip(xs, self.smooth_clip)
        for i, activation in enumerate(self.trunk_activations):
            xs = xs @ getattr(self, f"trunk_weight_t_{i}")
            xs = xs + getattr(self, f"trunk_bias_{i}")
            if activation == "relu":
                xs = torch.relu(xs)
            elif activation == "tanh":
                xs = torch.tanh(xs)
            elif activation == "logistic":
                xs = torch.sigmoid(xs)
        out = self.activations(xs) @ self.weight_t + self.bias
        if self.linear_t is not None:
            out = out + xs @ self.linear_t
        if self.exp:
            out = torch.exp(out)
        if self.output_scale is not None:
            out = out * self.output_scale
        if self.output_offset is not None:
            out = out + self.output_offset
        if self.softmax:
            out = torch.softmax(out, dim=-1)
        if self.sigmoid:
            out = torch.sigmoid(out)
        if self.squeeze:
            out = out[:, 0]
        return out

    def extra_repr(self) -> str:
        head = (
            "softmax" if self.softmax
            else "sigmoid" if self.sigmoid
            else "exp" if self.exp
            else "identity"
        )
        trunk = ""
        if self.trunk_activations:
            sizes = tuple(
                getattr(self, f"trunk_bias_{i}").shape[0]
                for i in range(len(self.trunk_activations))
            )
            trunk = (
                f"hidden_layer_sizes={sizes}, "
                f"activation={self.trunk_activations[0]!r}, "
            )
        return (
            f"in_features={self.in_features}, {trunk}"
            f"out_features={self.out_features}, "
            f"n_components={self.n_components}, "
            f"covariance_type={self.covariance_type!r}, output={head!r}"
        )
