"""Multilabel targets of GMNMClassifier: an indicator matrix, a sigmoid per label."""

import warnings

import numpy as np
import pytest
import torch
from scipy.special import expit
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier

from sklearn_gmnm import GMNMClassifier
from sklearn_gmnm._loss import MultilabelLogLoss

X, Y = make_multilabel_classification(
    n_samples=200, n_features=5, n_classes=3, random_state=0
)


def _fit(**params):
    settings = {"n_components": 8, "max_iter": 30, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GMNMClassifier(**settings).fit(X, Y)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel_outputs_as_mlp(solver):
    clf = _fit(solver=solver)
    np.testing.assert_array_equal(clf.classes_, np.arange(3))
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 3)
    assert ((proba > 0) & (proba < 1)).all()
    # Not a softmax: rows need not sum to one.
    assert not np.allclose(proba.sum(1), 1.0)
    pred = clf.predict(X)
    assert pred.shape == (200, 3)
    assert pred.dtype == np.int64
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(np.int64))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-6)
    # Better than the best constant indicator row.
    assert clf.score(X, Y) == accuracy_score(Y, pred)
    assert clf.score(X, Y) > 0.5


def test_multilabel_matches_mlp_conventions():
    mlp = MLPClassifier(max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, Y)
    clf = _fit()
    np.testing.assert_array_equal(clf.classes_, mlp.classes_)
    assert clf.predict(X).dtype == mlp.predict(X).dtype
    assert clf.predict_proba(X).shape == mlp.predict_proba(X).shape


def test_multilabel_loss_is_summed_binary_log_loss():
    logits = torch.tensor([[0.3, -2.0, 1.5], [0.0, 4.0, -1.0]], dtype=torch.float64)
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    p = expit(logits.numpy())
    t = target.numpy()
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum(1)
    np.testing.assert_allclose(MultilabelLogLoss()(logits, target).numpy(), expected)


def test_multilabel_ridge_start_is_already_useful():
    # One epoch at a tiny learning rate: the k-means + ridge start does the work.
    clf = _fit(max_iter=1, learning_rate_init=1e-8)
    baseline = accuracy_score(Y, np.zeros_like(Y))
    assert clf.score(X, Y) > baseline


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel_zero_weights_remove_rows(solver):
    weight = np.ones(X.shape[0])
    weight[::3] = 0.0
    keep = weight > 0
    params = {"n_components": 8, "max_iter": 5, "random_state": 0, "solver": solver,
              "early_stopping": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = GMNMClassifier(**params).fit(X, Y, sample_weight=weight)
        removed = GMNMClassifier(**params).fit(X[keep], Y[keep])
    np.testing.assert_allclose(
        weighted.predict_proba(X), removed.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_multilabel_early_stopping_scores_the_label_log_likelihood():
    clf = _fit(early_stopping=True, max_iter=5, validation_fraction=0.25)
    scores = np.asarray(clf.validation_scores_)
    assert scores.shape == (clf.n_iter_,)
    # Mean log-likelihood of the labels: negative, and not a multiple of
    # 1/50 as the subset accuracy of 50 rows would be.
    assert np.all(scores < 0)
    assert not np.allclose(scores * 50, np.round(scores * 50))
    # The start competes: the best score is at least the best epoch's.
    assert clf.best_validation_score_ >= scores.max()


def test_multilabel_partial_fit():
    clf = GMNMClassifier(n_components=8, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, Y)
    with pytest.raises(ValueError, match=r"np.arange\(n_labels\)"):
        GMNMClassifier(n_components=8).partial_fit(X, Y, classes=[1, 2, 3])
    for start in range(0, 200, 50):
        clf.partial_fit(X[start : start + 50], Y[start : start + 50], classes=[0, 1, 2])
    assert clf.predict(X).shape == (200, 3)
    with pytest.raises(ValueError, match="fitted on a multilabel indicator"):
        clf.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="2 label columns"):
        clf.partial_fit(X, Y[:, :2])


def test_multilabel_target_errors():
    with pytest.raises(ValueError, match="multilabel indicator matrix of 0 and 1"):
        GMNMClassifier().fit(X, Y * 2 + np.arange(3))
    with pytest.raises(ValueError, match="not supported for multilabel"):
        GMNMClassifier(class_weight="balanced").fit(X, Y)
    clf = _fit(max_iter=2, warm_start=True)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X, Y[:, :2])


def test_multilabel_boolean_and_sparse_targets_agree():
    import scipy.sparse as sp

    reference = _fit(max_iter=3).predict_proba(X)
    for target in (Y.astype(bool), sp.csr_matrix(Y)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = GMNMClassifier(n_components=8, max_iter=3, random_state=0)
            clf.fit(X, target)
        np.testing.assert_array_equal(clf.predict_proba(X), reference)


def test_multilabel_to_torch_gives_label_probabilities():
    clf = _fit()
    module = clf.to_torch()
    X32 = torch.as_tensor(X, dtype=torch.float32)
    out = module(X32).numpy()
    np.testing.assert_allclose(
        out, clf.predict_proba(X32.numpy().astype(np.float64)), atol=1e-5
    )
    assert "sigmoid" in repr(module)
