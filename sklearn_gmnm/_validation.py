"""Input and target validation shared by the GMNM estimators.

Everything here runs before any torch work, so that bad input gets a
``ValueError``/``TypeError`` naming the problem rather than a failure deep in
the training engine. The checks themselves are scikit-learn's
(:func:`~sklearn.utils.validation.validate_data`,
:func:`~sklearn.utils.multiclass.check_classification_targets`,
:func:`~sklearn.utils.multiclass.type_of_target`); this module only adds the
messages specific to these estimators.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d, validate_data

from ._device import DEVICE_PATTERN

#: Floating dtypes the estimators accept without a copy; anything else
#: numeric is converted to float64.
FLOAT_DTYPES = (np.float64, np.float32)

_CONVERSION_ERRORS = ("could not convert", "argument must be", "not compatible with")

#: Sparse inputs are converted to CSR (row slices are what training batches
#: and predict chunks take); CSR and CSC come in without a densified copy.
ACCEPT_SPARSE = "csr"


class IntInterval(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` of ints, bools excluded.

    ``Interval(Integral, ...)`` accepts ``True`` (a bool is an int in
    Python); a number of components or of epochs must not be a bool.
    """

    def __init__(self, left: int | None, right: int | None, *, closed: str) -> None:
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val: Any) -> bool:
        if isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)


class DeviceName(StrOptions):
    """Parameter constraint: ``'auto'``, ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.

    A :class:`~sklearn.utils._param_validation.StrOptions` that also accepts
    ``'cuda:N'`` for any index ``N``. Whether that CUDA device is present is
    checked in ``fit`` by :func:`~sklearn_gmnm._device.resolve_device`.
    """

    def __init__(self) -> None:
        super().__init__({"auto", "cpu", "cuda"})

    def is_satisfied_by(self, val: Any) -> bool:
        return isinstance(val, str) and DEVICE_PATTERN.fullmatch(val) is not None

    def __str__(self) -> str:
        return "a str among 'auto', 'cpu', 'cuda' or 'cuda:N' (N an int)"


class HiddenLayerSizes(Options):
    """Parameter constraint: a sequence of positive ints, or one positive int.

    Accepts what :class:`~sklearn.neural_network.MLPRegressor` accepts for
    ``hidden_layer_sizes`` (a tuple, a list or a 1-D integer array, or one
    int for a single layer); the empty tuple means no hidden layer. Bools,
    floats, zero and negative sizes are refused. (An ``Options`` subclass,
    the way scikit-learn's parameter validation accepts custom constraints.)
    """

    def __init__(self) -> None:
        super().__init__(object, set())

    @staticmethod
    def _positive_int(val: Any) -> bool:
        return (
            isinstance(val, Integral)
            and not isinstance(val, (bool, np.bool_))
            and val >= 1
        )

    def is_satisfied_by(self, val: Any) -> bool:
        if self._positive_int(val):
            return True
        if isinstance(val, np.ndarray):
            return val.ndim == 1 and all(self._positive_int(v) for v in val.tolist())
        return isinstance(val, (tuple, list)) and all(
            self._positive_int(v) for v in val
        )

    def __str__(self) -> str:
        return "a tuple of positive ints (empty for no hidden layer) or a positive int"


def _reraise_non_numeric(err: Exception, what: str, hint: str) -> None:
    """Re-raise a failed float conversion with a message naming ``what``."""
    message = str(err)
    if any(text in message for text in _CONVERSION_ERRORS):
        raise type(err)(f"{what} must be numeric; {hint} ({message})") from err


_X_HINT = "encode text or categorical columns first, e.g. with OneHotEncoder"


def validate_X(estimator: BaseEstimator, X: Any, *, reset: bool) -> np.ndarray:
    """Check ``X`` for ``fit`` (``reset=True``) or prediction (``reset=False``).

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator; records or checks ``n_features_in_`` and
        ``feature_names_in_``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input data. Sparse matrices and arrays of any scipy format are
        converted to CSR, never densified here.
    reset : bool
        Whether to record the feature count and names (``fit``) or to check
        them against the recorded ones.

    Returns
    -------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Finite, 2-D, float32 or float64 data with at least one row and column.
    """
    try:
        return validate_data(
            estimator, X, dtype=FLOAT_DTYPES, accept_sparse=ACCEPT_SPARSE, reset=reset
        )
    except (TypeError, ValueError) as err:
        _reraise_non_numeric(err, "X", _X_HINT)
        raise


def check_regression_targets(y: Any) -> Any:
    """Refuse non-numeric regression targets with a message saying so.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets given to a regressor.

    Returns
    -------
    y : array-like
        ``y`` unchanged, or converted to float64 when it held numbers in an
        object array (so that missing values stored as ``None`` show up as
        NaN in the finiteness check that follows).
    """
    if y is None or sp.issparse(y):
        return y
    dtype = getattr(y, "dtype", None)
    if dtype is not None and not isinstance(dtype, np.dtype):
        return y  # pandas extension dtypes: validate_data knows them
    array = np.asarray(y)
    if array.dtype.kind in "USVO":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError) as err:
            try:
                kind = f" ({type_of_target(array, input_name='y')} labels)"
            except ValueError:
                kind = ""
            raise ValueError(
                f"GMNMRegressor needs numeric targets, but y holds values of "
                f"dtype {array.dtype}{kind} that are not numbers; use "
                "GMNMClassifier for class labels."
            ) from err
    return y


def validate_X_y_regression(
    estimator: BaseEstimator, X: Any, y: Any, *, reset: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X`` and numeric, finite, 1-D or 2-D ``y`` for a regressor."""
    y = check_regression_targets(y)
    try:
        return validate_data(
            estimator,
            X,
            y,
            dtype=FLOAT_DTYPES,
            accept_sparse=ACCEPT_SPARSE,
            multi_output=True,
            y_numeric=True,
            reset=reset,
        )
    except (TypeError, ValueError) as err:
        _reraise_non_numeric(err, "X", _X_HINT)
        raise


def validate_X_y_classification(
    estimator: BaseEstimator, X: Any, y: Any, *, reset: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X`` and finite class labels (not continuous values).

    ``y`` is 1-D labels of any type, or a 2-D indicator matrix of 0/1
    (multilabel; returned dense, as int). A column vector is raveled with a
    ``DataConversionWarning``, as scikit-learn's classifiers do. The number of
    classes is checked by the classifier, which knows about sample weights
    and ``partial_fit``'s ``classes``.
    """
    try:
        X, y = validate_data(
            estimator,
            X,
            y,
            dtype=FLOAT_DTYPES,
            accept_sparse=ACCEPT_SPARSE,
            multi_output=True,
            reset=reset,
        )
    except (TypeError, ValueError) as err:
        _reraise_non_numeric(err, "X", _X_HINT)
        raise
    if sp.issparse(y):
        y = y.toarray()
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    if y.ndim == 2:
        kind = type_of_target(y, input_name="y")
        values = np.unique(y)
        if kind != "multilabel-indicator" or not np.isin(values, (0, 1)).all():
            raise ValueError(
                "A 2-D y must be a multilabel indicator matrix of 0 and 1 (one "
                f"column per label); got {kind} targets with the values "
                f"{values[:10].tolist()!r}. Several multiclass outputs are not "
                "supported: wrap the classifier in "
                "sklearn.multioutput.MultiOutputClassifier."
            )
        y = y.astype(np.int64)
    return X, y
