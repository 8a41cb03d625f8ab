#!/usr/bin/env python3
"""Llama-family parity fixtures for rlhf4j (LlamaParityTest), and a check of directories saved by rlhf4j.

  fixtures [--out DIR]     build tiny random LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM /
                           Qwen3ForCausalLM models with transformers, save each (config.json + F32 model.safetensors)
                           under DIR/<case>/ (default rlhf-core/src/test/resources/llama-parity) with expected.json:
                           a right-padded and a left-padded batch (ids, attention mask), transformers' next-token
                           log-probabilities and the logits at each row's last real token
  check DIR [--tol T]      load a directory written by rlhf4j (DIR/config.json, DIR/model.safetensors) with
                           AutoModelForCausalLM and compare its next-token log-probabilities and last-token logits with
                           the ones rlhf4j wrote to DIR/rlhf4j_expected.json (same layout as expected.json);
                           prints the max |diff|, exit 1 above --tol (1e-4)

Positions are passed explicitly as rlhf4j derives them, clamp(cumsum(mask) - 1, 0) (what `generate` does up to the
value of padding positions), and attention is transformers' eager implementation. Weights are redrawn with larger
scales than HF's init (N(0, 0.25) matrices, 1 + N(0, 0.2) norm weights, N(0, 0.1) biases) so logits are far from
uniform. Deterministic for a given torch version. Needs torch + transformers (see scripts/README.md); never needed
by the Maven build.
"""
import argparse
import copy
import json
import os
import shutil
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "rlhf-core", "src", "test", "resources", "llama-parity")

V = 96
COMMON = dict(vocab_size=V, hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
              max_position_embeddings=64, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)

# name -> (config class, config kwargs, sequence length)
CASES = {
    # GQA (4 query heads, 2 KV heads), head_dim 16 != hidden/heads = 8, biases on attention and MLP, rope_theta 500,
    # eos as a list (Llama 3 style), a pad token
    "llama-gqa": (transformers.LlamaConfig,
                  dict(num_key_value_heads=2, head_dim=16, attention_bias=True, mlp_bias=True, rope_theta=500.0,
                       eos_token_id=[2, 3], pad_token_id=0), 12),
    # llama3 rope: head_dim 16 gives wavelengths 6.3, 19.9, 62.8, ... against original 32 -> high (kept), medium
    # (smoothed) and low (divided) frequencies all occur
    "llama-rope-llama3": (transformers.LlamaConfig,
                          dict(num_attention_heads=2, max_position_embeddings=128,
                               rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                 high_freq_factor=4.0, original_max_position_embeddings=32)), 12),
    "llama-rope-linear": (transformers.LlamaConfig, dict(rope_scaling=dict(type="linear", factor=2.0)), 12),
    # dynamic NTK: the test sequences (24) are longer than max_position_embeddings (16)
    "llama-rope-dynamic": (transformers.LlamaConfig,
                           dict(max_position_embeddings=16, rope_scaling=dict(rope_type="dynamic", factor=2.0)), 24),
    "llama-tied": (transformers.LlamaConfig, dict(tie_word_embeddings=True), 12),
    # sliding window 4 over 12 tokens, GQA
    "mistral-window": (transformers.MistralConfig, dict(num_key_value_heads=2, sliding_window=4), 12),
    # q/k/v biases; the window is on for layers >= max_window_layers = 1 only
    "qwen2": (transformers.Qwen2Config,
              dict(num_key_value_heads=2, use_sliding_window=True, sliding_window=5, max_window_layers=1), 12),
    # per-head q/k RMSNorm, explicit head_dim 16, tied embeddings
    "qwen3": (transformers.Qwen3Config, dict(num_key_value_heads=2, head_dim=16, tie_word_embeddings=True), 12),
    # the qwen2 case again, saved as transformers writes a half-precision checkpoint: bf16 weights in shards with
    # model.safetensors.index.json (SAVE below); the expected outputs are the fp32 forward of the bf16-rounded weights
    "qwen2-bf16-sharded": (transformers.Qwen2Config,
                           dict(num_key_value_heads=2, use_sliding_window=True, sliding_window=5, max_window_layers=1),
                           12),
}

# name -> how save_pretrained writes the case (default: one F32 model.safetensors)
SAVE = {"qwen2-bf16-sharded": dict(dtype=torch.bfloat16, max_shard_size="40KB")}


def positions(mask):
    return (mask.cumsum(-1) - 1).clamp(min=0)


def batches(t, gen):
    """A right-padded and a left-padded batch of 3 rows (lengths t, t-3, t-7)."""
    lengths = [t, t - 3, t - 7]
    out = {}
    for side in ("right", "left"):
        ids = torch.randint(3, V, (3, t), generator=gen)
        mask = torch.zeros(3, t, dtype=torch.long)
        for b, n in enumerate(lengths):
            if side == "right":
                mask[b, :n] = 1
            else:
                mask[b, t - n:] = 1
        ids = torch.where(mask.bool(), ids, torch.zeros_like(ids))  # pad id 0
        out[side] = (ids, mask)
    return out


def hf_outputs(model, ids, mask):
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask)).logits.float()
    lp = torch.log_softmax(logits[:, :-1], dim=-1).gather(2, ids[:, 1:, None])[..., 0]
    last = mask.shape[1] - 1 - mask.flip(1).argmax(1)  # index of the last real token
    return lp, logits[torch.arange(ids.shape[0]), last], last


def round_floats(x):
    """Eight significant digits: float32 precision, half the file size of repr."""
    if isinstance(x, float):
        return float(f"{x:.8g}")
    if isinstance(x, list):
        return [round_floats(v) for v in x]
    if isinstance(x, dict):
        return {k: round_floats(v) for k, v in x.items()}
    return x


def perturb(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.25 * torch.randn(p.shape, generator=gen))


def fixtures(args):
    os.makedirs(args.out, exist_ok=True)
    for i, (name, (cls, kw, t)) in enumerate(CASES.items()):
        gen = torch.Generator().manual_seed(1000 + i)
        cfg = cls(**{**COMMON, **kw})
        cfg._attn_implementation = "eager"
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32).eval()
        perturb(model, gen)
        d = os.path.join(args.out, name)
        shutil.rmtree(d, ignore_errors=True)
        save = SAVE.get(name)
        if save is None:
            model.save_pretrained(d)
        else:
            # round the weights to the checkpoint's dtype, save them so, and compute the expected outputs in fp32
            # from exactly the stored values (what a loader that widens to fp32 must reproduce)
            rounded = {k: v.to(save["dtype"]).float() for k, v in model.state_dict().items()}
            copy.deepcopy(model).to(save["dtype"]).save_pretrained(d, max_shard_size=save["max_shard_size"])
            # load the rounded values into the fp32 model: converting the model itself would also round the rotary
            # inv_freq buffers, which no loader of the checkpoint reproduces
            model.load_state_dict(rounded)
        for f in os.listdir(d):
            if f not in ("config.json", "model.safetensors", "model.safetensors.index.json") and not (
                    f.startswith("model-") and f.endswith(".safetensors")):
                os.remove(os.path.join(d, f))
        expected = {"generator": "scripts/llama_fixture.py fixtures", "transformers": transformers.__version__,
                    "torch": torch.__version__, "case": name, "batches": {}}
        for side, (ids, mask) in batches(t, gen).items():
            lp, last_logits, last = hf_outputs(model, ids, mask)
            expected["batches"][side] = {"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                                         "logprobs": lp.tolist(), "last_index": last.tolist(),
                                         "last_logits": last_logits.tolist()}
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(round_floats(expected), f, separators=(",", ":"))
            f.write("\n")
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"{name}: {type(model).__name__}, {sum(p.numel() for p in model.parameters())} parameters, "
              f"{size / 1024:.0f} KiB")


def check(args):
    with open(os.path.join(args.dir, "rlhf4j_expected.json")) as f:
        java = json.load(f)
    model = AutoModelForCausalLM.from_pretrained(args.dir, attn_implementation="eager", dtype=torch.float32).eval()
    worst = 0.0
    for side, b in java["batches"].items():
        ids = torch.tensor(b["input_ids"])
        mask = torch.tensor(b["attention_mask"])
        lp, last_logits, _ = hf_outputs(model, ids, mask)
        real = (mask[:, :-1] * mask[:, 1:]).bool()
        d_lp = (lp - torch.tensor(b["logprobs"])).abs()[real].max().item()
        d_last = (last_logits - torch.tensor(b["last_logits"])).abs().max().item()
        print(f"  {side}: max |logprob diff| {d_lp:.3g}, max |last-token logit diff| {d_last:.3g}")
        worst = max(worst, d_lp, d_last)
    print(f"{type(model).__name__} ({model.config.model_type}, transformers {transformers.__version__}): "
          f"max |diff| {worst:.3g} (tolerance {args.tol}) -> {'OK' if worst <= args.tol else 'FAIL'}")
    return 0 if worst <= args.tol else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixtures")
    f.add_argument("--out", default=DEFAULT_OUT)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args()
    torch.manual_seed(0)
    return fixtures(args) if args.cmd == "fixtures" else check(args)


if __name__ == "__main__":
    sys.exit(main())
