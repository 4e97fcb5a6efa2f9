"""The GMNM layer: a public ``torch.nn.Module``."""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import Tensor, nn

from . import _functional as F

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")


def default_rank(in_features: int) -> int:
    """Projection rank used when ``rank=None``: ``min(in_features, 8)``."""
    return min(in_features, 8)


class GMNM(nn.Module):
    r"""Gaussian Mixture-Inspired Nonlinear Module.

    Maps ``x`` in :math:`\mathbb{R}^d` to :math:`\mathbb{R}^k` through ``m``
    augmented Gaussian projections:

    .. math::

        G(x) = \sum_{i=1}^{m} \pi_i \exp\left(-\tfrac12 \lVert A_i (x - \mu_i)
        \rVert^2\right) + V x + b

    with unconstrained mixing weights :math:`\pi_i \in \mathbb{R}^k` and an
    optional linear term :math:`V x` (``linear_term=True``; the paper's
    module is ``linear_term=False``).
    Like :class:`torch.nn.Linear` it applies over the last dimension, so an
    input of shape ``(..., in_features)`` gives ``(..., out_features)``.

    Parameters
    ----------
    in_features : int
        Size of the last input dimension ``d``.
    out_features : int
        Size of the last output dimension ``k``.
    n_components : int, default=32
        Number of Gaussian components ``m``.
    covariance_type : {'full', 'diag', 'spherical', 'tied'}, default='full'
        Structure of the precision :math:`A_i^T A_i`:

        - ``'full'``: each component has its own projection ``A_i`` of shape
          ``(rank, in_features)``;
        - ``'diag'``: each component has axis-aligned widths;
        - ``'spherical'``: each component has a single width;
        - ``'tied'``: all components share one projection of shape
          ``(rank, in_features)``.
    rank : int or None, default=None
        Rows of the projections of the ``'full'`` and ``'tied'`` types, at
        most ``in_features``. ``None`` means ``min(in_features, 8)``. Ignored
        by the other types.
    learn_centers : bool, default=True
        Whether the centers are trained. If False they stay where they were
        initialised (for example by :func:`sklearn_gmnm.init_from_data`).
    bias : bool, default=True
        Whether to add a learnable bias ``b``.
    linear_term : bool, default=False
        Whether to add a learnable linear map ``V x`` of the inputs to the
        output, as radial-basis-function networks often do: the Gaussians,
        which are local, then only model what a global linear trend does not.
    input_clip : float or None, default=None
        Bound ``c`` of a smooth clipping of the Gaussians' inputs: each input
        ``z`` enters the Gaussians as ``z / sqrt(1 + (z / c)**2)`` (RealMLP's
        smooth clipping), which keeps the order of the values but squeezes
        those beyond about ``c`` towards ``+-c``, so that a few extreme
        values of a heavy-tailed input do not stretch the space the
        Gaussians tile. The linear term sees the inputs unclipped, so a
        trend along such an input is still followed. None: no clipping.
    device : torch.device, str or None, default=None
        Device of the parameters.
    dtype : torch.dtype or None, default=None
        Floating point type of the parameters.

    Attributes
    ----------
    centers : torch.nn.Parameter of shape (n_components, in_features)
        Component centers :math:`\mu_i`.
    projections : torch.nn.Parameter
        Shape ``(n_components, rank, in_features)`` for ``'full'``,
        ``(n_components, in_features)`` for ``'diag'``, ``(n_components,)``
        for ``'spherical'`` and ``(rank, in_features)`` for ``'tied'``.
    weight : torch.nn.Parameter of shape (out_features, n_components)
        Mixing weights :math:`\pi`.
    bias : torch.nn.Parameter of shape (out_features,) or None
        Output bias.
    linear_weight : torch.nn.Parameter of shape (out_features, in_features) or None
        Weights ``V`` of the linear term; None when ``linear_term=False``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_gmnm.nn import GMNM
    >>> layer = GMNM(4, 2, n_components=8)
    >>> layer(torch.randn(5, 3, 4)).shape
    torch.Size([5, 3, 2])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_components: int = 32,
        covariance_type: str = "full",
        rank: int | None = None,
        learn_centers: bool = True,
        bias: bool = True,
        linear_term: bool = False,
        input_clip: float | None = None,
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_features", in_features),
            ("out_features", out_features),
            ("n_components", n_components),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}, "
                f"got {covariance_type!r}."
            )
        if rank is None:
            rank = default_rank(in_features)
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank must be a positive int or None, got {rank!r}.")
        if covariance_type in ("full", "tied") and rank > in_features:
            raise ValueError(
                f"rank={rank} exceeds in_features={in_features}: a projection "
                "of more rows than input features adds nothing. Use a rank of "
                f"at most {in_features}, or rank=None."
            )
        if input_clip is not None and not (
            isinstance(input_clip, (int, float))
            and not isinstance(input_clip, bool)
            and math.isfinite(input_clip)
            and input_clip > 0
        ):
            raise ValueError(
                f"input_clip must be a positive finite number or None, "
                f"got {input_clip!r}."
            )
        self.in_features = in_features
        self.out_features = out_features
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.rank = rank
        self.learn_centers = learn_centers
        self.input_clip = None if input_clip is None else float(input_clip)

        factory = {"device": device, "dtype": dtype}
        m, d = n_components, in_features
        self.centers = nn.Parameter(
            torch.empty(m, d, **factory), requires_grad=learn_centers
        )
        shapes = {
            "full": (m, rank, d),
            "diag": (m, d),
            "spherical": (m,),
            "tied": (rank, d),
        }
        self.projections = nn.Parameter(torch.empty(shapes[covariance_type], **factory))
        self.weight = nn.Parameter(torch.empty(out_features, m, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        if linear_term:
            self.linear_weight = nn.Parameter(
                torch.empty(out_features, in_features, **factory)
            )
        else:
            self.register_parameter("linear_weight", None)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Data-free initialisation, for inputs of roughly unit scale.

        Centers are drawn from a standard normal; projections are scaled so
        that the squared distance of a typical input is of order one; the
        mixing weights follow :class:`torch.nn.Linear`; the linear term
        starts at zero. Prefer :func:`sklearn_gmnm.init_from_data` when data
        are at hand.
        """
        d = self.in_features
        nn.init.normal_(self.centers)
        if self.covariance_type == "full":
            nn.init.normal_(self.projections, std=1.0 / math.sqrt(2 * d * self.rank))
        elif self.covariance_type == "tied":
            nn.init.normal_(self.projections, std=1.0 / math.sqrt(2 * d * self.rank))
        else:
            self.projections.fill_(1.0 / math.sqrt(2 * d))
        bound = 1.0 / math.sqrt(self.n_components)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)
        if self.linear_weight is not None:
            nn.init.zeros_(self.linear_weight)

    def activations(self, x: Tensor) -> Tensor:
        """Gaussian activations ``g_i(x)`` before mixing.

        Parameters
        ----------
        x : Tensor of shape (..., in_features)
            Inputs.

        Returns
        -------
        g : Tensor of shape (..., n_components)
            Activations in ``(0, 1]``.
        """
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"GMNM expects inputs with last dimension {self.in_features}, "
                f"got shape {tuple(x.shape)}."
            )
        flat = x.reshape(-1, self.in_features)
        if self.input_clip is not None:
            flat = F.smooth_clip(flat, self.input_clip)
        kernel = getattr(F, f"gaussian_{self.covariance_type}")
        g = kernel(flat, self.centers, self.projections)
        return g.reshape(*x.shape[:-1], self.n_components)

    def forward(self, x: Tensor) -> Tensor:
        """Mix the Gaussian activations into ``(..., out_features)`` outputs."""
        g = self.activations(x).reshape(-1, self.n_components)
        if self.bias is None:
            out = g @ self.weight.t()
        else:
            out = torch.addmm(self.bias, g, self.weight.t())
        if self.linear_weight is not None:
            flat = x.reshape(-1, self.in_features)
            out = torch.addmm(out, flat, self.linear_weight.t())
        return out.reshape(*x.shape[:-1], self.out_features)

    def init_from_data(self, X: Any, y: Any = None, **kwargs: Any) -> GMNM:
        """Deprecated alias of :func:`sklearn_gmnm.init_from_data`.

        .. deprecated:: 0.2
            Use ``sklearn_gmnm.init_from_data(layer, X, y, ...)``; this method
            will be removed in 0.4. The torch layer does not depend on the
            k-means and ridge initialisation, which lives above it.

        Parameters
        ----------
        X : array-like or Tensor of shape (n_samples, in_features)
            Inputs.
        y : array-like or Tensor of shape (n_samples, out_features), default=None
            Targets of the ridge fit.
        **kwargs : dict
            Keyword arguments of :func:`sklearn_gmnm.init_from_data`.

        Returns
        -------
        self : GMNM
            The initialised layer.
        """
        warnings.warn(
            "GMNM.init_from_data is deprecated since 0.2 and will be removed in "
            "0.4; use sklearn_gmnm.init_from_data(layer, X, y, ...) instead.",
            FutureWarning,
            stacklevel=2,
        )
        from .. import init_from_data

        return init_from_data(self, X, y, **kwargs)

    def extra_repr(self) -> str:
        rank = (
            f", rank={self.rank}" if self.covariance_type in ("full", "tied") else ""
        )
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_components={self.n_components}, "
            f"covariance_type={self.covariance_type!r}{rank}, "
            f"learn_centers={self.learn_centers}, bias={self.bias is not None}, "
            f"linear_term={self.linear_weight is not None}"
            + ("" if self.input_clip is None else f", input_clip={self.input_clip}")
        )
