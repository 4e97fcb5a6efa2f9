"""PyTorch building blocks: the GMNM layer for use in any network."""

from ._layer import GMNM
from ._trunk import gmnm_network, mlp_trunk

__all__ = ["GMNM", "gmnm_network", "mlp_trunk"]
