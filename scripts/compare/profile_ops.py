#!/usr/bin/env python3
"""Where a training step's time goes, rlhf4j beside torch + transformers, op by op, from two profiler traces.

  profile_ops.py OURS.json PEER.json [--top N] [--phase forward|backward|tail]

OURS.json: `./rlhf4j bench ... --profile OURS.json` (libtorch's autograd profiler through DJL's
JniUtils.startProfile/stopProfile: a JSON list of Chrome-trace "X" events). PEER.json: `scripts/bench_peer.py ...
--profile PEER.json` (torch.profiler's export_chrome_trace: {"traceEvents": [...]} with cat "cpu_op"). Both record the
same step (forward, mean next-token NLL, backward, clipping, AdamW) after the timed ones, with the same shapes.

What it prints:
- phases: forward (up to the first autograd function), backward (to the end of the last autograd function) and tail
  (clipping, optimizer, the loss read); per phase the wall time, the time inside native ops (top-level op durations)
  and the rest, "outside ops": the host language, the framework's bookkeeping and waits between ops;
- per op: self time (an op's duration minus the ops it called), summed over the step, with the call counts, sorted by
  the larger side; ops under 0.5 % of both steps are summed in one line.

Profiler overhead (a few microseconds per recorded op on both sides) is inside these numbers; compare them with the
unprofiled step times of the same bench run, and read the ops, not the total.
"""
import argparse
import collections
import json
import sys

# names of the autograd engine's wrapper events (zero self time: their children are the work)
AUTOGRAD = "autograd::engine::evaluate_function"


def load(path):
    with open(path) as f:
        d = json.load(f)
    events = d["traceEvents"] if isinstance(d, dict) else d
    ops = []
    for e in events:
        if e.get("ph") != "X" or "dur" not in e:
            continue
        cat = e.get("cat")
        if cat is not None and cat != "cpu_op":
            continue  # torch.profiler: user annotations, the trace span itself
        ops.append(dict(name=e["name"], ts=float(e["ts"]), dur=float(e["dur"]), tid=e.get("tid")))
    if not ops:
        sys.exit(f"{path}: no op events (expected a Chrome trace from --profile)")
    return ops


def self_times(ops):
    """Fills 'self' (dur minus direct children) and 'top' (no enclosing op) per event, per thread."""
    by_tid = collections.defaultdict(list)
    for o in ops:
        by_tid[o["tid"]].append(o)
    for evs in by_tid.values():
        evs.sort(key=lambda o: (o["ts"], -o["dur"]))
        stack = []
        for o in evs:
            o["self"] = o["dur"]
            while stack and stack[-1]["ts"] + stack[-1]["dur"] <= o["ts"] + 1e-3:
                stack.pop()
            o["top"] = not stack
            if stack:
                stack[-1]["self"] -= o["dur"]
            stack.append(o)
    return ops


def phases(ops):
    """(name, start, end) of forward, backward and tail in microseconds."""
    start = min(o["ts"] for o in ops)
    end = max(o["ts"] + o["dur"] for o in ops)
    bw = [o for o in ops if o["name"].startswith(AUTOGRAD)]
    if not bw:
        return [("step", start, end)]
    b0 = min(o["ts"] for o in bw)
    b1 = max(o["ts"] + o["dur"] for o in bw)
    return [("forward", start, b0), ("backward", b0, b1), ("tail", b1, end)]


def summarize(path, only=None):
    ops = self_times(load(path))
    rows = []
    window = None
    for name, a, b in phases(ops):
        inside = sum(o["dur"] for o in ops if o["top"] and a <= o["ts"] < b)
        rows.append((name, (b - a) / 1e3, inside / 1e3))
        if name == only:
            window = (a, b)
    if only is not None and window is None:
        sys.exit(f"{path}: no phase '{only}'")
    per_op = collections.defaultdict(lambda: [0.0, 0])
    for o in ops:
        if window is not None and not window[0] <= o["ts"] < window[1]:
            continue
        per_op[o["name"]][0] += o["self"] / 1e3
        per_op[o["name"]][1] += 1
    return rows, per_op, len(ops)


def fmt(x):
    return f"{x:,.1f}"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ours")
    p.add_argument("peer")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--phase", choices=["forward", "backward", "tail"], default=None,
                   help="the op table for this phase only (the phase table is always the whole step)")
    a = p.parse_args(argv)
    (ph_o, op_o, n_o), (ph_p, op_p, n_p) = summarize(a.ours, a.phase), summarize(a.peer, a.phase)
    print(f"ops recorded: rlhf4j {n_o:,}, peer {n_p:,}\n")
    print("| phase | rlhf4j wall ms | inside ops | outside ops | peer wall ms | inside ops | outside ops | rlhf4j − peer ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    tot_o = [0.0, 0.0]
    tot_p = [0.0, 0.0]
    peer = {n: (w, i) for n, w, i in ph_p}
    for name, w, i in ph_o:
        pw, pi = peer.get(name, (float("nan"), float("nan")))
        tot_o[0] += w
        tot_o[1] += i
        tot_p[0] += pw
        tot_p[1] += pi
        print(f"| {name} | {fmt(w)} | {fmt(i)} | {fmt(w - i)} | {fmt(pw)} | {fmt(pi)} | {fmt(pw - pi)} | {fmt(w - pw)} |")
    print(f"| **step** | {fmt(tot_o[0])} | {fmt(tot_o[1])} | {fmt(tot_o[0] - tot_o[1])} | {fmt(tot_p[0])} | "
          f"{fmt(tot_p[1])} | {fmt(tot_p[0] - tot_p[1])} | {fmt(tot_o[0] - tot_p[0])} |")
    names = set(op_o) | set(op_p)
    step_o, step_p = tot_o[0], tot_p[0]
    big = sorted((n for n in names if op_o.get(n, [0, 0])[0] >= 0.005 * step_o or op_p.get(n, [0, 0])[0] >= 0.005 * step_p),
                 key=lambda n: -max(op_o.get(n, [0, 0])[0], op_p.get(n, [0, 0])[0]))[:a.top]
    print(f"\n{a.phase or 'whole step'}:\n")
    print("| op (self time) | rlhf4j ms | calls | peer ms | calls | rlhf4j − peer ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for n in big:
        so, co = op_o.get(n, [0.0, 0])
        sp, cp = op_p.get(n, [0.0, 0])
        print(f"| `{n}` | {fmt(so)} | {co:,} | {fmt(sp)} | {cp:,} | {fmt(so - sp)} |")
    rest_o = sum(v[0] for n, v in op_o.items() if n not in big)
    rest_p = sum(v[0] for n, v in op_p.items() if n not in big)
    c_o = sum(v[1] for n, v in op_o.items() if n not in big)
    c_p = sum(v[1] for n, v in op_p.items() if n not in big)
    print(f"| every other op | {fmt(rest_o)} | {c_o:,} | {fmt(rest_p)} | {c_p:,} | {fmt(rest_o - rest_p)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
