"""Thread control: how many CPU threads a fit or a prediction may use.

By default (``n_jobs=None``) the estimators leave the thread settings alone,
so they respect the limits that the caller's environment sets: the
``OMP_NUM_THREADS``-style variables that joblib's loky backend and Dask's
nanny set in their worker processes, and :func:`threadpoolctl.threadpool_limits`
blocks (torch's OpenMP pool is one of the pools threadpoolctl limits). An
explicit ``n_jobs`` sets the number of threads of torch and of the native
thread pools (BLAS, OpenMP) for the duration of the call, and the caller's
settings are restored afterwards.

Three exceptions, where more threads do not pay:

- Mini-batch training (``solver='adam'`` on the CPU) runs on one torch thread
  with ``n_jobs=None`` (:func:`fit_threads`): a batch of at most 2048 rows is
  too little work to share. On the 2-core benchmark machine, default fits on
  three development sets (phoneme, spambase, hpc_data) took 0.80 / 0.75 /
  0.57 s on one thread against 3.16 / 2.76 / 2.79 s on two with one other
  CPU-bound process running, and as long on one thread as on two when the
  machine was quiet (3.14 against 3.13 s on phoneme; on adult, the largest
  batches, 3.29 against 2.92 s).
- The data-driven start (k-means, widths, the ridge fit and its
  leave-one-out penalty) runs its numpy linear algebra on one BLAS thread
  with ``n_jobs=None`` (:func:`initialization_threads`): its matrices are
  small (at most 20,000 rows), and BLAS threads that find their cores busy
  wait for each other. On the 2-core machine, with one other CPU-bound
  process running, default fits took 0.092 s against 0.153 s (hitters),
  0.102 against 0.201 s (mammographic), 0.172 against 0.279 s (college) and
  0.322 against 0.434 s (credit_data); on a quiet machine the same within
  the noise (2.04 s against 2.04 s on deliveries). (k-means' own OpenMP
  threads are not BLAS threads and are left alone.)
- Prediction chooses its torch threads itself (:func:`predict_threads`), one
  thread below ``THREADED_PREDICT_ROWS`` rows and at most half of the CPUs
  above. On the 2-core machine of ``benchmarks/bench_predict.py``, with one
  other CPU-bound process running, two threads took 6.2 s for 200,000 rows
  and one thread 0.42 s: OpenMP threads that find their core busy wait for
  each other.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from joblib import cpu_count
from threadpoolctl import ThreadpoolController


@functools.cache
def thread_pools() -> ThreadpoolController:
    """threadpoolctl's controller of the process's thread pools, made once.

    Making one inspects every loaded shared library: 2.7 ms, which
    ``threadpool_limits`` pays at each call, and a default fit made two such
    calls (5% of a fit on 400 rows). The controller sees the libraries
    loaded when it is first made, after numpy, scipy, scikit-learn and torch,
    whose pools are the ones the estimators limit.
    """
    return ThreadpoolController()


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
    with thread_pools().limit(limits=n_threads):
        # After threadpoolctl so that torch's own setting wins when both
        # govern the same OpenMP runtime.
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def fit_threads(n_jobs: int | None, stochastic: bool, device_type: str) -> int | None:
    """Torch threads of a fit: one for mini-batch training on the CPU with
    ``n_jobs=None`` (see the module's docstring), else ``n_jobs``'s."""
    if n_jobs is None and stochastic and device_type == "cpu":
        return 1
    return effective_n_threads(n_jobs)


@contextmanager
def initialization_threads(n_jobs: int | None) -> Iterator[None]:
    """Run the data-driven start on one BLAS thread when ``n_jobs`` is None.

    See the module's docstring; an explicit ``n_jobs`` is already in force
    (:func:`limit_threads`) and is left as it is.
    """
    if n_jobs is not None:
        yield
        return
    with thread_pools().limit(limits=1, user_api="blas"):
        yield


#: Rows from which a prediction with ``n_jobs=None`` may use more than one
#: torch thread. Below it one thread was faster at every size measured
#: (10,000 rows: 14 ms on one thread, 320 ms on two on a loaded 2-core
#: machine), as a chunk's work is too small for thread wake-ups to pay.
THREADED_PREDICT_ROWS = 100_000


def predict_threads(n_jobs: int | None, n_rows: int) -> int | None:
    """Torch threads of a prediction of ``n_rows`` rows.

    An explicit ``n_jobs`` is honoured. With ``n_jobs=None``: one thread
    below ``THREADED_PREDICT_ROWS`` rows, else torch's own setting capped
    at half of the CPUs, so that a prediction on a shared machine does not
    stall on cores that other processes hold (a caller's lower setting, from
    ``threadpool_limits`` or ``OMP_NUM_THREADS``, is kept).
    """
    if n_jobs is not None:
        return effective_n_threads(n_jobs)
    if n_rows < THREADED_PREDICT_ROWS:
        return 1
    return max(1, min(torch.get_num_threads(), cpu_count() // 2))


@contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run the enclosed block with ``n_threads`` torch threads, then restore.

    Unlike :func:`limit_threads`, leaves the BLAS pools alone (a prediction
    makes no BLAS call outside torch) and costs microseconds: it is the
    thread control of ``predict``. Does nothing when ``n_threads`` is None
    or already torch's setting.
    """
    previous = torch.get_num_threads()
    if n_threads is None or n_threads == previous:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
