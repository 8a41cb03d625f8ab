#!/usr/bin/env python3
"""Checkpoint-file fixtures for rlhf4j (sharded safetensors, bf16/fp16 weights, generation_config.json).

Reference: transformers 5.18.0 / huggingface_hub 1.33.0 / torch 2.13.0 (CPU). From the repository root:

    /work/venv-ref/bin/python scripts/checkpoint_fixture.py fixtures
        writes rlhf-core/src/test/resources/checkpoint-fixtures/ (read by ModelTensorsTest, CheckpointFixtureTest,
        HalfFloatsTest):
          gpt2/, gpt_neox/   tiny random GPT2LMHeadModel / GPTNeoXForCausalLM saved by transformers' own
                             save_pretrained: fp32 (one model.safetensors), fp32-sharded, bf16-sharded, fp16-sharded
                             (max_shard_size chosen so that each has 2 or 3 shards), and logits.json: the input ids
                             and the float32 logits of the fp32 model and of the bf16 / fp16 checkpoints loaded with
                             dtype=torch.float32 (the exactly widened weights);
          gpt2/fp32 also holds a generation_config.json with a list eos_token_id and sampling fields;
          edge-values.json   float32 bit patterns (edge cases + random values over many scales) and the bits of
                             torch's .to(torch.bfloat16) and .to(torch.float16) of each.
    /work/venv-ref/bin/python scripts/checkpoint_fixture.py verify DIR
        loads an rlhf4j-saved directory (any dtype, sharded or not) with AutoModelForCausalLM and compares its
        float32 logits with DIR/java_logits.json ({"ids": [[...]], "logits": [[[...]]]}, written by the Java side);
        prints the max |diff| and exits 1 above --tol (1e-4).

Deterministic: the models come from torch.manual_seed, so re-running rewrites the same tensors.
"""
import argparse
import copy
import json
import math
import os
import shutil
import struct
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, GenerationConfig, GPT2Config, GPT2LMHeadModel, GPTNeoXConfig
from transformers import GPTNeoXForCausalLM

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rlhf-core", "src", "test", "resources",
                   "checkpoint-fixtures")
VOCAB = 96
IDS = [[5, 17, 3, 88, 42, 0, 61, 7, 29, 95]]


def tiny_gpt2():
    torch.manual_seed(1234)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=16, n_layer=2, n_head=2, bos_token_id=VOCAB - 1,
                     eos_token_id=VOCAB - 1)
    return GPT2LMHeadModel(cfg).eval()


def tiny_neox():
    torch.manual_seed(4321)
    cfg = GPTNeoXConfig(vocab_size=VOCAB, max_position_embeddings=32, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=48, rotary_pct=0.5, bos_token_id=0, eos_token_id=0,
                        tie_word_embeddings=False)
    m = GPTNeoXForCausalLM(cfg).eval()
    with torch.no_grad():  # HF initialises LayerNorm to (1, 0) and biases to 0: perturb so the test sees them
        for name, p in m.named_parameters():
            if "layernorm" in name or "bias" in name or "final_layer_norm" in name:
                p.add_(0.05 * torch.randn_like(p))
    return m


def shard_count(directory):
    index = os.path.join(directory, "model.safetensors.index.json")
    if not os.path.exists(index):
        return 1
    with open(index) as f:
        return len(set(json.load(f)["weight_map"].values()))


def save_sharded(model, directory, fp32_bytes, dtype):
    """save_pretrained with the smallest max_shard_size (in 512-byte steps) that gives 3 shards, else 2."""
    m = copy.deepcopy(model).to(dtype)  # .to() converts in place: narrow a copy, keep the fp32 model exact
    total = fp32_bytes * (2 if dtype != torch.float32 else 4) // 4
    found = None
    for want in (3, 2):
        for size in range(total // 4, total, 512):
            shutil.rmtree(directory, ignore_errors=True)
            m.save_pretrained(directory, max_shard_size=size)
            if shard_count(directory) == want:
                found = want
                break
        if found:
            break
    assert found, directory
    return found


@torch.no_grad()
def logits_of(directory):
    m = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    return m(torch.tensor(IDS)).logits.float()


def write_model_fixtures(name, model):
    base = os.path.join(OUT, name)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    fp32 = os.path.join(base, "fp32")
    model.save_pretrained(fp32)  # one file: the default max_shard_size is far above this model
    assert shard_count(fp32) == 1
    nbytes = os.path.getsize(os.path.join(fp32, "model.safetensors"))
    shards = {}
    for tag, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
        shards[tag] = save_sharded(model, os.path.join(base, tag + "-sharded"), nbytes, dtype)
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "ids": IDS, "shards": shards}
    for tag, d in (("fp32", "fp32"), ("bf16", "bf16-sharded"), ("fp16", "fp16-sharded")):
        out["logits_" + tag] = logits_of(os.path.join(base, d)).tolist()
    with open(os.path.join(base, "logits.json"), "w") as f:
        json.dump(out, f)
    print(name, "shards", shards)


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def edge_values():
    specials = [0.0, -0.0, 1.0, -1.0, 2.0, 0.1, -0.1, 1 / 3, math.pi, -math.e, 1e-3, 123.456,
                float("inf"), float("-inf"), float("nan"),
                3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45,
                -1.401298464324817e-45, 5.877471754111438e-39,
                65504.0, -65504.0, 65519.0, 65519.99609375, 65520.0, -65520.0, 65536.0, 1e5, 1e-8,
                2 ** -14, 2 ** -14 * (1 - 2 ** -11), 2 ** -14 * (1 - 2 ** -12), 2 ** -24, 2 ** -25,
                2 ** -25 * 1.0000001, 3 * 2 ** -25, 5 * 2 ** -25, 2 ** -26, 1.5 * 2 ** -24, 6e-8, 6.1e-5]
    bits = [f32_bits(v) for v in specials]
    # bf16 and fp16 rounding ties (exactly half an ulp): even mantissas stay, odd ones round up
    for m in (1.0, 1.0 + 2 ** -7, 3.0, 1000.0):
        b = f32_bits(m)
        bits += [b | 0x8000, (b + 0x10000) | 0x8000, b | 0x8001, b | 0x7FFF, b | 0x1000, (b + 0x2000) | 0x1000,
                 b | 0x0FFF, b | 0x1001]
    bits += [0x7F7F8000, 0x7F7FFFFF, 0x7F7F7FFF, 0x00008000, 0x00018000, 0x80007FFF, 0x7FC00000, 0xFFC00000,
             0x7F800001, 0x7FA00000, 0x7FFFFFFF, 0x33000000, 0x33000001, 0x337FFFFF, 0x387FE000, 0x387FF000]
    g = torch.Generator().manual_seed(7)
    for scale in (1e-9, 1e-7, 1e-5, 1e-3, 0.02, 1.0, 50.0, 3e4, 7e4, 1e30):
        bits += [f32_bits(v) for v in (torch.randn(64, generator=g) * scale).tolist()]
    t = torch.tensor(bits, dtype=torch.int64).to(torch.int32).view(torch.float32)
    bf = t.to(torch.bfloat16).view(torch.int16).to(torch.int64) & 0xFFFF
    hf = t.to(torch.float16).view(torch.int16).to(torch.int64) & 0xFFFF
    # a scalar path too (one element at a time), which torch implements separately from the vectorised loop
    bf1 = [int(x.to(torch.bfloat16).view(torch.int16)) & 0xFFFF for x in t[:64]]
    hf1 = [int(x.to(torch.float16).view(torch.int16)) & 0xFFFF for x in t[:64]]
    out = {"torch": torch.__version__, "f32": bits, "bf16": bf.tolist(), "f16": hf.tolist(),
           "bf16_scalar_first64": bf1, "f16_scalar_first64": hf1}
    with open(os.path.join(OUT, "edge-values.json"), "w") as f:
        json.dump(out, f)
    print("edge values", len(bits))


def fixtures():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    g = tiny_gpt2()
    write_model_fixtures("gpt2", g)
    gen = GenerationConfig(bos_token_id=VOCAB - 1, eos_token_id=[VOCAB - 1, 7], pad_token_id=0, do_sample=True,
                           temperature=0.7, top_p=0.9, top_k=20, max_new_tokens=16, repetition_penalty=1.1)
    gen.save_pretrained(os.path.join(OUT, "gpt2", "fp32"))
    write_model_fixtures("gpt_neox", tiny_neox())
    edge_values()


@torch.no_grad()
def verify(directory, tol):
    with open(os.path.join(directory, "java_logits.json")) as f:
        ref = json.load(f)
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)
    files = sorted(p for p in os.listdir(directory) if p.startswith("model"))
    native = AutoModelForCausalLM.from_pretrained(directory, dtype="auto")
    print("files:", files)
    print("config dtype:", cfg.get("dtype"), "torch_dtype:", cfg.get("torch_dtype"), "loaded as", native.dtype)
    m = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    got = m(torch.tensor(ref["ids"])).logits.float()
    want = torch.tensor(ref["logits"])
    diff = (got - want).abs().max().item()
    print("max |logit diff| transformers vs rlhf4j:", diff)
    return 0 if diff <= tol else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fixtures")
    v = sub.add_parser("verify")
    v.add_argument("dir")
    v.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    if a.cmd == "fixtures":
        fixtures()
        return 0
    return verify(a.dir, a.tol)


if __name__ == "__main__":
    sys.exit(main())
