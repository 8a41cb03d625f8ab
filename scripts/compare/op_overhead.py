"""PyTorch side of org.rlhf4j.examples.bench.OpOverhead: microseconds per op on a [4,4] fp32 tensor.

    python scripts/compare/op_overhead.py [N]     (set OMP_NUM_THREADS / torch threads as for the Java run)
"""
import sys
import time

import torch

torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "2")))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
a = torch.randn(4, 4)
b = torch.randn(4, 4)
w = a.clone().requires_grad_(True)
p, g, m, v = a.clone(), b.clone(), torch.zeros(4, 4), torch.zeros(4, 4)


def adam_java_form(k):
    for _ in range(k):
        m.mul_(0.9).add_(g * 0.1)
        v.mul_(0.999).add_(g.square().mul_(0.001))
        denom = (v / 0.5).sqrt().add_(1e-8)
        p.sub_((m / 0.5).div_(denom).mul_(1e-4))


def adam_torch(k):
    # torch.optim.AdamW's single-tensor path (foreach=False) on one parameter
    for _ in range(k):
        p.mul_(1 - 1e-4 * 0.0)
        m.lerp_(g, 0.1)
        v.mul_(0.999).addcmul_(g, g, value=0.001)
        denom = (v.sqrt() / 0.7).add_(1e-8)
        p.addcdiv_(m, denom, value=-1e-4 / 0.5)


def grad_add(k):
    with torch.enable_grad():
        for _ in range(k):
            w + b


def no_grad_add(k):
    with torch.no_grad():
        for _ in range(k):
            a + b


cases = {
    "add (a + b)": lambda k: [a + b for _ in range(k)] and None,
    "add under no_grad": no_grad_add,
    "add(1.0) (Python scalar)": lambda k: [a + 1.0 for _ in range(k)] and None,
    "add_ (in place)": lambda k: [a.clone().add_(b) for _ in range(0)] or [p.add_(b) for _ in range(k)] and None,
    "shape+dtype of a fresh result (beyond the op)": lambda k: [((r := a + b).shape, r.dtype) for _ in range(k)] and None,
    "sum().item() (op + host read)": lambda k: [a.sum().item() for _ in range(k)] and None,
    "torch.tensor(list of 16 floats)": lambda k: [torch.tensor([0.0] * 16).view(4, 4) for _ in range(k)] and None,
    "add with requires_grad input (recorded)": grad_add,
}
res = {}
for name, f in cases.items():
    f(n)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        f(n)
        ts.append((time.perf_counter() - t0) * 1e6 / n)
    res[name] = sorted(ts)[2]
for name, f in {"AdamW per tensor, Java 14-op form (per update)": adam_java_form,
                "AdamW per tensor, torch single-tensor form (per update)": adam_torch}.items():
    f(n // 10)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        f(n // 10)
        ts.append((time.perf_counter() - t0) * 1e6 / (n // 10))
    res[name] = sorted(ts)[2]
for k, us in res.items():
    print(f"{k:<58s} {us:8.2f} us")
big = torch.rand(924, 32)
for name, f in {"sqrt [4,4]": lambda: a.abs().sqrt(), "sqrt [924,32]": lambda: big.sqrt(),
                "exp [924,32]": lambda: big.exp(), "add [924,32]": lambda: big + big}.items():
    for _ in range(n): f()
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n): f()
        ts.append((time.perf_counter() - t0) * 1e6 / n)
    print(f"{name:<58s} {sorted(ts)[2]:8.2f} us")
