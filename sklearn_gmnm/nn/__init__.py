"""PyTorch building blocks: the GMNM layer for use in any network."""

from ._layer import GMNM
from ._trunk import ACTIVATIONS, gmnm_network, mlp_trunk

__all__ = ["ACTIVATIONS", "GMNM", "gmnm_network", "mlp_trunk"]
