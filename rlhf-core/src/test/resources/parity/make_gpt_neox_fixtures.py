#!/usr/bin/env python3
"""Generates the GPT-NeoX parity fixtures (gpt-neox-tiny/, gpt-neox-tiny-sequential/) for GptNeoXParityTest.

An independent float64 PyTorch implementation of the Hugging Face GPTNeoXForCausalLM forward (eager attention path of
transformers' modeling_gpt_neox.py), written from the HF source, not from rlhf4j's Java code. Needs only torch and
numpy (Debian: apt-get install python3-torch python3-numpy); transformers and safetensors are not needed, the
safetensors files are written by hand. Deterministic: re-running rewrites byte-identical files.

    python3 make_gpt_neox_fixtures.py            # writes next to this script

Each fixture directory holds:
  config.json          HF GPTNeoXConfig fields
  model.safetensors    F32 weights with HF names (gpt_neox.*, embed_out.weight), nn.Linear weights [out, in]
  expected.safetensors input_ids [B, T] I64 (left padded with 0), attention_mask [B, T] I64, and
                       logits [B, T, V] F32 from the reference (rows at padding positions are 0: not compared)
"""

import json
import math
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------------------------------- safetensors

def write_safetensors(path, tensors):
    """Writes {name: numpy array} in the safetensors format (8-byte LE header length, JSON header, raw LE data)."""
    dtypes = {np.dtype("float32"): "F32", np.dtype("int64"): "I64", np.dtype("bool"): "BOOL"}
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):  # HF (safetensors.torch.save_file) also writes names sorted
        a = np.ascontiguousarray(tensors[name])
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------------------------------- reference

def gelu(x, act):
    if act == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if act in ("gelu_new", "gelu_fast", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    raise ValueError(act)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def linear(x, w, b=None):
    """torch.nn.Linear: y = x W^T + b, W stored [out, in]."""
    y = x @ w.T
    return y if b is None else y + b


def rotate_half(x):
    """HF rotate_half: the two halves of the rotary dims pair up (not adjacent elements)."""
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def neox_forward(cfg, p, input_ids, attention_mask):
    """Logits [B, T, V] of GPTNeoXForCausalLM, in float64, with HF generate()'s position ids for left padding."""
    bsz, t = input_ids.shape
    d = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    hd = d // nh
    rot = int(hd * cfg["rotary_pct"])
    eps = cfg["layer_norm_eps"]
    base = cfg.get("rotary_emb_base", cfg.get("rope_theta"))

    # HF prepare_inputs_for_generation: position_ids = cumsum(mask) - 1, padding positions filled with 1
    position_ids = attention_mask.long().cumsum(-1) - 1
    position_ids = position_ids.masked_fill(attention_mask == 0, 1)

    inv_freq = 1.0 / (base ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
    freqs = position_ids.to(torch.float64)[..., None] * inv_freq  # [B, T, rot/2]
    emb = torch.cat((freqs, freqs), dim=-1)[:, None, :, :]  # [B, 1, T, rot]
    cos, sin = emb.cos(), emb.sin()

    # causal mask (tril buffer) and padding mask as in HF eager attention (additive finfo.min)
    neg = torch.finfo(torch.float64).min
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))[None, None]
    pad_add = (1.0 - attention_mask[:, None, None, :].to(torch.float64)) * neg

    h = p["gpt_neox.embed_in.weight"][input_ids]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"gpt_neox.layers.{i}."
        g = lambda n: p.get(pre + n)
        ln1 = layer_norm(h, g("input_layernorm.weight"), g("input_layernorm.bias"), eps)
        qkv = linear(ln1, g("attention.query_key_value.weight"), g("attention.query_key_value.bias"))
        # [B, T, 3d] -> [B, T, nh, 3*hd]: per head, query, key and value are adjacent
        qkv = qkv.view(bsz, t, nh, 3 * hd)
        q = qkv[..., :hd].permute(0, 2, 1, 3)
        k = qkv[..., hd:2 * hd].permute(0, 2, 1, 3)
        v = qkv[..., 2 * hd:].permute(0, 2, 1, 3)
        q_rot, q_pass = q[..., :rot], q[..., rot:]
        k_rot, k_pass = k[..., :rot], k[..., rot:]
        q = torch.cat((q_rot * cos + rotate_half(q_rot) * sin, q_pass), dim=-1)
        k = torch.cat((k_rot * cos + rotate_half(k_rot) * sin, k_pass), dim=-1)
        scores = (q @ k.transpose(-1, -2)) * (hd ** -0.5)
        scores = torch.where(causal, scores, torch.tensor(neg, dtype=torch.float64))
        scores = scores + pad_add
        att = torch.softmax(scores, dim=-1)
        o = (att @ v).permute(0, 2, 1, 3).reshape(bsz, t, d)
        attn = linear(o, g("attention.dense.weight"), g("attention.dense.bias"))

        def mlp(x):
            u = gelu(linear(x, g("mlp.dense_h_to_4h.weight"), g("mlp.dense_h_to_4h.bias")), cfg["hidden_act"])
            return linear(u, g("mlp.dense_4h_to_h.weight"), g("mlp.dense_4h_to_h.bias"))

        if cfg["use_parallel_residual"]:
            h = mlp(layer_norm(h, g("post_attention_layernorm.weight"), g("post_attention_layernorm.bias"), eps)) \
                + attn + h
        else:
            a = attn + h
            h = mlp(layer_norm(a, g("post_attention_layernorm.weight"), g("post_attention_layernorm.bias"), eps)) + a
    h = layer_norm(h, p["gpt_neox.final_layer_norm.weight"], p["gpt_neox.final_layer_norm.bias"], eps)
    out = p["gpt_neox.embed_in.weight"] if cfg["tie_word_embeddings"] else p["embed_out.weight"]
    return linear(h, out)


# ---------------------------------------------------------------------------------------------------- fixtures

def random_weights(cfg, gen):
    """Random F32 weights with HF names; larger than HF's N(0, 0.02) init so the logits are far from uniform."""
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    bias = cfg["attention_bias"]

    def n(*shape, std):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).to(torch.float32)

    p = {"gpt_neox.embed_in.weight": n(v, d, std=1.0)}
    for i in range(cfg["num_hidden_layers"]):
        pre = f"gpt_neox.layers.{i}."
        for ln in ("input_layernorm", "post_attention_layernorm"):
            p[pre + ln + ".weight"] = 1.0 + n(d, std=0.1)
            p[pre + ln + ".bias"] = n(d, std=0.1)
        p[pre + "attention.query_key_value.weight"] = n(3 * d, d, std=d ** -0.5)
        p[pre + "attention.dense.weight"] = n(d, d, std=d ** -0.5)
        if bias:
            p[pre + "attention.query_key_value.bias"] = n(3 * d, std=0.1)
            p[pre + "attention.dense.bias"] = n(d, std=0.1)
        p[pre + "mlp.dense_h_to_4h.weight"] = n(f, d, std=d ** -0.5)
        p[pre + "mlp.dense_h_to_4h.bias"] = n(f, std=0.1)
        p[pre + "mlp.dense_4h_to_h.weight"] = n(d, f, std=f ** -0.5)
        p[pre + "mlp.dense_4h_to_h.bias"] = n(d, std=0.1)
    p["gpt_neox.final_layer_norm.weight"] = 1.0 + n(d, std=0.1)
    p["gpt_neox.final_layer_norm.bias"] = n(d, std=0.1)
    if not cfg["tie_word_embeddings"]:
        p["embed_out.weight"] = n(v, d, std=d ** -0.5)
    return p


def make(name, cfg, seed, legacy_buffers):
    gen = torch.Generator().manual_seed(seed)
    p = random_weights(cfg, gen)
    v = cfg["vocab_size"]
    lengths = [10, 7, 4]  # row 0 unpadded, rows 1 and 2 left padded
    t = max(lengths)
    ids = torch.zeros(len(lengths), t, dtype=torch.int64)
    mask = torch.zeros(len(lengths), t, dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, t - n:] = torch.randint(1, v, (n,), generator=gen)
        mask[b, t - n:] = 1
    logits = neox_forward(cfg, {k: x.to(torch.float64) for k, x in p.items()}, ids, mask)
    logits = (logits * mask[..., None]).to(torch.float32)

    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    tensors = {k: x.numpy() for k, x in p.items()}
    if legacy_buffers:
        # buffers that older transformers versions saved in state dicts; a loader must skip them
        mp = cfg["max_position_embeddings"]
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        rot = int(hd * cfg["rotary_pct"])
        for i in range(cfg["num_hidden_layers"]):
            pre = f"gpt_neox.layers.{i}.attention."
            tensors[pre + "bias"] = np.tril(np.ones((mp, mp), dtype=bool)).reshape(1, 1, mp, mp)
            tensors[pre + "masked_bias"] = np.array(-1e9, dtype=np.float32)
            tensors[pre + "rotary_emb.inv_freq"] = (
                1.0 / (cfg["rotary_emb_base"] ** (np.arange(0, rot, 2, dtype=np.float32) / rot))).astype(np.float32)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    write_safetensors(os.path.join(out, "expected.safetensors"),
                      {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "logits": logits.numpy()})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    print(name, "max |logit|", float(logits.abs().max()), "params", sum(x.numel() for x in p.values()))


BASE = {
    "architectures": ["GPTNeoXForCausalLM"],
    "model_type": "gpt_neox",
    "vocab_size": 64,
    "max_position_embeddings": 32,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "intermediate_size": 64,
    "layer_norm_eps": 1e-5,
    "bos_token_id": 0,
    "eos_token_id": 0,
    "initializer_range": 0.02,
    "use_cache": True,
    "torch_dtype": "float32",
    "transformers_version": "4.40.0",
}

if __name__ == "__main__":
    # Pythia's layout: parallel residual, exact GELU, rotary on a quarter of each 16-dim head, untied embed_out,
    # attention biases, legacy buffers in the file
    make("gpt-neox-tiny", dict(BASE, num_attention_heads=2, hidden_act="gelu", rotary_pct=0.25,
                               rotary_emb_base=10000, use_parallel_residual=True, tie_word_embeddings=False,
                               attention_bias=True), seed=1, legacy_buffers=True)
    # every other switch: sequential residual, tanh GELU, rotary on whole 8-dim heads with the newer field name
    # rope_theta and a non-default base, tied output projection, no attention biases
    make("gpt-neox-tiny-sequential", dict(BASE, num_attention_heads=4, hidden_act="gelu_fast", rotary_pct=1.0,
                                          rope_theta=500.0, use_parallel_residual=False, tie_word_embeddings=True,
                                          attention_bias=False), seed=2, legacy_buffers=False)
