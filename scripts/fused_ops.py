"""Writes the TorchScript archives of rlhf4j's fused ops (org.rlhf4j.core.tensor.FusedOps).

DJL 0.36 exposes no tanh-approximate GELU and no SiLU; torch's own ops (one kernel forward, one fused backward) are
reached through scripted one-line modules that DJL loads from the classpath. The token log-probability modules
(log_softmax(z)[y], with and without the entropy) were measured against DJL's ops and lost; they are written to the
test resources for FusedOpsBench. Run from the repository root:

    /work/venv-ref/bin/python scripts/fused_ops.py [NAME.pt ...]

(torch.jit.save is not byte-reproducible: name only the archives you changed.)

Written with torch 2.13 (archive format version 10); DJL 0.36's libtorch 2.7.1 loads them (FusedOpsTest).
Decision 0024 records which of them rlhf4j uses and the timings behind the choice.
"""
import math
import pathlib
import sys
from typing import List

import torch
import torch.nn.functional as F

OUT = pathlib.Path("rlhf-core/src/main/resources/org/rlhf4j/core/tensor")
# candidates that lost the measurement of decision 0024, kept for FusedOpsBench (test classpath only)
BENCH_OUT = pathlib.Path("rlhf-core/src/test/resources/org/rlhf4j/core/tensor")


class GeluTanh(torch.nn.Module):
    """gelu_new / gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as torch's single op."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


class Silu(torch.nn.Module):
    """silu(x) = x sigmoid(x) (HF ACT2FN["silu"], LlamaMLP's act_fn) as torch's single op."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(x)


class SiluMul(torch.nn.Module):
    """silu(g) * u, LlamaMLP's down_proj input: two torch ops in one module call."""

    def forward(self, g: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return F.silu(g) * u


class TokenLogprobsLse(torch.nn.Module):
    """log_softmax(z)[y] = z[y] - logsumexp(z): no [..., V] log-softmax is kept for backward."""

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        idx = y.unsqueeze(-1)
        return z.gather(-1, idx).squeeze(-1) - torch.logsumexp(z, -1)


class TokenLogprobsCe(torch.nn.Module):
    """log_softmax(z)[y] = -cross_entropy(z, y) (torch's fused nll_loss(log_softmax) kernels)."""

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        v = z.size(-1)
        out = F.cross_entropy(z.reshape(-1, v), y.reshape(-1), reduction="none")
        return -out.reshape(y.shape)


class TokenLogprobsGather(torch.nn.Module):
    """log_softmax(z)[y] as rlhf4j composes it today (log_softmax, gather), as one module call."""

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return z.log_softmax(-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)


class LogprobsEntropy(torch.nn.Module):
    """(log_softmax(z)[y], H = -sum softmax(z) log_softmax(z)) from one log-softmax."""

    def forward(self, z: torch.Tensor, y: torch.Tensor):
        logp = z.log_softmax(-1)
        lp = logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
        ent = -(logp.exp() * logp).sum(-1)
        return lp, ent


class Optim(torch.nn.Module):
    """The optimizer tail over all parameter tensors in one call: torch.optim.AdamW's update (the single-tensor
    algorithm of torch/optim/adamw.py, in place, one temporary per tensor) and the per-tensor gradient norms of
    clip_grad_norm_ (torch._foreach_norm). DJL composes AdamW from 14 arrays per tensor, five of them new
    parameter-sized temporaries; this is one JNI call for the whole model."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x  # unused: the methods below are the module's API

    @torch.jit.export
    def adamw_(self, params: List[torch.Tensor], grads: List[torch.Tensor], exp_avgs: List[torch.Tensor],
               exp_avg_sqs: List[torch.Tensor], decays: List[bool], lr: float, beta1: float, beta2: float,
               eps: float, weight_decay: float, step: int) -> int:
        """theta <- theta (1 - lr wd)   (decay group only)
        m <- m + (1 - b1)(g - m),  v <- b2 v + (1 - b2) g g
        theta <- theta - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)"""
        bias_correction1 = 1.0 - beta1 ** step
        bias_correction2 = 1.0 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = math.sqrt(bias_correction2)
        with torch.no_grad():
            for i in range(len(params)):
                p = params[i]
                g = grads[i]
                m = exp_avgs[i]
                v = exp_avg_sqs[i]
                if decays[i]:
                    p.mul_(1.0 - lr * weight_decay)
                m.lerp_(g, 1.0 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
                denom = v.sqrt().div_(bias_correction2_sqrt).add_(eps)
                p.addcdiv_(m, denom, value=-step_size)
        return len(params)

    @torch.jit.export
    def norms(self, grads: List[torch.Tensor]) -> torch.Tensor:
        """The L2 norm of every gradient, as float32, stacked: [len(grads)]."""
        with torch.no_grad():
            return torch.stack([n.float() for n in torch._foreach_norm(grads, 2.0)])


MODULES = {
    "gelu_tanh.pt": (GeluTanh, OUT),
    "silu.pt": (Silu, OUT),
    "optim.pt": (Optim, OUT),
    "silu_mul.pt": (SiluMul, BENCH_OUT),
    "token_logprobs_lse.pt": (TokenLogprobsLse, BENCH_OUT),
    "token_logprobs_gather.pt": (TokenLogprobsGather, BENCH_OUT),
    "token_logprobs.pt": (TokenLogprobsCe, BENCH_OUT),
    "logprobs_entropy.pt": (LogprobsEntropy, BENCH_OUT),
}


def main() -> None:
    """Writes the archives named on the command line (default: all)."""
    names = sys.argv[1:] or list(MODULES)
    for name in names:
        module, out = MODULES[name]
        out.mkdir(parents=True, exist_ok=True)
        torch.jit.script(module()).save(str(out / name))
        print("wrote", out / name)


if __name__ == "__main__":
    main()
