"""GMNMClassifier: the scikit-learn classifier."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._base import BaseGMNM
from ._docstrings import fill_doc


@fill_doc
class GMNMClassifier(ClassifierMixin, BaseGMNM):
    """Classifier built on a Gaussian Mixture-Inspired Nonlinear Module.

    One logit per class, ``sum_i pi_i exp(-0.5 ||A_i (x - mu_i)||^2) + b``,
    and a softmax on top: centers from k-means, widths from the clusters'
    spread, mixing weights from a ridge fit on the one-hot labels, then
    trained end to end with Adam on the cross-entropy. Inputs are
    standardised internally.

    Parameters
    ----------
{shared_parameters}

    Attributes
    ----------
{shared_attributes}

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    GMNMRegressor : The regressor counterpart.
    sklearn.neural_network.MLPClassifier : Multi-layer perceptron classifier.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_gmnm import GMNMClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GMNMClassifier(n_components=8, max_iter=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

    def __init__(
        self,
        n_components: int = 64,
        *,
        covariance_type: str = "full",
        rank: int | None = None,
        learn_centers: bool = True,
        init: str = "kmeans",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        random_state: Any = None,
        verbose: int = 0,
        device: str = "auto",
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(
            n_components,
            covariance_type=covariance_type,
            rank=rank,
            learn_centers=learn_centers,
            init=init,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            verbose=verbose,
            device=device,
            n_jobs=n_jobs,
        )

    _target_dtype = torch.int64

    def _criterion(self) -> torch.nn.Module:
        return torch.nn.CrossEntropyLoss(reduction="none")

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise ValueError(
                "GMNMClassifier needs samples of at least 2 classes in the data, "
                f"but the data contain only one class: {self.classes_[0]!r}."
            )
        # Ridge targets: one-hot logits scaled so that a perfect fit gives the
        # true class a probability of about 0.9.
        one_hot = np.eye(n_classes)[encoded]
        logit_scale = np.log(9.0 * (n_classes - 1))
        return encoded, one_hot * logit_scale

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> "GMNMClassifier":
        """Fit the model to data ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, of any type.

        Returns
        -------
        self : GMNMClassifier
            The fitted estimator.
        """
        X, y = validate_data(
            self, X, y, dtype=(np.float64, np.float32), reset=True
        )
        return self._fit(X, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, float64, in the order of ``classes_``; rows sum to 1.
        """
        return softmax(self._forward(X), axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of the class probabilities for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, float64, in the order of ``classes_``.
        """
        return log_softmax(self._forward(X), axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels, from ``classes_``.
        """
        indices = self._forward(X).argmax(axis=1)
        return self.classes_[indices]
