"""Parameter documentation shared by the estimators' docstrings."""

import inspect

SHARED_PARAMETERS = """\
    n_components : int or 'auto', default='auto'
        Number of Gaussian components (augmented Gaussian projections).
        ``'auto'`` means ``n_samples // 10``, at least 8 and at most
        ``max(64, 5 * n_outputs)``, where ``n_outputs`` is the number of
        regression outputs or of classes: ten rows per component, and room
        for five components per class when there are many classes.

    covariance_type : {'full', 'diag', 'spherical', 'tied'}, default='full'
        Structure of each component's precision, named as
        :class:`~sklearn.mixture.GaussianMixture` names them: ``'full'``, one
        projection of rank ``rank`` per component; ``'diag'``, axis-aligned
        widths; ``'spherical'``, one width per component; ``'tied'``, one
        projection shared by all components.

    rank : int, default=None
        Rows of the projections of the ``'full'`` and ``'tied'`` types, at
        most the number of features. ``None`` means ``min(n_features, 8)``.

    learn_centers : bool, default=True
        Whether the centers are trained, or stay where the initialisation put
        them.

    linear_term : bool, default=True
        Whether the model adds a linear function of the inputs to the
        Gaussian mixture, ``sum_i pi_i g_i(x) + V x + b``, as
        radial-basis-function networks often do. The Gaussians are local, so
        without it a global trend (one-hot columns, features acting
        additively) takes many of them; with it they model what the linear
        trend leaves. ``False`` gives the paper's module alone. With hidden
        layers the linear term acts on the output of the last one, like the
        output layer of an MLP.

    input_scaling : {'robust', 'standard'}, default=<input_scaling>
        How the estimator maps each input column before the model, fitted in
        ``fit`` and applied in ``predict`` (and inside the exports):

        - ``'standard'``: subtract the mean, divide by the standard deviation;
        - ``'robust'``: subtract the median, divide by the interquartile range
          (half the range where the quartiles coincide). The Gaussians see
          the result clipped smoothly to ``(-3, 3)`` with
          ``z / sqrt(1 + (z / 3)**2)``, as RealMLP does; the linear term sees
          it unclipped (with hidden layers the trunk sees the clipped
          values). Skewed and heavy-tailed columns then spread over the
          Gaussians' range instead of crowding into a sliver of it, outliers
          cannot dominate them, and a trend along such a column beyond its
          bulk is still followed by the linear term.

        The defaults were measured on the development suite of the
        benchmarks: ``'robust'`` for the regressor (ahead on 9 of its 11
        regression sets, squared error and Poisson), ``'standard'`` for the
        classifier (``'robust'`` was ahead on only 4 of its 10
        classification sets).

    hidden_layer_sizes : array-like of int, default=()
        Widths of a trunk of hidden layers in front of the GMNM, as in
        :class:`~sklearn.neural_network.MLPRegressor`: the ``i``-th entry is
        the number of units of the ``i``-th hidden layer (one int is one
        layer). The GMNM head then acts on the last layer's output. ``()``
        means no trunk: the GMNM acts on the (standardised) inputs. The trunk
        starts as MLP's hidden layers do (Glorot uniform) and the head is
        initialised by k-means and ridge in its output space.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers, with MLP's meanings: ``'identity'``
        ``f(x) = x``, ``'logistic'`` ``f(x) = 1 / (1 + exp(-x))``, ``'tanh'``
        and ``'relu'`` ``f(x) = max(0, x)``. Unused without hidden layers.

    init : {'kmeans', 'random'}, default='kmeans'
        How centers are placed before training: k-means cluster centers of a
        bounded random subsample, or randomly chosen rows. Widths then come
        from each cluster's spread and the mixing weights from a ridge fit.

    solver : {'adam', 'lbfgs'}, default='adam'
        How the model is trained after its data-driven start, named as in
        :class:`~sklearn.neural_network.MLPRegressor`:

        - ``'adam'``: mini-batch Adam over epochs (skorch is the engine);
          the choice for large data sets, and the only one with
          ``partial_fit``, early stopping and skorch ``callbacks``;
        - ``'lbfgs'``: full-batch L-BFGS-B (scipy's, as MLP's) on all
          parameters at once, in float64; on small and smooth problems
          (a few thousand rows) it converges much further, to errors orders
          of magnitude below Adam's. Each iteration passes over all rows.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the mixing weights (and the linear
        term's weights), as in
        :class:`~sklearn.neural_network.MLPRegressor`: ``alpha / 2 *
        ||W||^2`` divided by the rows of a step (a mini-batch for
        ``'adam'``, all rows for ``'lbfgs'``) is added to the mean loss.

    batch_size : int or 'auto', default='auto'
        Rows per mini-batch (``'adam'`` only). ``'auto'`` means 256 rows
        (all of them when there are fewer), and ``n_samples // 64`` (at most
        2048) on more than 16384 samples, so that large data sets take fewer,
        larger steps.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of the Adam optimiser (``'adam'`` only), named
        as in
        :class:`~sklearn.neural_network.MLPRegressor`:

        - ``'constant'``: ``learning_rate_init`` throughout;
        - ``'invscaling'``: ``learning_rate_init / t ** power_t`` at epoch
          ``t`` (counted over ``warm_start`` fits and ``partial_fit`` calls);
        - ``'adaptive'``: divided by 5 each time ``n_iter_no_change``
          consecutive epochs fail to improve the monitored value (training
          loss, or validation score with ``early_stopping``) by ``tol``;
          training then stops only once the rate is at most ``1e-6``. It has
          no effect in ``partial_fit``.

        For any other schedule pass a skorch ``LRScheduler`` in ``callbacks``.

    learning_rate_init : float, default=3e-3
        Initial step size of the Adam optimiser (``'adam'`` only). Three
        times MLP's default: the data-driven start is close, and with early
        stopping a larger step reached the same scores in about half the
        epochs on the development suite (``benchmarks/RESULTS.md``).

    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule (``'adam'`` only).

    average : bool, default=True
        Whether the model keeps an exponential moving average of Adam's
        weights rather than its last step (``'adam'`` only; Polyak
        averaging, as ``average`` in
        :class:`~sklearn.linear_model.SGDRegressor`, over a recent window):
        after step ``t`` of a fit the average moves towards the weights by
        ``max(9 / (10 + t), 0.01)``, so it spans about the last tenth of the
        steps, at most about 100. The average is what early stopping scores
        and restores, and what the fitted model holds; ``callbacks`` see it
        at each epoch's end, and Adam's own weights during an epoch.
        ``partial_fit`` does not average (each call is one epoch, and the
        average is not carried between calls). Chosen on the development
        suite (``benchmarks/RESULTS.md``): the step noise it removes was
        worth +0.0016 R^2 on average on its regression sets (6 of 7 up;
        its classification sets: -0.0003 accuracy), for longer fits on
        mid-sized data, where the averaged validation score keeps
        improving.

    max_iter : int or 'auto', default='auto'
        For ``'adam'``, the maximum number of epochs of one ``fit``; for
        ``'lbfgs'``, the maximum number of iterations. ``'auto'`` means 200
        epochs for ``'adam'`` (MLP's default), or as many as 1,000 steps
        (mini-batches) take where that is more (fewer than five batches an
        epoch: at most 1,024 training rows with the default batch size),
        and 500 iterations for ``'lbfgs'``. It is a cap: the
        stopping rule (``tol``, ``n_iter_no_change``, ``early_stopping``)
        ends an ordinary fit first. When training ends on it instead, a
        ``ConvergenceWarning`` is issued.

    tol : float, default=1e-4
        Tolerance of the stopping rule. For ``'adam'``, training stops when
        the training loss (or, with ``early_stopping``, the validation
        score) has not improved by at least ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs. For ``'lbfgs'``, it stops
        when the largest entry of the projected gradient falls to ``tol``
        (scipy's ``gtol``, as MLP passes it), or when an iteration no longer
        reduces the objective measurably.

    n_iter_no_change : int or 'auto', default='auto'
        Number of epochs without an improvement of ``tol`` tolerated before
        stopping (``'adam'`` only). ``'auto'`` means 5 epochs (half of
        MLP's default: the averaged weights of ``average=True`` improve
        steadily, so a shorter wait loses little), or as many as make 30
        mini-batch steps if that is more, so that on a small data set the
        noise of a few steps does not end training.

    max_fun : int, default=15000
        Maximum number of loss evaluations (``'lbfgs'`` only; each of its
        iterations takes one or a few). Reaching it issues a
        ``ConvergenceWarning``.

    early_stopping : bool or 'auto', default='auto'
        Whether to hold out ``validation_fraction`` of the training data
        (stratified on the classes for the classifier, drawn with
        ``random_state``) and stop when its score stops improving: R^2 for
        the regressor, the mean log-likelihood of the labels (minus the
        log-loss) for the classifier, weighted by ``sample_weight``. The
        weights of the best-scoring epoch are restored, and the data-driven
        start competes too: if no epoch scores better on the held-out rows,
        the model keeps its start, so training never ends worse there than
        where it began. The held-out rows take no part in the
        initialisation, and inside a cross-validation only each training
        fold is split. ``'auto'`` (as in
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`) turns it on
        in ``fit`` when the held-out set has at least 20 rows (and, for the
        classifier, every class has two), and off in ``partial_fit``.
        ``'adam'`` only: ``'lbfgs'`` ignores it, as MLP does.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping; used only
        when early stopping is on (``'adam'`` only).

    warm_start : bool, default=False
        When True, ``fit`` continues from the fitted model (no new
        initialisation; the input and target scaling of the first fit are
        kept) and ``n_iter_`` and ``loss_curve_`` accumulate. When False,
        each ``fit`` starts afresh. With ``'lbfgs'`` each ``fit`` starts a
        new curvature history from the fitted weights.

    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` pairs, for
        example ``LRScheduler``, ``Checkpoint`` or ``EpochScoring``) run by
        the training engine, after the estimator's own. Each ``fit`` uses a
        copy, so the given instances are left unchanged. A callback raising
        ``KeyboardInterrupt`` stops training as an interrupt would.
        ``'adam'`` only: skorch runs the mini-batch loop, not L-BFGS, and
        ``fit`` with ``'lbfgs'`` and callbacks raises a ``ValueError``.

    random_state : int, RandomState instance or None, default=None
        Seeds k-means, the weight initialisation and the shuffling. Pass an
        int for reproducible results across calls.

    verbose : int, default=0
        Progress report: 0 is silent; 1 shows a progress bar over the epochs
        (or L-BFGS iterations) with the current training loss and validation
        score; 2 (or more) prints one line per epoch or iteration.

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
        :func:`threadpoolctl.threadpool_limits` set, with three exceptions:
        ``'adam'`` trains on one torch thread on the CPU (its mini-batches
        are too small to share, and extra threads stall when another process
        holds a core: 4x slower fits measured), the k-means and ridge start
        runs its linear algebra on one BLAS thread (small matrices; up to
        2x slower small fits with a busy core otherwise), and a prediction
        of fewer than 100,000 rows runs on one thread. ``-1`` means all CPUs,
        ``-2`` all but one. Not to be confused with the ``n_jobs`` of a
        search, which counts worker processes: keep
        ``search n_jobs x estimator threads <= CPUs``.
"""

SHARED_ATTRIBUTES = """\
    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when ``X`` has
        feature names that are all strings.

    loss_curve_ : list of float
        Training loss (weighted mean, penalty excluded) of each epoch
        (``'adam'``) or after each iteration (``'lbfgs'``).

    validation_scores_ : list of float or None
        Validation score (R^2, or the mean log-likelihood of the labels for
        the classifier) of each epoch when early stopping was on; else None.

    best_validation_score_ : float or None
        Best validation score, whose weights the model holds, when early
        stopping was on (the start's score if no epoch beat it); else None.

    best_loss_ : float or None
        Lowest training loss reached without ``early_stopping``; else None.

    n_iter_ : int
        Number of epochs (``'adam'``) or iterations (``'lbfgs'``) run, over
        all ``warm_start`` fits and ``partial_fit`` calls since the model was
        initialised.

    device_ : torch.device
        Device the model was trained on.

    module_ : sklearn_gmnm.nn.GMNM or torch.nn.Sequential
        The trained torch module, on the CPU: float32 after ``'adam'``,
        float64 after ``'lbfgs'`` (predictions are computed in its dtype). It
        acts on standardised inputs ``(X - X.mean(0)) / X.std(0)`` of the
        training data. With hidden layers it is the
        ``Sequential(trunk, head)`` of :func:`sklearn_gmnm.nn.gmnm_network`,
        and predictions are computed in float64 whatever its dtype, so that
        a row's prediction does not depend on the rows predicted with it.

    coefs_ : list of ndarray
        Weight matrices of the hidden layers, of shape ``(fan_in, fan_out)``
        as in MLP (the first acting on standardised inputs); empty without
        hidden layers.

    intercepts_ : list of ndarray
        Bias vectors of the hidden layers; empty without hidden layers.

    centers_ : ndarray of shape (n_components, n_head_features)
        Component centers. Without hidden layers they are in the units of
        ``X`` (``n_head_features`` is `n_features_in_`); with hidden layers
        they live in the output space of the last hidden layer
        (``n_head_features`` is its width), where the head acts, and have no
        counterpart in input units. With ``input_scaling='robust'`` a
        coordinate trained beyond the smooth clipping's bound is infinite.

    projections_ : ndarray
        The components' projections as ``module_`` stores them (acting on
        standardised inputs, or on the last hidden layer's output).

    mixing_weights_ : ndarray of shape (n_outputs, n_components)
        Mixing weights of the components.

    intercept_ : ndarray of shape (n_outputs,)
        Output bias.

    linear_coef_ : ndarray of shape (n_outputs, n_head_features) or None
        Weights of the linear term as ``module_`` stores them (acting on
        standardised inputs, or on the last hidden layer's output); None
        when ``linear_term=False``.
"""


def fill_doc(cls):
    """Substitute the shared parameter and attribute blocks into a docstring."""
    default = inspect.signature(cls).parameters["input_scaling"].default
    cls.__doc__ = cls.__doc__.format(
        shared_parameters=SHARED_PARAMETERS.rstrip("\n").replace(
            "<input_scaling>", repr(default)
        ),
        shared_attributes=SHARED_ATTRIBUTES.rstrip("\n"),
    )
    return cls
