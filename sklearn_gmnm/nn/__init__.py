"""PyTorch building blocks: the GMNM layer for use in any network."""

from ._layer import GMNM

__all__ = ["GMNM"]
