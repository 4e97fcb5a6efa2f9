"""Grid search on a local Dask cluster through joblib's Dask backend."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV

from sklearn_gmnm import GMNMClassifier, GMNMRegressor

distributed = pytest.importorskip("dask.distributed")

X_reg, y_reg = make_regression(n_samples=90, n_features=3, noise=1.0, random_state=0)
X_iris, y_iris = load_iris(return_X_y=True)
FAST = {"n_components": 4, "max_iter": 4, "random_state": 0}


@pytest.fixture(scope="module")
def dask_client():
    """Two single-threaded worker processes, on the loopback interface only."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
        silence_logs=True,
    ) as cluster, distributed.Client(cluster, timeout="60s") as client:
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.mark.parametrize("Estimator, X, y, grid", [
    (GMNMRegressor, X_reg, y_reg, {"n_components": [3, 5], "alpha": [1e-4, 1e-2]}),
    (GMNMClassifier, X_iris, y_iris, {"covariance_type": ["full", "diag"]}),
])
def test_grid_search_on_a_dask_cluster_matches_the_serial_search(
    Estimator, X, y, grid, dask_client
):
    serial = GridSearchCV(Estimator(**FAST), grid, cv=3).fit(X, y)
    with (
        distributed.get_task_stream(dask_client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        on_dask = GridSearchCV(Estimator(**FAST), grid, cv=3, n_jobs=-1).fit(X, y)
    workers = set(dask_client.scheduler_info()["workers"])
    assert tasks.data and {task["worker"] for task in tasks.data} <= workers
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_allclose(
            on_dask.cv_results_[key], serial.cv_results_[key], rtol=1e-6
        )
    assert on_dask.best_params_ == serial.best_params_
