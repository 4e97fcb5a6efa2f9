"""Shared scikit-learn front of the GMNM estimators.

This module holds what :class:`~sklearn_gmnm.GMNMRegressor` and
:class:`~sklearn_gmnm.GMNMClassifier` have in common: parameter validation,
input standardisation, building and initialising the torch module, handing
the training to the skorch engine, and chunked prediction. The torch math
lives in :mod:`sklearn_gmnm.nn`, the data-driven initialisation in
:mod:`sklearn_gmnm._initialization` and the engine glue in
:mod:`sklearn_gmnm._engine`.
"""

from __future__ import annotations

import copy
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from skorch.callbacks import EarlyStopping
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._device import predict_device, release_cuda_memory, resolve_device
from ._engine import GMNMNet, TensorBatches, TensorData
from ._parallel import limit_threads
from .nn import GMNM
from .nn._layer import COVARIANCE_TYPES

#: Number of float32 intermediates (rows x components x rank) one predict
#: chunk may hold.
_PREDICT_BUDGET = 1 << 23


def auto_batch_size(n_samples: int) -> int:
    """Batch size used for ``batch_size='auto'``: ``min(256, n_samples)``."""
    return min(256, n_samples)


class BaseGMNM(BaseEstimator, metaclass=ABCMeta):
    """Base class of the GMNM estimators; not for direct use."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "learn_centers": ["boolean"],
        "init": [StrOptions({"kmeans", "random"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str],
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
    }

    @abstractmethod
    def __init__(
        self,
        n_components: int,
        *,
        covariance_type: str,
        rank: int | None,
        learn_centers: bool,
        init: str,
        alpha: float,
        batch_size: int | str,
        learning_rate_init: float,
        max_iter: int,
        tol: float,
        n_iter_no_change: int,
        random_state: Any,
        verbose: int,
        device: str,
        n_jobs: int | None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.rank = rank
        self.learn_centers = learn_centers
        self.init = init
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.n_jobs = n_jobs

    # -- hooks the subclasses fill in -------------------------------------
    @abstractmethod
    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Learn the target encoding; return (training targets, ridge targets)."""

    @abstractmethod
    def _criterion(self) -> torch.nn.Module:
        """Per-row loss with ``reduction='none'``."""

    @property
    @abstractmethod
    def _target_dtype(self) -> torch.dtype:
        """Torch dtype of the training targets."""

    # -- fitting ----------------------------------------------------------
    def _validate_X(self, X: Any, reset: bool) -> np.ndarray:
        return validate_data(self, X, dtype=(np.float64, np.float32), reset=reset)

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        """Centre and scale in float64, before any cast to float32."""
        return (X.astype(np.float64, copy=False) - self._x_mean) / self._x_scale

    def _fit(self, X: np.ndarray, y: np.ndarray) -> "BaseGMNM":
        device = resolve_device(self.device)
        with limit_threads(self.n_jobs):
            try:
                return self._fit_on(device, X, y)
            finally:
                if device.type == "cuda":
                    release_cuda_memory(device)

    def _fit_on(self, device: torch.device, X: np.ndarray, y: np.ndarray) -> BaseGMNM:
        rng = check_random_state(self.random_state)
        n_samples, n_features = X.shape
        targets, ridge_targets = self._encode_targets(y)

        X64 = X.astype(np.float64, copy=False)
        self._x_mean = X64.mean(axis=0)
        scale = X64.std(axis=0)
        self._x_scale = np.where(scale > 0, scale, 1.0)
        Xs = self._standardize(X64)

        seed = int(rng.randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = GMNM(
                n_features,
                ridge_targets.shape[1],
                n_components=self.n_components,
                covariance_type=self.covariance_type,
                rank=self.rank,
                learn_centers=self.learn_centers,
            )
        module.init_from_data(
            Xs, ridge_targets, init=self.init, random_state=rng
        )

        batch_size = (
            auto_batch_size(n_samples)
            if self.batch_size == "auto"
            else min(self.batch_size, n_samples)
        )
        net = GMNMNet(
            module=module,
            criterion=self._criterion(),
            optimizer=torch.optim.Adam,
            optimizer__param_groups=[
                ("weight", {"weight_decay": self.alpha / batch_size})
            ],
            lr=self.learning_rate_init,
            max_epochs=self.max_iter,
            batch_size=batch_size,
            iterator_train=TensorBatches,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            train_split=None,
            callbacks=[
                (
                    "train_loss_stopping",
                    EarlyStopping(
                        monitor="train_loss",
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="abs",
                        sink=lambda *args: None,
                    ),
                )
            ],
            device=device,
            verbose=int(self.verbose),
        )
        data = TensorData(
            torch.as_tensor(Xs, dtype=torch.float32).to(device),
            torch.as_tensor(targets, dtype=self._target_dtype).to(device),
        )
        net.fit(data, None)
        del data

        self.device_ = device
        # The fitted module lives on the CPU, so that a fitted estimator
        # holds no GPU memory and unpickles on machines without a GPU.
        self.module_ = net.module_.to("cpu").eval()
        self.loss_curve_ = [float(v) for v in net.history[:, "train_loss"]]
        self.n_iter_ = len(self.loss_curve_)
        self._export_parameters()
        return self

    def _export_parameters(self) -> None:
        """Copy the trained parameters into numpy attributes, in input units."""
        module = self.module_
        with torch.no_grad():
            centers = module.centers.double().numpy()
            self.centers_ = centers * self._x_scale + self._x_mean
            self.projections_ = module.projections.double().numpy().copy()
            self.mixing_weights_ = module.weight.double().numpy().copy()
            self.intercept_ = module.bias.double().numpy().copy()

    # -- prediction -------------------------------------------------------
    def _forward(self, X: Any) -> np.ndarray:
        """Raw module outputs, float64, computed in bounded-memory chunks.

        Runs on ``device_`` when this machine has that device, else on the
        CPU; ``module_`` itself stays on the CPU.
        """
        check_is_fitted(self, "module_")
        X = self._validate_X(X, reset=False)
        device = predict_device(self.device_)
        with limit_threads(self.n_jobs):
            if device.type != "cuda":
                return self._forward_on(self.module_, device, X)
            try:
                module = copy.deepcopy(self.module_).to(device)
                return self._forward_on(module, device, X)
            finally:
                release_cuda_memory(device)

    def _forward_on(
        self, module: GMNM, device: torch.device, X: np.ndarray
    ) -> np.ndarray:
        rank = module.rank if module.covariance_type == "full" else 1
        chunk = max(1, _PREDICT_BUDGET // (module.n_components * rank))
        out = np.empty((X.shape[0], module.out_features), dtype=np.float64)
        dtype = module.weight.dtype
        with torch.no_grad():
            for start in range(0, X.shape[0], chunk):
                stop = start + chunk
                xb = torch.as_tensor(self._standardize(X[start:stop]), dtype=dtype)
                out[start:stop] = module(xb.to(device)).double().cpu().numpy()
        return out
