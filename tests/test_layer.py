"""Tests of the torch layer sklearn_gmnm.nn.GMNM."""

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans

from sklearn_gmnm import init_from_data
from sklearn_gmnm.nn import GMNM

COVARIANCE_TYPES = ["full", "diag", "spherical", "tied"]


def _naive_activations(layer, x):
    """Reference: the (n, m, d) form the layer must never build."""
    z = x[:, None, :] - layer.centers[None, :, :]
    P = layer.projections
    if layer.covariance_type == "full":
        y2 = torch.einsum("mrd,nmd->nmr", P, z).square().sum(-1)
    elif layer.covariance_type == "diag":
        y2 = (z * P[None]).square().sum(-1)
    elif layer.covariance_type == "spherical":
        y2 = z.square().sum(-1) * P.square()
    else:
        y2 = (z @ P.t()).square().sum(-1)
    return torch.exp(-0.5 * y2)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_activations_match_naive_formula(covariance_type):
    torch.manual_seed(0)
    layer = GMNM(5, 2, n_components=7, covariance_type=covariance_type, rank=3)
    layer = layer.double()
    x = torch.randn(11, 5, dtype=torch.float64)
    expected = _naive_activations(layer, x)
    torch.testing.assert_close(layer.activations(x), expected)
    out = expected @ layer.weight.t() + layer.bias
    torch.testing.assert_close(layer(x), out)


def test_linear_term_adds_a_linear_map_of_the_inputs():
    torch.manual_seed(0)
    layer = GMNM(4, 2, n_components=5, linear_term=True).double()
    assert layer.linear_weight.shape == (2, 4)
    assert not layer.linear_weight.any(), "the data-free start is zero"
    with torch.no_grad():
        layer.linear_weight.normal_()
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    expected = (
        layer.activations(x) @ layer.weight.t()
        + layer.bias
        + x @ layer.linear_weight.t()
    )
    torch.testing.assert_close(layer(x), expected)
    assert GMNM(4, 2).linear_weight is None
    assert "linear_term=True" in repr(layer)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_input_clip_clips_the_gaussians_inputs_only(covariance_type):
    torch.manual_seed(0)
    layer = GMNM(4, 2, n_components=5, covariance_type=covariance_type,
                 linear_term=True, input_clip=2.0).double()
    with torch.no_grad():
        layer.linear_weight.normal_()
    x = 10 * torch.randn(3, 6, 4, dtype=torch.float64)
    clipped = x / torch.sqrt(1 + (x / 2.0) ** 2)
    assert clipped.abs().max() < 2
    plain = GMNM(4, 2, n_components=5, covariance_type=covariance_type,
                 linear_term=True).double()
    plain.load_state_dict(layer.state_dict())
    torch.testing.assert_close(layer.activations(x), plain.activations(clipped))
    expected = (
        plain.activations(clipped) @ layer.weight.t()
        + layer.bias
        + x @ layer.linear_weight.t()
    )
    torch.testing.assert_close(layer(x), expected)
    assert "input_clip=2.0" in repr(layer) and "input_clip" not in repr(plain)


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), float("nan"), True, "3"])
def test_invalid_input_clip_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="input_clip must be a positive finite"):
        GMNM(3, 1, input_clip=bad)


def test_init_from_data_places_centers_in_the_clipped_space():
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(size=(200, 2)), [[300.0, -400.0]]]
    layer = GMNM(2, 1, n_components=4, linear_term=True, input_clip=3.0)
    init_from_data(layer, X, X[:, :1] * 2.0, random_state=0)
    # the outlier is squeezed to the bound: no center lies beyond it
    assert layer.centers.abs().max() < 3


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(
    "learn_centers, linear_term", [(True, False), (False, False), (True, True)]
)
def test_gradcheck(covariance_type, learn_centers, linear_term):
    torch.manual_seed(0)
    layer = GMNM(
        3,
        2,
        n_components=4,
        covariance_type=covariance_type,
        rank=2,
        learn_centers=learn_centers,
        linear_term=linear_term,
    ).double()
    if linear_term:
        with torch.no_grad():
            layer.linear_weight.normal_()
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    params = [p for p in layer.parameters() if p.requires_grad]
    assert any(p is layer.centers for p in params) == learn_centers

    def func(x, *values):
        names = [n for n, p in layer.named_parameters() if p.requires_grad]
        state = dict(zip(names, values, strict=True))
        return torch.func.functional_call(layer, state, (x,))

    assert torch.autograd.gradcheck(func, (x, *params))


@pytest.mark.parametrize("shape", [(7, 4), (3, 5, 4), (2, 3, 5, 4)])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_applies_over_last_dimension(shape, covariance_type):
    torch.manual_seed(0)
    layer = GMNM(4, 3, n_components=6, covariance_type=covariance_type)
    x = torch.randn(*shape)
    out = layer(x)
    assert out.shape == (*shape[:-1], 3)
    flat = layer(x.reshape(-1, 4)).reshape(out.shape)
    torch.testing.assert_close(out, flat)


def test_wrong_last_dimension_is_a_clear_error():
    layer = GMNM(4, 3)
    with pytest.raises(ValueError, match="last dimension 4"):
        layer(torch.randn(2, 5))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"covariance_type": "banana"}, "covariance_type"),
        ({"n_components": 0}, "n_components"),
        ({"rank": 0}, "rank"),
        ({"rank": 5}, "rank=5 exceeds in_features=4"),
        ({"rank": 5, "covariance_type": "tied"}, "rank=5 exceeds in_features=4"),
    ],
)
def test_invalid_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GMNM(4, 3, **kwargs)


def test_default_rank_and_parameter_shapes():
    assert GMNM(20, 1).rank == 8
    assert GMNM(3, 1).rank == 3
    assert GMNM(5, 2, n_components=7, rank=2).projections.shape == (7, 2, 5)
    assert GMNM(5, 2, 7, covariance_type="diag").projections.shape == (7, 5)
    assert GMNM(5, 2, 7, covariance_type="spherical").projections.shape == (7,)
    assert GMNM(5, 2, 7, covariance_type="tied", rank=2).projections.shape == (2, 5)


def test_fixed_centers_do_not_move_in_training():
    torch.manual_seed(0)
    layer = GMNM(3, 1, n_components=5, learn_centers=False)
    before = layer.centers.detach().clone()
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(layer(x), y).backward()
        optimizer.step()
    torch.testing.assert_close(layer.centers, before)
    assert layer.centers.grad is None


def _saved_bytes(layer, x):
    """Bytes autograd keeps between forward and backward."""
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = layer(x)
    out.sum().backward()
    return total


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_memory_is_linear_in_batch_times_components(covariance_type):
    # 4096 x 512 input, 256 components: the naive (n, m, d) intermediate
    # would be 2 GiB; the GEMM forms keep O(n m r).
    torch.manual_seed(0)
    layer = GMNM(512, 1, n_components=256, covariance_type=covariance_type)
    x = torch.randn(4096, 512)
    saved = _saved_bytes(layer, x)
    assert saved < 200 * 2**20, f"{saved / 2**20:.0f} MiB saved for backward"


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_init_from_data_places_centers_at_kmeans_centers(covariance_type):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(loc, 0.3, size=(50, 2)) for loc in (-4, 0, 4)])
    layer = GMNM(2, 1, n_components=3, covariance_type=covariance_type)
    init_from_data(layer, X, random_state=0)
    # The layer seeds k-means with the first draw of its random state.
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    reference = KMeans(3, n_init=1, max_iter=100, random_state=seed).fit(X)
    got = np.sort(layer.centers.detach().numpy(), axis=0)
    expected = np.sort(reference.cluster_centers_, axis=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # Each cluster's own points sit at squared distance of order one.
    g = layer.activations(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    own = g.max(axis=1)
    assert np.median(own) > 0.2


def test_init_from_data_ridge_fit_is_good_before_training():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    y = np.sin(X)
    layer = GMNM(1, 1, n_components=12)
    init_from_data(layer, X, y, random_state=0)
    with torch.no_grad():
        pred = layer(torch.as_tensor(X, dtype=torch.float32)).numpy()
    assert np.sqrt(np.mean((pred - y) ** 2)) < 0.05


def test_init_from_data_fits_the_linear_term_jointly():
    # A linear trend plus a bump: with the linear term the ridge start
    # captures both, and the trend extrapolates beyond the data, which a sum
    # of Gaussians cannot do.
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(500, 2))
    y = (3 * X[:, 0] - X[:, 1] + np.exp(-2 * (X**2).sum(1)))[:, None]
    errors = {}
    for linear_term in (False, True):
        layer = GMNM(2, 1, n_components=8, linear_term=linear_term)
        init_from_data(layer, X, y, random_state=0)
        far = np.array([[6.0, -6.0]])
        with torch.no_grad():
            pred = layer(torch.as_tensor(far, dtype=torch.float32)).numpy()
        errors[linear_term] = abs(pred[0, 0] - 24.0)
    np.testing.assert_allclose(
        layer.linear_weight.detach().numpy(), [[3.0, -1.0]], atol=0.2
    )
    assert errors[True] < 1.0 < 10 < errors[False]


def test_init_from_data_with_fewer_distinct_rows_than_components():
    X = np.repeat(np.array([[0.0, 1.0], [2.0, 3.0]]), 5, axis=0)
    layer = GMNM(2, 1, n_components=6)
    init_from_data(layer, X, X[:, :1], random_state=0)
    assert torch.isfinite(layer.centers).all()
    assert torch.isfinite(layer.projections).all()
    assert torch.isfinite(layer.weight).all()


def test_init_from_data_method_is_a_deprecated_alias():
    X = np.random.RandomState(0).normal(size=(60, 2))
    expected = init_from_data(GMNM(2, 1, n_components=3), X, X[:, :1], random_state=0)
    layer = GMNM(2, 1, n_components=3)
    with pytest.warns(FutureWarning, match="sklearn_gmnm.init_from_data"):
        assert layer.init_from_data(X, X[:, :1], random_state=0) is layer
    for got, want in zip(layer.parameters(), expected.parameters(), strict=True):
        torch.testing.assert_close(got, want)


def test_the_torch_layer_does_not_import_the_package_above_it():
    # k-means and ridge sit above sklearn_gmnm.nn, which imports nothing of
    # the package around it at module level (no import cycle).
    import ast
    from pathlib import Path

    import sklearn_gmnm.nn as nn_package

    for path in Path(nn_package.__file__).parent.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{path.name} imports {node.module}"
                assert not (node.module or "").startswith("sklearn_gmnm"), path.name


def test_fused_full_kernel_gradients_match_autograd_of_naive_formula():
    # float32, larger than the gradcheck: the hand-written backward of the
    # 'full' kernel against autograd through the naive (n, m, d) formula.
    torch.manual_seed(0)
    layer = GMNM(6, 3, n_components=5, rank=4)
    x = torch.randn(40, 6, requires_grad=True)
    grads = []
    def naive(t):
        return _naive_activations(layer, t) @ layer.weight.t() + layer.bias

    for forward in (layer, naive):
        layer.zero_grad()
        x.grad = None
        forward(x).square().sum().backward()
        grads.append(
            [x.grad.clone(), layer.centers.grad.clone(), layer.projections.grad.clone()]
        )
    for fused, naive in zip(*grads, strict=True):
        torch.testing.assert_close(fused, naive, rtol=1e-4, atol=1e-5)


def test_full_kernel_without_gradients_matches_the_autograd_node():
    # Under no_grad / inference_mode (the early-stopping score of every
    # epoch) the 'full' kernel runs the same arithmetic outside its autograd
    # node: equal to the last bit, and the node still serves training.
    from sklearn_gmnm.nn._functional import gaussian_full

    torch.manual_seed(0)
    layer = GMNM(6, 2, n_components=9, rank=3)
    x = torch.randn(25, 6)
    trained = layer(x)
    assert trained.grad_fn is not None
    for context in (torch.no_grad, torch.inference_mode):
        with context():
            inferred = layer(x)
        assert inferred.grad_fn is None
        assert torch.equal(inferred, trained.detach())
    with torch.no_grad():
        direct = gaussian_full(x, layer.centers, layer.projections)
    assert torch.equal(direct, layer.activations(x).detach())
