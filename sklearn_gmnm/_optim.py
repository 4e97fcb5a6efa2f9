"""The Adam optimiser of the ``'adam'`` solver, without TorchDynamo's import.

:class:`torch.optim.Adam` imports ``torch._dynamo`` the first time one of its
methods runs (``add_param_group``, ``zero_grad``, ``state_dict``,
``load_state_dict`` and ``step`` all go through guards that disable the
compiler, and the guards import it lazily). That import takes 1.5 to 2 s on a
2-core CPU, longer than a whole default fit on a small data set, and every
user pays it on the first ``fit`` of a session. The estimators never compile
their optimiser, so :class:`Adam` runs the same code without the guards:

- the four bookkeeping methods are :class:`torch.optim.Optimizer`'s own,
  unwrapped (``__wrapped__``; where a torch release does not expose it the
  guarded method is used and only the first-fit time suffers);
- ``step`` calls torch's fused Adam kernel (``torch._fused_adam_``), as
  ``torch.optim.Adam(fused=True)`` does, so the updates are the same to the
  last bit and the state dict has the same layout.

Being a :class:`torch.optim.Adam`, it works with torch's learning-rate
schedulers and skorch's ``LRScheduler`` and ``Checkpoint`` callbacks.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim import Optimizer


def _unguarded(method: Callable) -> Callable:
    """``method`` without torch's compiler-disabling wrapper, if it has one."""
    return getattr(method, "__wrapped__", method)


class Adam(torch.optim.Adam):
    """:class:`torch.optim.Adam` with the fused kernel and no compiler guards.

    Parameters
    ----------
    params : iterable of Tensor or dict
        Parameters, or parameter groups, to optimise.
    lr : float, default=1e-3
        Step size.
    betas : tuple of float, default=(0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default=1e-8
        Term added to the denominator for numerical stability.
    weight_decay : float, default=0
        L2 penalty added to the gradient (``grad + weight_decay * param``).
    """

    add_param_group = _unguarded(Optimizer.add_param_group)
    zero_grad = _unguarded(Optimizer.zero_grad)
    state_dict = _unguarded(Optimizer.state_dict)
    load_state_dict = _unguarded(Optimizer.load_state_dict)

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, fused=True
        )

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        """One Adam update of every parameter that has a gradient.

        Parameters
        ----------
        closure : callable, default=None
            Re-evaluates the model and returns the loss.

        Returns
        -------
        loss : Tensor or None
            What ``closure`` returned.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            states = [self.state[p] for p in params]
            for param, state in zip(params, states, strict=True):
                if not state:
                    # The layout torch.optim.Adam(fused=True) uses.
                    state["step"] = torch.zeros((), dtype=torch.float32,
                                                device=param.device)
                    state["exp_avg"] = torch.zeros_like(param)
                    state["exp_avg_sq"] = torch.zeros_like(param)
            steps = [state["step"] for state in states]
            torch._foreach_add_(steps, 1)
            beta1, beta2 = group["betas"]
            torch._fused_adam_(
                params,
                [p.grad for p in params],
                [state["exp_avg"] for state in states],
                [state["exp_avg_sq"] for state in states],
                [],
                steps,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                amsgrad=False,
                maximize=False,
            )
        return loss
