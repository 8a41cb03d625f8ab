"""Writes the TorchScript archives of rlhf4j's fused ops (org.rlhf4j.core.tensor.FusedOps).

DJL 0.36 exposes no tanh-approximate GELU; torch's own op (one kernel forward, one fused gelu_backward) is reached
through a scripted one-line module that DJL loads from the classpath. Run from the repository root:

    /work/venv-ref/bin/python scripts/fused_ops.py

Written with torch 2.13 (archive format version 10); DJL 0.36's libtorch 2.7.1 loads it (FusedOpsTest).
"""
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path("rlhf-core/src/main/resources/org/rlhf4j/core/tensor")


class GeluTanh(torch.nn.Module):
    """gelu_new / gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as torch's single op."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    torch.jit.script(GeluTanh()).save(str(OUT / "gelu_tanh.pt"))
    print("wrote", OUT / "gelu_tanh.pt")


if __name__ == "__main__":
    main()
