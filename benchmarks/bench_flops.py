"""Training-step FLOP/s of the GMNM layer against torch's own matmul FLOP/s.

Run from the repository root::

    python benchmarks/bench_flops.py

On a GEMM-bound shape (by default 16384 rows, 256 features, 256 components of
rank 16, 'full' covariance), one training step (forward, squared-error loss,
backward, Adam step) does about ``6 n d m r`` floating-point operations in
three matrix products: the projection ``x @ W^T`` and, in the backward, the
gradients with respect to ``x`` and ``W``. The reference is the FLOP/s torch
reaches on exactly those three matrix products alone, timed in the same run;
the ratio says how much of the machine's matmul speed the Gaussian kernel's
elementwise work leaves.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn_gmnm._optim import Adam  # noqa: E402
from sklearn_gmnm.nn import GMNM  # noqa: E402


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=16384)
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--components", type=int, default=256)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    n, d, m, r = args.rows, args.features, args.components, args.rank

    torch.manual_seed(0)
    x = torch.randn(n, d)
    y = torch.randn(n, 1)
    layer = GMNM(d, 1, n_components=m, rank=r)
    # The estimators' Adam: torch's fused kernel, without the compiler guards.
    optimizer = Adam(layer.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = 0.5 * (layer(x) - y).square().mean()
        loss.backward()
        optimizer.step()

    W = torch.randn(m * r, d)
    G = torch.randn(n, m * r)

    def matmuls():
        x @ W.t()  # forward projection
        G @ W  # gradient with respect to x
        G.t() @ x  # gradient with respect to W

    flops = 3 * 2 * n * d * m * r
    t_mm = best_time(matmuls, args.repeats)
    t_step = best_time(step, args.repeats)
    t_mm = min(t_mm, best_time(matmuls, args.repeats))  # bracket the step
    mm_rate, step_rate = flops / t_mm, flops / t_step
    print(
        f"shape: {n} rows, {d} features, {m} components, rank {r}; "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"matmul alone:  {t_mm * 1e3:8.1f} ms  {mm_rate / 1e9:7.1f} GFLOP/s")
    print(f"training step: {t_step * 1e3:8.1f} ms  {step_rate / 1e9:7.1f} GFLOP/s")
    print(f"step / matmul FLOP/s: {step_rate / mm_rate:.1%}")


if __name__ == "__main__":
    main()
