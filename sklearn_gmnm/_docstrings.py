"""Parameter documentation shared by the estimators' docstrings."""

SHARED_PARAMETERS = """\
    n_components : int, default=64
        Number of Gaussian components (augmented Gaussian projections).

    covariance_type : {'full', 'diag', 'spherical', 'tied'}, default='full'
        Structure of each component's precision, named as
        :class:`~sklearn.mixture.GaussianMixture` names them: ``'full'``, one
        projection of rank ``rank`` per component; ``'diag'``, axis-aligned
        widths; ``'spherical'``, one width per component; ``'tied'``, one
        projection shared by all components.

    rank : int, default=None
        Rows of the projections of the ``'full'`` and ``'tied'`` types.
        ``None`` means ``min(n_features, 8)``.

    learn_centers : bool, default=True
        Whether the centers are trained, or stay where the initialisation put
        them.

    init : {'kmeans', 'random'}, default='kmeans'
        How centers are placed before training: k-means cluster centers of a
        bounded random subsample, or randomly chosen rows. Widths then come
        from each cluster's spread and the mixing weights from a ridge fit.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the mixing weights, as in
        :class:`~sklearn.neural_network.MLPRegressor`.

    batch_size : int or 'auto', default='auto'
        Rows per mini-batch. ``'auto'`` means ``min(256, n_samples)``.

    learning_rate_init : float, default=1e-3
        Step size of the Adam optimiser.

    max_iter : int, default=200
        Maximum number of epochs.

    tol : float, default=1e-4
        Training stops when the training loss has not improved by at least
        ``tol`` for ``n_iter_no_change`` consecutive epochs.

    n_iter_no_change : int, default=10
        Number of epochs without an improvement of ``tol`` before stopping.

    random_state : int, RandomState instance or None, default=None
        Seeds k-means, the weight initialisation and the shuffling. Pass an
        int for reproducible results across calls.

    verbose : int, default=0
        Verbosity; 0 is silent.

    device : str, default='auto'
        Torch device to train on: ``'auto'`` (CUDA when available, else CPU),
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'`` (numbered among the devices
        that ``CUDA_VISIBLE_DEVICES`` leaves visible). Decided in ``fit``,
        which moves the data to the device once. After ``fit`` the model is
        kept on the CPU and the cached GPU memory is released; predictions
        run on ``device_`` when this machine has it, else on the CPU.

    n_jobs : int, default=None
        Number of CPU threads torch (and the BLAS and OpenMP pools used by
        the initialisation) may use during ``fit`` and prediction; the
        caller's thread settings are restored afterwards. ``None`` leaves the
        settings alone, and so respects the limits that joblib's workers
        (``n_jobs`` of a search), Dask workers and
        :func:`threadpoolctl.threadpool_limits` set. ``-1`` means all CPUs,
        ``-2`` all but one. Not to be confused with the ``n_jobs`` of a
        search, which counts worker processes: keep
        ``search n_jobs x estimator threads <= CPUs``.
"""

SHARED_ATTRIBUTES = """\
    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``. Defined only when ``X`` has
        feature names that are all strings.

    loss_curve_ : list of float
        Training loss at the end of each epoch.

    n_iter_ : int
        Number of epochs run.

    device_ : torch.device
        Device the model was trained on.

    module_ : sklearn_gmnm.nn.GMNM
        The trained torch module, on the CPU. It acts on standardised inputs
        ``(X - X.mean(0)) / X.std(0)`` of the training data.

    centers_ : ndarray of shape (n_components, n_features_in_)
        Component centers, in the units of ``X``.

    projections_ : ndarray
        The components' projections as ``module_`` stores them (acting on
        standardised inputs).

    mixing_weights_ : ndarray of shape (n_outputs, n_components)
        Mixing weights of the components.

    intercept_ : ndarray of shape (n_outputs,)
        Output bias.
"""


def fill_doc(cls):
    """Substitute the shared parameter and attribute blocks into a docstring."""
    cls.__doc__ = cls.__doc__.format(
        shared_parameters=SHARED_PARAMETERS.rstrip("\n"),
        shared_attributes=SHARED_ATTRIBUTES.rstrip("\n"),
    )
    return cls
