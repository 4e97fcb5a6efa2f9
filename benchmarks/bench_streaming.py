"""Out-of-core training: stream rows through ``partial_fit`` in bounded memory.

Generates ``--rows`` rows (10 million by default) of a regression problem
chunk by chunk (each chunk is made, trained on once, and dropped; the rows
are never held at once) and calls ``GMNMRegressor.partial_fit`` on each.
It reports the peak resident memory of the process
(``resource.getrusage(...).ru_maxrss``) after the first million rows and
after all of them, the rows per second, and the R^2 on a held-out chunk:
the peak must not grow with the rows streamed.

Usage::

    python benchmarks/bench_streaming.py --rows 10000000
    python benchmarks/bench_streaming.py --rows 3000000 --sparse
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

#: The checkout's package is benchmarked, whatever is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from sklearn_gmnm import GMNMRegressor  # noqa: E402

N_FEATURES = 20


def make_chunk(index: int, rows: int, sparse: bool = False) -> tuple:
    """Chunk ``index`` of the stream: the same rows for the same index."""
    rng = np.random.RandomState(index)
    X = rng.randn(rows, N_FEATURES)
    if sparse:
        X[rng.rand(rows, N_FEATURES) < 0.7] = 0.0
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.randn(rows)
    return (sp.csr_matrix(X) if sparse else X.astype(np.float32)), y


def peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stream(
    n_rows: int, chunk_rows: int, sparse: bool = False, report=print
) -> dict:
    """Train on ``n_rows`` streamed rows; return the figures measured."""
    reg = GMNMRegressor(n_components=32, random_state=0)
    n_chunks = -(-n_rows // chunk_rows)
    figures: dict = {"rows": n_rows, "chunk_rows": chunk_rows, "sparse": sparse}
    start = time.perf_counter()
    seen = 0
    for index in range(n_chunks):
        rows = min(chunk_rows, n_rows - seen)
        X, y = make_chunk(index + 1, rows, sparse)
        reg.partial_fit(X, y)
        seen += rows
        del X, y
        if seen >= 1_000_000 and "peak_mib_at_1m" not in figures:
            figures["peak_mib_at_1m"] = peak_rss_mib()
            report(f"{seen:>12,} rows  peak RSS {figures['peak_mib_at_1m']:8.1f} MiB")
        elif (index + 1) % max(1, n_chunks // 10) == 0:
            report(f"{seen:>12,} rows  peak RSS {peak_rss_mib():8.1f} MiB  "
                   f"{time.perf_counter() - start:7.1f} s")
    figures["seconds"] = time.perf_counter() - start
    figures["peak_mib_at_end"] = peak_rss_mib()
    X_test, y_test = make_chunk(0, 20_000, sparse)
    figures["test_r2"] = float(reg.score(X_test, y_test))
    figures["rows_per_second"] = n_rows / figures["seconds"]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--sparse", action="store_true",
                        help="stream CSR chunks (70%% zeros) instead of dense")
    args = parser.parse_args(argv)
    print(f"# streaming {args.rows:,} rows x {N_FEATURES} features in chunks of "
          f"{args.chunk_rows:,} ({'CSR' if args.sparse else 'dense float32'})")
    print(f"# peak RSS before training: {peak_rss_mib():.1f} MiB")
    figures = stream(args.rows, args.chunk_rows, args.sparse)
    print(f"# peak RSS after 1M rows: {figures.get('peak_mib_at_1m', float('nan')):.1f}"
          f" MiB; after all rows: {figures['peak_mib_at_end']:.1f} MiB")
    print(f"# {figures['seconds']:.1f} s, {figures['rows_per_second']:,.0f} rows/s, "
          f"held-out R^2 {figures['test_r2']:.4f}")


if __name__ == "__main__":
    main()
