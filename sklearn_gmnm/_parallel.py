"""Thread control: how many CPU threads a fit or a prediction may use.

By default (``n_jobs=None``) the estimators leave the thread settings alone,
so they respect the limits that the caller's environment sets: the
``OMP_NUM_THREADS``-style variables that joblib's loky backend and Dask's
nanny set in their worker processes, and :func:`threadpoolctl.threadpool_limits`
blocks (torch's OpenMP pool is one of the pools threadpoolctl limits). An
explicit ``n_jobs`` sets the number of threads of torch and of the native
thread pools (BLAS, OpenMP) for the duration of the call, and the caller's
settings are restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from joblib import cpu_count
from threadpoolctl import threadpool_limits


def effective_n_threads(n_jobs: int | None) -> int | None:
    """Number of threads an estimator's ``n_jobs`` asks for.

    Parameters
    ----------
    n_jobs : int or None
        ``None`` leaves the current settings alone; a positive value is a
        number of threads; a negative value counts back from the number of
        CPUs, as in joblib: ``-1`` means all of them, ``-2`` all but one.

    Returns
    -------
    n_threads : int or None
        ``None``, or a number of threads, at least 1.
    """
    if n_jobs is None:
        return None
    if n_jobs == 0:
        raise ValueError(
            "n_jobs == 0 has no meaning; use None, a positive or a negative int."
        )
    if n_jobs < 0:
        return max(1, cpu_count() + 1 + n_jobs)
    return int(n_jobs)


@contextmanager
def limit_threads(n_jobs: int | None) -> Iterator[None]:
    """Run the enclosed block with ``n_jobs`` threads, then restore the caller's.

    Sets :func:`torch.set_num_threads` and, through threadpoolctl, the BLAS
    and OpenMP pools (used by k-means and the ridge initialisation). Does
    nothing when ``n_jobs`` is None. The number of torch inter-op threads is
    left alone (torch allows setting it only once per process).

    Thread settings are process-wide: two threads of one process that fit
    with different ``n_jobs`` at the same time see each other's setting.

    Parameters
    ----------
    n_jobs : int or None
        See :func:`effective_n_threads`.
    """
    n_threads = effective_n_threads(n_jobs)
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    with threadpool_limits(limits=n_threads):
        # After threadpoolctl so that torch's own setting wins when both
        # govern the same OpenMP runtime.
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)
