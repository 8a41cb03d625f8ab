#!/usr/bin/env python3
"""The peer of `./rlhf4j bench`: the same measurements with PyTorch + transformers, in one process, at the same shapes
and threads, printing JSON with the same keys as `./rlhf4j bench --json`.

  bench_peer.py [--arch gpt2|llama] [shape and size options as ./rlhf4j bench] [--threads N] [--json FILE]
  bench_peer.py compare OURS.json PEER.json     side-by-side table, ratios rlhf4j/peer (> 1 = rlhf4j faster), MFU

Measured like rlhf4j (rlhf-examples/.../bench/Benchmarks.java): medians after warm-up; fp32 square matmul 2n^3 FLOP;
bandwidth of an in-place a += b over two fp32 arrays (3 x array bytes moved); a training step = forward, mean
next-token NLL, backward, global-norm clipping at 1.0, torch.optim.AdamW (lr 1e-4, weight decay 0.01), random token
batches, one warm-up step; generation = model.generate with the KV cache (and without it), exactly --new-tokens
tokens (min_new_tokens = max_new_tokens), pure sampling (do_sample, top_k=0, top_p 1, temperature 1), random
prompts; decode = the generate call minus a 1-token generate (the prefill), against the roofline
(4·N_matmul + KV-cache bytes per step) / bandwidth. Models: GPT2LMHeadModel from a GPT2Config (gelu_new, dropout 0,
tied logits) or LlamaForCausalLM from a LlamaConfig (untied), random init, eager (no torch.compile), fp32, the
default attention implementation (recorded under peer.attn_implementation).
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", choices=["gpt2", "llama"], default="gpt2")
    p.add_argument("--n-embd", type=int, default=512)
    p.add_argument("--n-layer", type=int, default=8)
    p.add_argument("--n-head", type=int, default=8)
    p.add_argument("--n-kv-head", type=int, default=None)
    p.add_argument("--ffn", type=int, default=None)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--matmul-size", type=int, default=2048)
    p.add_argument("--gen-batch", type=int, default=4)
    p.add_argument("--prompt-len", type=int, default=512)
    p.add_argument("--new-tokens", type=int, default=53)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--bandwidth-mb", type=int, default=256)
    p.add_argument("--skip", default="", help="comma list: train, gen, recompute, bandwidth, roofline")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: RLHF4J_THREADS or nproc)")
    p.add_argument("--json", default=None)
    p.add_argument("--profile", default=None,
                   help="after the timed training steps, profile one more with torch.profiler into this Chrome trace")
    a = p.parse_args(argv)
    a.skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    a.n_kv_head = a.n_kv_head or a.n_head
    if a.ffn is None:
        # as BenchCommand.ffn(): 4d for GPT-2, ceil(8d/3 / 64)*64 for Llama
        a.ffn = 4 * a.n_embd if a.arch == "gpt2" else math.ceil(8 * a.n_embd / 3 / 64) * 64
    if a.arch == "gpt2" and a.n_kv_head != a.n_head:
        p.error(f"--n-kv-head is for --arch llama, got {a.n_kv_head}")
    return a


def median(xs):
    return statistics.median(xs)


def machine(torch):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
            f"{platform.python_version()}, torch {torch.__version__}")


def dims(a):
    """(layers, d, d_q, d_kv, N_matmul) as Benchmarks.Dims."""
    d, L, V = a.n_embd, a.n_layer, a.vocab
    if a.arch == "gpt2":
        return L, d, d, d, L * (4 * d * d + 2 * d * a.ffn) + V * d
    hd = d // a.n_head
    dq, dkv = a.n_head * hd, a.n_kv_head * hd
    return L, d, dq, dkv, L * (2 * d * dq + 2 * d * dkv + 3 * d * a.ffn) + V * d


def train_flops_per_token(a, seq):
    L, _, dq, _, n = dims(a)
    return 6 * n + 12.0 * L * seq * dq


def roofline(a, batch, prompt, new, bandwidth):
    L, _, _, dkv, n = dims(a)
    weights = 4.0 * n
    kv = sum(2.0 * L * batch * p * dkv * 4 for p in range(prompt + 1, prompt + new))
    steps = new - 1
    seconds = (weights * steps + kv) / (bandwidth * 1e9)
    return dict(weight_bytes=weights, kv_bytes=kv / steps, seconds_per_step=seconds / steps,
                tokens_per_second=batch * steps / seconds)


def build(a, positions, torch, transformers):
    if a.arch == "gpt2":
        cfg = transformers.GPT2Config(vocab_size=a.vocab, n_positions=positions, n_embd=a.n_embd, n_layer=a.n_layer,
                                      n_head=a.n_head, n_inner=a.ffn, activation_function="gelu_new",
                                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=a.vocab - 1,
                                      eos_token_id=a.vocab - 1)
        model = transformers.GPT2LMHeadModel(cfg)
    else:
        cfg = transformers.LlamaConfig(vocab_size=a.vocab, hidden_size=a.n_embd, intermediate_size=a.ffn,
                                       num_hidden_layers=a.n_layer, num_attention_heads=a.n_head,
                                       num_key_value_heads=a.n_kv_head, max_position_embeddings=positions,
                                       rms_norm_eps=1e-6, rope_theta=10000.0, hidden_act="silu",
                                       tie_word_embeddings=False, bos_token_id=0, eos_token_id=a.vocab - 1)
        model = transformers.LlamaForCausalLM(cfg)
    return model.float()


def matmul_gflops(torch, n, reps):
    x = torch.rand(n, n) * 2 - 1
    y = torch.rand(n, n) * 2 - 1
    times = []
    for i in range(reps + 2):
        t0 = time.perf_counter()
        x @ y
        dt = time.perf_counter() - t0
        if i >= 2:
            times.append(dt)
    return 2.0 * n ** 3 / median(times) / 1e9


def bandwidth_gbps(torch, floats, reps):
    x = torch.zeros(floats)
    y = torch.ones(floats)
    times = []
    for i in range(reps + 2):
        t0 = time.perf_counter()
        x.add_(y)
        dt = time.perf_counter() - t0
        if i >= 2:
            times.append(dt)
    return 3.0 * 4 * floats / median(times) / 1e9


def training_step(a, positions, torch, transformers):
    torch.manual_seed(1)
    model = build(a, positions, torch, transformers)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    g = torch.Generator().manual_seed(0)
    times = []
    total = a.steps + 1 + (1 if a.profile else 0)
    for i in range(total):
        ids = torch.randint(0, a.vocab, (a.batch, a.seq), generator=g)
        prof = None
        if a.profile and i == total - 1:
            # one more step after the timed ones under torch.profiler (as rlhf4j's --profile): not timed
            prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True)
            prof.__enter__()
        t0 = time.perf_counter()
        # mean next-token NLL over the B x (T - 1) predicted positions (as CausalLm.nextTokenLogprobs(...).mean())
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        dt = time.perf_counter() - t0
        if prof is not None:
            prof.__exit__(None, None, None)
            prof.export_chrome_trace(a.profile)
            print(f"profile of one more training step: {a.profile}")
        elif i >= 1:
            times.append(dt)
    sec = median(times)
    tps = a.batch * a.seq / sec
    fpt = train_flops_per_token(a, a.seq)
    foreach = opt.defaults.get("foreach")
    return dict(seconds_per_step=sec, tokens_per_second=tps, gflops=tps * fpt / 1e9, flops_per_token=fpt), \
        model.config._attn_implementation, foreach


def generation(a, positions, torch, transformers, new_tokens, kv_cache, warmup, reps):
    torch.manual_seed(2)
    model = build(a, positions, torch, transformers)
    model.eval()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, a.vocab, (a.gen_batch, a.prompt_len), generator=g)
    mask = torch.ones_like(ids)
    times = []
    with torch.no_grad():
        for i in range(warmup + reps):
            torch.manual_seed(i)
            t0 = time.perf_counter()
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, top_k=0, top_p=1.0,
                                 temperature=1.0, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                 use_cache=kv_cache, pad_token_id=a.vocab - 1)
            dt = time.perf_counter() - t0
            assert out.shape[1] == a.prompt_len + new_tokens, out.shape
            if i >= warmup:
                times.append(dt)
    sec = median(times)
    return sec, a.gen_batch * new_tokens / sec


def run(argv):
    a = parse(argv)
    threads = a.threads or int(os.environ.get("RLHF4J_THREADS", os.cpu_count() or 2))
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    import transformers
    transformers.logging.set_verbosity_error()
    res = dict(machine=machine(torch))
    print("machine:", res["machine"])
    if a.seq < 2 or a.new_tokens < 1:
        sys.exit("--seq must be >= 2 and --new-tokens >= 1")
    positions = max(1024, a.seq, a.prompt_len + a.new_tokens)
    res["arch"] = a.arch
    res["threads"] = f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op"
    res["device"] = "cpu()"
    peak = matmul_gflops(torch, a.matmul_size, 5)
    res["matmul_gflops"] = peak
    print(f"fp32 matmul {a.matmul_size}^3: {peak:.1f} GFLOP/s")
    bandwidth = float("nan")
    if "bandwidth" not in a.skip:
        bandwidth = bandwidth_gbps(torch, a.bandwidth_mb * 1_000_000 // 4, 5)
        res["bandwidth_gbps"] = bandwidth
        res["bandwidth_array_mb"] = a.bandwidth_mb
        print(f"memory bandwidth (a += b, 2 x {a.bandwidth_mb} MB fp32): {bandwidth:.1f} GB/s")
    model_fields = dict(arch=a.arch, n_embd=a.n_embd, n_layer=a.n_layer, n_head=a.n_head, n_kv_head=a.n_kv_head,
                        ffn=a.ffn, vocab=a.vocab)
    res["model"] = model_fields
    peer = dict(torch=torch.__version__, transformers=transformers.__version__)
    if "train" not in a.skip:
        t, attn, foreach = training_step(a, positions, torch, transformers)
        t["mfu_vs_matmul"] = t["gflops"] / peak
        res["train"] = dict(model_fields, batch=a.batch, seq=a.seq, **t)
        peer["attn_implementation"] = attn
        peer["adamw_foreach"] = foreach
        print(f"training step {a.arch} d={a.n_embd} L={a.n_layer} V={a.vocab} B={a.batch} T={a.seq}: "
              f"{t['seconds_per_step']:.3f} s/step, {t['tokens_per_second']:.0f} tokens/s, {t['gflops']:.1f} GFLOP/s"
              f" = {100 * t['mfu_vs_matmul']:.0f}% of matmul")
    if "gen" not in a.skip:
        gen = dict(batch=a.gen_batch, prompt_len=a.prompt_len, new_tokens=a.new_tokens)
        kv_s, kv_tps = generation(a, positions, torch, transformers, a.new_tokens, True, 1, a.reps)
        gen.update(kv_cache_seconds=kv_s, kv_cache_tokens_per_second=kv_tps)
        print(f"generation {a.arch} B={a.gen_batch} prompt={a.prompt_len} new={a.new_tokens}: KV cache {kv_s:.2f} s "
              f"({kv_tps:.1f} tok/s)")
        if "recompute" not in a.skip:
            full_s, full_tps = generation(a, positions, torch, transformers, a.new_tokens, False, 0,
                                          max(1, a.reps // 2))
            gen.update(recompute_seconds=full_s, recompute_tokens_per_second=full_tps, speedup=full_s / kv_s)
            print(f"  full recomputation {full_s:.2f} s ({full_tps:.1f} tok/s): KV cache {full_s / kv_s:.1f}x faster")
        if "roofline" not in a.skip and a.new_tokens >= 2 and not math.isnan(bandwidth):
            pre_s, _ = generation(a, positions, torch, transformers, 1, True, 1, a.reps)
            decode = kv_s - pre_s
            dtps = a.gen_batch * (a.new_tokens - 1) / decode
            r = roofline(a, a.gen_batch, a.prompt_len, a.new_tokens, bandwidth)
            gen.update(prefill_seconds=pre_s, decode_seconds_per_step=decode / (a.new_tokens - 1),
                       decode_tokens_per_second=dtps, roofline_weight_bytes=r["weight_bytes"],
                       roofline_kv_bytes_per_step=r["kv_bytes"], roofline_seconds_per_step=r["seconds_per_step"],
                       roofline_tokens_per_second=r["tokens_per_second"],
                       roofline_ratio=dtps / r["tokens_per_second"])
            print(f"  decode: prefill {pre_s:.3f} s, {decode / (a.new_tokens - 1):.4f} s/step = {dtps:.1f} new tok/s;"
                  f" roofline {r['seconds_per_step']:.4f} s/step = {r['tokens_per_second']:.1f} tok/s; achieved "
                  f"{100 * dtps / r['tokens_per_second']:.0f}% of the roofline")
        res["generation"] = gen
    res["peer"] = peer
    text = json.dumps(res, indent=2)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


# (label, section, key, higher is better)
ROWS = [
    ("fp32 matmul GFLOP/s", None, "matmul_gflops", True),
    ("bandwidth GB/s", None, "bandwidth_gbps", True),
    ("train s/step", "train", "seconds_per_step", False),
    ("train tokens/s", "train", "tokens_per_second", True),
    ("train GFLOP/s", "train", "gflops", True),
    ("generate (KV cache) s", "generation", "kv_cache_seconds", False),
    ("generate (KV cache) new tok/s", "generation", "kv_cache_tokens_per_second", True),
    ("generate (recompute) s", "generation", "recompute_seconds", False),
    ("prefill s", "generation", "prefill_seconds", False),
    ("decode new tok/s", "generation", "decode_tokens_per_second", True),
    ("decode roofline tok/s", "generation", "roofline_tokens_per_second", None),
]


def get(d, section, key):
    v = d.get(section, {}) if section else d
    return v.get(key)


def compare(ours_path, peer_path):
    with open(ours_path) as f:
        ours = json.load(f)
    with open(peer_path) as f:
        peer = json.load(f)
    if ours.get("model") != peer.get("model"):
        print(f"WARNING: different shapes: rlhf4j {ours.get('model')} vs peer {peer.get('model')}")
    for sec in ("train", "generation"):
        for k in ("batch", "seq", "prompt_len", "new_tokens"):
            if get(ours, sec, k) != get(peer, sec, k):
                print(f"WARNING: {sec}.{k} differs: rlhf4j {get(ours, sec, k)} vs peer {get(peer, sec, k)}")
    print(f"rlhf4j: {ours.get('machine')} ({ours.get('threads')})")
    print(f"peer:   {peer.get('machine')} ({peer.get('threads')}), {peer.get('peer')}")
    print()
    print("| measure | rlhf4j | peer | rlhf4j/peer (> 1 = rlhf4j faster) |")
    print("|---|---:|---:|---:|")
    for label, section, key, higher in ROWS:
        o, p = get(ours, section, key), get(peer, section, key)
        if o is None and p is None:
            continue
        fmt = lambda v: "—" if v is None else (f"{v:.4g}")
        ratio = "—"
        if o is not None and p is not None and higher is not None and o > 0 and p > 0:
            ratio = f"{(o / p if higher else p / o):.2f}"
        print(f"| {label} | {fmt(o)} | {fmt(p)} | {ratio} |")
    for label, section, key in (("MFU (train GFLOP/s / own matmul peak)", "train", "mfu_vs_matmul"),
                                ("decode / roofline", "generation", "roofline_ratio")):
        o, p = get(ours, section, key), get(peer, section, key)
        if o is not None or p is not None:
            f = lambda v: "—" if v is None else f"{100 * v:.0f} %"
            print(f"| {label} | {f(o)} | {f(p)} | |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "compare":
        if len(sys.argv) != 4:
            sys.exit("usage: bench_peer.py compare OURS.json PEER.json")
        compare(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[1:])


if __name__ == "__main__":
    main()
