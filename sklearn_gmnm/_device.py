"""Choice of the torch device an estimator trains and predicts on.

The rule: ``fit`` trains on the device that ``device`` names (the data are
moved there once), then moves the fitted module back to the CPU and releases
the cached GPU memory, so a fitted estimator holds no GPU memory and
unpickles anywhere. Prediction runs on ``device_`` when this machine has that
device, else on the CPU.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import torch

DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


def resolve_device(device: str) -> torch.device:
    """Turn an estimator's ``device`` parameter into a ``torch.device``.

    Parameters
    ----------
    device : str
        ``'auto'`` (CUDA when available, else CPU), ``'cpu'``, ``'cuda'`` or
        ``'cuda:N'``.

    Returns
    -------
    device : torch.device
        The device to train on.

    Raises
    ------
    ValueError
        If the string is not a device name, or names a CUDA device this
        machine does not have.
    """
    if not isinstance(device, str) or not DEVICE_PATTERN.fullmatch(device):
        raise ValueError(
            "device must be 'auto', 'cpu', 'cuda' or 'cuda:N', "
            f"got {device!r}."
        )
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available "
                f"on this machine{_visible_devices_note()}; use device='cpu' or "
                "device='auto'."
            )
        index = resolved.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible"
                f"{_visible_devices_note()}; CUDA devices are numbered from 0 "
                "among the visible ones."
            )
    return resolved


def _visible_devices_note() -> str:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return "" if visible is None else f" (CUDA_VISIBLE_DEVICES={visible!r})"


def cuda_device_present(device: torch.device) -> bool:
    """Whether this machine has the CUDA device ``device`` names."""
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    return (device.index or 0) < torch.cuda.device_count()


def predict_device(trained_on: torch.device) -> torch.device:
    """Device a fitted estimator predicts on.

    Parameters
    ----------
    trained_on : torch.device
        The estimator's ``device_``.

    Returns
    -------
    device : torch.device
        ``trained_on`` when it is a CUDA device this machine has, else the
        CPU (for instance for a model trained on a GPU and loaded on a
        CPU-only machine).
    """
    trained_on = torch.device(trained_on)
    return trained_on if cuda_device_present(trained_on) else torch.device("cpu")


def release_cuda_memory(device: torch.device) -> None:
    """Return the cached, no longer used memory of ``device`` to the driver."""
    if cuda_device_present(device):
        gc.collect()  # tensors held only by reference cycles
        with torch.cuda.device(device):
            torch.cuda.empty_cache()


@contextmanager
def explain_cuda_oom(stage: str) -> Iterator[None]:
    """Re-raise a CUDA out-of-memory error with the setting to lower.

    Parameters
    ----------
    stage : {'fit', 'predict'}
        What ran out of memory; picks the advice.

    Raises
    ------
    torch.cuda.OutOfMemoryError
        The same error type, with a message naming what to change.
    """
    try:
        yield
    except torch.cuda.OutOfMemoryError as err:
        if stage == "fit":
            advice = (
                "lower batch_size, n_components or rank, or train with "
                "device='cpu' (the whole training set is moved to the device)"
            )
        else:
            advice = (
                "free GPU memory or predict on smaller slices of X; to predict "
                "on the CPU instead, set the estimator's device_ to "
                "torch.device('cpu')"
            )
        raise torch.cuda.OutOfMemoryError(
            f"CUDA ran out of memory during {stage}: {advice}. "
            f"Original error: {err}"
        ) from err
