"""A trunk of linear layers in front of a GMNM head: public torch modules."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import torch
from torch import nn

from ._layer import GMNM

#: The activations of :class:`~sklearn.neural_network.MLPRegressor`, as
#: torch modules: ``'identity'`` (no-op), ``'logistic'`` (sigmoid),
#: ``'tanh'`` and ``'relu'``.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def _activation_name(module: nn.Module) -> str | None:
    """Name in :data:`ACTIVATIONS` of an activation module, or None."""
    for name, cls in ACTIVATIONS.items():
        if type(module) is cls:
            return name
    return None


def mlp_trunk(
    in_features: int,
    hidden_layer_sizes: Sequence[int],
    activation: str = "relu",
    *,
    device: Any = None,
    dtype: torch.dtype | None = None,
) -> nn.Sequential:
    """Hidden layers of a multi-layer perceptron, as a ``torch.nn.Sequential``.

    One :class:`torch.nn.Linear` followed by the activation per entry of
    ``hidden_layer_sizes``: the hidden layers of
    :class:`~sklearn.neural_network.MLPRegressor` with the same
    ``hidden_layer_sizes`` and ``activation``, without its output layer.
    Put a :class:`GMNM` behind it as the head (see :func:`gmnm_network`).

    Parameters
    ----------
    in_features : int
        Size of the last input dimension.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; empty for no layer (an empty
        ``Sequential``, the identity).
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation after each linear layer, with MLP's meanings.
    device : torch.device, str or None, default=None
        Device of the parameters.
    dtype : torch.dtype or None, default=None
        Floating point type of the parameters.

    Returns
    -------
    trunk : torch.nn.Sequential
        ``Linear, activation, Linear, activation, ...``; its output has
        ``hidden_layer_sizes[-1]`` features (``in_features`` when empty).

    Examples
    --------
    >>> import torch
    >>> from sklearn_gmnm.nn import mlp_trunk
    >>> trunk = mlp_trunk(4, (16, 8), activation="tanh")
    >>> trunk(torch.randn(5, 4)).shape
    torch.Size([5, 8])
    """
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}."
        )
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden_layer_sizes:
        if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
            raise ValueError(
                f"hidden_layer_sizes must hold positive ints, got {size!r}."
            )
        size = int(size)
        layers.append(nn.Linear(width, size, device=device, dtype=dtype))
        layers.append(ACTIVATIONS[activation]())
        width = size
    return nn.Sequential(*layers)


def gmnm_network(
    in_features: int,
    out_features: int,
    hidden_layer_sizes: Sequence[int] = (),
    activation: str = "relu",
    **gmnm_kwargs: Any,
) -> nn.Module:
    """A GMNM head behind an MLP trunk: the module of the estimators.

    Without hidden layers it is the :class:`GMNM` layer itself. With them,
    it is ``torch.nn.Sequential(OrderedDict(trunk=mlp_trunk(...),
    head=GMNM(hidden_layer_sizes[-1], out_features, ...)))``, a plain torch
    module that can be built by hand just as well; ``network.trunk`` and
    ``network.head`` are its parts. The head's linear term
    (``linear_term=True``) then acts on the trunk's output, so that the
    network holds an MLP of the same hidden layers as a special case (all
    mixing weights zero).

    Parameters
    ----------
    in_features : int
        Size of the last input dimension.
    out_features : int
        Size of the last output dimension.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the trunk's hidden layers; empty for the GMNM layer alone.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the trunk's layers.
    **gmnm_kwargs : dict
        Keyword arguments of :class:`GMNM` (``n_components``,
        ``covariance_type``, ``rank``, ``linear_term``, ``dtype``, ...);
        ``device`` and ``dtype`` apply to the trunk too.

    Returns
    -------
    network : GMNM or torch.nn.Sequential
        The layer, or the trunk followed by the head.

    Examples
    --------
    >>> import torch
    >>> from sklearn_gmnm.nn import gmnm_network
    >>> net = gmnm_network(4, 2, (16, 8), n_components=6)
    >>> net(torch.randn(5, 4)).shape
    torch.Size([5, 2])
    >>> type(net.head).__name__, len(net.trunk)
    ('GMNM', 4)
    """
    hidden = tuple(int(size) for size in hidden_layer_sizes)
    if not hidden:
        return GMNM(in_features, out_features, **gmnm_kwargs)
    factory = {key: gmnm_kwargs.get(key) for key in ("device", "dtype")}
    trunk = mlp_trunk(in_features, hidden, activation, **factory)
    head = GMNM(hidden[-1], out_features, **gmnm_kwargs)
    return nn.Sequential(OrderedDict([("trunk", trunk), ("head", head)]))


def split_network(network: nn.Module) -> tuple[nn.Sequential | None, GMNM]:
    """``(trunk, head)`` of a module built by :func:`gmnm_network`.

    The trunk is None for a single :class:`GMNM` layer. Raises a TypeError
    for any other module.
    """
    if isinstance(network, GMNM):
        return None, network
    trunk = getattr(network, "trunk", None)
    head = getattr(network, "head", None)
    if (
        isinstance(network, nn.Sequential)
        and len(network) == 2
        and isinstance(trunk, nn.Sequential)
        and isinstance(head, GMNM)
    ):
        return trunk, head
    raise TypeError(
        f"Expected a GMNM layer or a trunk and a GMNM head as gmnm_network "
        f"builds them, got {type(network).__name__}."
    )


def trunk_layers(trunk: nn.Sequential | None) -> list[tuple[nn.Linear, str]]:
    """The ``(Linear, activation name)`` pairs of an :func:`mlp_trunk`.

    Raises a TypeError when the trunk holds anything else.
    """
    if trunk is None:
        return []
    modules = list(trunk)
    pairs = []
    for i in range(0, len(modules), 2):
        linear = modules[i]
        name = _activation_name(modules[i + 1]) if i + 1 < len(modules) else None
        if not isinstance(linear, nn.Linear) or name is None:
            raise TypeError(
                "The trunk must alternate torch.nn.Linear layers and activations "
                f"among {sorted(ACTIVATIONS)}, as mlp_trunk builds it."
            )
        pairs.append((linear, name))
    return pairs
