"""GMNMClassifier: the scikit-learn classifier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import _check_partial_fit_first_call
from torch import Tensor

from ._base import BaseGMNM, weight_tensor
from ._docstrings import fill_doc
from ._loss import MultilabelLogLoss
from ._validation import validate_X_y_classification


@fill_doc
class GMNMClassifier(ClassifierMixin, BaseGMNM):
    """Classifier built on a Gaussian Mixture-Inspired Nonlinear Module.

    One logit per class, ``sum_i pi_i exp(-0.5 ||A_i (x - mu_i)||^2) + b``,
    and a softmax on top: centers from k-means, widths from the clusters'
    spread, mixing weights from a ridge fit on the one-hot labels, then
    trained end to end on the cross-entropy, with mini-batch Adam or
    full-batch L-BFGS (``solver``). With ``hidden_layer_sizes`` the GMNM is
    the head of an MLP trunk and acts on its output. Inputs are standardised
    internally.

    Multilabel targets (a 2-D indicator matrix of 0 and 1, one column per
    label) get one logit and a sigmoid per label and the sum of the labels'
    binary log losses, as in
    :class:`~sklearn.neural_network.MLPClassifier`: ``predict`` returns the
    indicator matrix, ``predict_proba`` each label's probability, and
    ``classes_`` is ``np.arange(n_labels)``.

    Training stops early on the stopping rule (see ``tol``). Interrupting
    ``fit`` (Ctrl-C, ``KeyboardInterrupt``) ends training after a warning and
    leaves a usable model with the weights reached so far (the best ones with
    ``early_stopping``).

    Which solver: ``'lbfgs'`` for small and smooth problems (up to a few
    thousand rows, a target that is a smooth function of the inputs), where
    it converges far beyond Adam; ``'adam'`` for larger data, noisy targets,
    ``partial_fit`` and early stopping. This is the advice scikit-learn gives
    for :class:`~sklearn.neural_network.MLPRegressor`.

    Parameters
    ----------
{shared_parameters}

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        ``{{label: weight}}`` (missing labels weigh 1), ``'balanced'``
        (``n_samples / (n_classes * np.bincount(y))``, weighted counts), or
        None for equal weights. ``'balanced'`` is not supported by
        ``partial_fit``, and neither is supported for multilabel targets.

    Attributes
    ----------
{shared_attributes}

    classes_ : ndarray of shape (n_classes,)
        Class labels; ``np.arange(n_labels)`` for multilabel targets.

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
        n_components: int | str = "auto",
        *,
        covariance_type: str = "full",
        rank: int | None = None,
        learn_centers: bool = True,
        linear_term: bool = True,
        input_scaling: str = "standard",
        hidden_layer_sizes: Any = (),
        activation: str = "relu",
        init: str = "kmeans",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 3e-3,
        power_t: float = 0.5,
        average: bool = True,
        max_iter: int | str = "auto",
        tol: float = 1e-4,
        n_iter_no_change: int | str = "auto",
        max_fun: int = 15000,
        early_stopping: bool | str = "auto",
        validation_fraction: float = 0.1,
        warm_start: bool = False,
        callbacks: list | None = None,
        random_state: Any = None,
        verbose: int = 0,
        device: str = "auto",
        n_jobs: int | None = None,
        class_weight: dict | str | None = None,
    ) -> None:
        super().__init__(
            n_components,
            covariance_type=covariance_type,
            rank=rank,
            learn_centers=learn_centers,
            linear_term=linear_term,
            input_scaling=input_scaling,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            init=init,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            average=average,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            warm_start=warm_start,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
            device=device,
            n_jobs=n_jobs,
        )
        self.class_weight = class_weight

    _parameter_constraints: dict = {
        **BaseGMNM._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    @property
    def _stratify_split(self) -> bool:
        # Not in a multilabel setting, as MLP.
        return not self._is_multilabel()

    def _is_multilabel(self) -> bool:
        """Whether the model was fitted on a multilabel indicator matrix."""
        return getattr(self, "_multilabel", False)

    def _criterion(self) -> torch.nn.Module:
        if self._is_multilabel():
            return MultilabelLogLoss()
        return torch.nn.CrossEntropyLoss(reduction="none")

    def _fit_target_encoding(
        self, y: np.ndarray, sample_weight: np.ndarray | None
    ) -> None:
        # classes_ is set by fit / partial_fit, from all of y or from `classes`.
        pass

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_classes = self.classes_.shape[0]
        if self._is_multilabel() != (y.ndim == 2):
            fitted = "a multilabel indicator matrix" if self._is_multilabel() \
                else "1-D class labels"
            raise ValueError(
                f"y has shape {y.shape}, but {type(self).__name__} was fitted "
                f"on {fitted}."
            )
        if y.ndim == 2:
            if y.shape[1] != n_classes:
                raise ValueError(
                    f"y has {y.shape[1]} label columns, but "
                    f"{type(self).__name__} was fitted with {n_classes}."
                )
            indicator = y.astype(np.float64)
            # Ridge targets: logits of 0.9 for a present label, of 0.1 for
            # an absent one.
            return indicator, (2.0 * indicator - 1.0) * np.log(9.0)
        encoded = np.searchsorted(self.classes_, y)
        encoded = np.minimum(encoded, self.classes_.shape[0] - 1)
        unknown = self.classes_[encoded] != y
        if unknown.any():
            raise ValueError(
                f"y contains labels not in classes_ {self.classes_.tolist()!r}: "
                f"{np.unique(y[unknown]).tolist()!r}."
            )
        # Ridge targets: one-hot logits scaled so that a perfect fit gives the
        # true class a probability of about 0.9.
        one_hot = np.eye(n_classes)[encoded]
        logit_scale = np.log(9.0 * (n_classes - 1))
        return encoded, one_hot * logit_scale

    def _validation_scorer(
        self, targets: np.ndarray, sample_weight: np.ndarray | None
    ) -> Callable[[Tensor], float]:
        """Mean log-likelihood of the held-out labels (minus the log-loss).

        Rather than MLP's accuracy: on a small validation set accuracy moves
        in coarse steps and ties, and the early-stopping rule then keeps an
        early epoch; the log-likelihood moves with every step. On the
        development suite it scored higher on each of the five classification
        sets under 2,000 rows (``benchmarks/RESULTS.md``).
        """
        w = weight_tensor(targets.shape[0], sample_weight)
        w = w / w.sum()
        if self._is_multilabel():
            sign = torch.as_tensor(2.0 * targets - 1.0, dtype=torch.float64)

            def score(outputs: Tensor) -> float:
                # log(p) where a label is on, log(1 - p) where it is off.
                per_label = torch.nn.functional.logsigmoid(sign * outputs)
                return float(w @ per_label.mean(1))

        else:
            labels = torch.as_tensor(targets, dtype=torch.long).unsqueeze(1)

            def score(outputs: Tensor) -> float:
                per_row = torch.log_softmax(outputs, 1).gather(1, labels).squeeze(1)
                return float(w @ per_row)

        return score

    def _can_split(self, y: np.ndarray, n_validation: int) -> bool:
        """Whether the stratified split is possible: every class has two rows
        and each side can hold one row of every class."""
        if self._is_multilabel():
            return True
        _, counts = np.unique(y, return_counts=True)
        n_classes = counts.shape[0]
        return (
            counts.min() >= 2
            and n_validation >= n_classes
            and y.shape[0] - n_validation >= n_classes
        )

    @staticmethod
    def _indicator(logits: np.ndarray) -> np.ndarray:
        """Multilabel predictions of logits: sigmoid above 0.5, as MLP."""
        return (expit(logits) > 0.5).astype(np.int64)

    def _row_weights(
        self, y: np.ndarray, sample_weight: np.ndarray | None, *, incremental: bool
    ) -> np.ndarray | None:
        """Combine ``sample_weight`` and ``class_weight`` into row weights."""
        if self.class_weight is None:
            return sample_weight
        if self._is_multilabel():
            raise ValueError(
                "class_weight is not supported for multilabel targets; pass "
                "per-row weights as sample_weight instead."
            )
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which "
                "sees one chunk at a time; pass the class weights as a dict, "
                "for example from sklearn.utils.class_weight.compute_class_weight."
            )
        per_class = compute_class_weight(
            self.class_weight,
            classes=self.classes_,
            y=y,
            sample_weight=sample_weight,
        )
        weights = per_class[self._encode_targets(y)[0]]
        return weights if sample_weight is None else weights * sample_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GMNMClassifier:
        """Fit the model to data ``X`` and labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, of any type, or a multilabel indicator matrix of
            0 and 1.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, used in the initialisation and in the
            loss (multiplied by ``class_weight``); rows of weight 0 have no
            influence. None means all ones.

        Returns
        -------
        self : GMNMClassifier
            The fitted estimator.
        """
        continues = self._continues(False)
        X, y = validate_X_y_classification(self, X, y, reset=not continues)
        sample_weight = self._check_sample_weight(sample_weight, X)
        multilabel = y.ndim == 2
        classes = np.arange(y.shape[1]) if multilabel else np.unique(y)
        if continues:
            if multilabel != self._is_multilabel() or not np.array_equal(
                classes, self.classes_
            ):
                raise ValueError(
                    "warm_start can only be used where y has the same classes as "
                    f"in the previous call to fit: {self.classes_.tolist()!r}, "
                    f"got {classes.tolist()!r}"
                    + (" (multilabel)." if multilabel else ".")
                )
        else:
            self.classes_ = classes
            self._multilabel = multilabel
        present = classes if sample_weight is None else np.unique(y[sample_weight > 0])
        if not multilabel and present.shape[0] < 2:
            raise ValueError(
                "GMNMClassifier needs samples of at least 2 classes in the data "
                "(counting only rows of positive sample weight), but the data "
                f"contain only one class: {present[0]!r}."
            )
        sample_weight = self._row_weights(y, sample_weight, incremental=False)
        return self._fit(X, y, sample_weight)

    @available_if(BaseGMNM._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> GMNMClassifier:
        """Train for one epoch on ``X`` and ``y``, continuing from earlier calls.

        The first call (on an unfitted estimator) needs ``classes`` and
        initialises the model from this chunk; later calls continue with the
        same optimiser state. ``max_iter`` and early stopping do not apply.
        Only with ``solver='adam'``: with ``'lbfgs'``, which trains on all
        rows at once, the estimator has no ``partial_fit`` (as MLP).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its class labels, all in ``classes``, or a multilabel indicator
            matrix of 0 and 1.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole training data (``np.arange(n_labels)``
            for multilabel targets). Required on the first call; later calls
            may omit it, or must pass the same classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights. None means all ones.

        Returns
        -------
        self : GMNMClassifier
            The estimator.
        """
        first = not hasattr(self, "module_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        X, y = validate_X_y_classification(self, X, y, reset=first)
        if first:
            self.classes_ = None
        _check_partial_fit_first_call(self, classes)
        if first:
            self._multilabel = y.ndim == 2
        if self._is_multilabel():
            if not np.array_equal(self.classes_, np.arange(self.classes_.shape[0])):
                raise ValueError(
                    "For a multilabel indicator y, classes must be "
                    "np.arange(n_labels), the indices of its columns; got "
                    f"{self.classes_.tolist()!r}."
                )
        elif self.classes_.shape[0] < 2:
            raise ValueError(
                "GMNMClassifier needs at least 2 classes, but classes holds "
                f"only {self.classes_.tolist()!r}."
            )
        sample_weight = self._check_sample_weight(sample_weight, X)
        sample_weight = self._row_weights(y, sample_weight, incremental=True)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1. For
            multilabel targets, each label's probability (rows need not sum
            to 1). Float32 where the training inputs and ``X`` are float32
            (as MLP's), float64 otherwise.
        """
        logits = self._forward(X)
        if self._is_multilabel():
            return expit(logits)
        return softmax(logits, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of the class probabilities for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        logits = self._forward(X)
        if self._is_multilabel():
            return log_expit(logits)
        return log_softmax(logits, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels, from ``classes_``; for multilabel targets, the
            indicator matrix (int64) of the labels whose probability is
            above 0.5.
        """
        logits = self._forward(X)
        if self._is_multilabel():
            return self._indicator(logits)
        return self.classes_[logits.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _export_head(self) -> dict:
        """Output map of :meth:`to_torch` and of the ONNX converter."""
        if self._is_multilabel():
            return {"sigmoid": True}
        return {"softmax": True}
