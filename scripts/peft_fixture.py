#!/usr/bin/env python3
"""PEFT LoRA fixtures for rlhf4j (PeftParityTest), and a check of adapters saved by rlhf4j.

  fixtures [--out DIR]     build tiny random base models with transformers (a Llama with GQA, a GPT-2 whose layers
                           are Conv1D, a GPT-NeoX) saved under DIR/<base>/ (default
                           rlhf-core/src/test/resources/peft-fixtures), and LoRA adapters made by PEFT's
                           get_peft_model on them with non-zero B (both matrices redrawn), saved by save_pretrained
                           under DIR/<adapter>/ with base_model_name_or_path "../<base>" and expected.json: a
                           right-padded and a left-padded batch, the PeftModel's next-token log-probabilities and
                           last-token logits, and the same for merge_and_unload(); and a SEQ_CLS adapter (LoRA +
                           the score head as modules_to_save) on the Llama with its per-position values
  check DIR [--tol T]      load an adapter directory written by rlhf4j with PeftModel.from_pretrained over the base its
                           adapter_config.json names (relative to DIR) and compare with the outputs rlhf4j wrote to
                           DIR/rlhf4j_expected.json: log-probabilities and last-token logits for CAUSAL_LM adapters,
                           per-position scalar values (the score head, a modules_to_save copy) for SEQ_CLS adapters;
                           prints the max |diff|, exit 1 above --tol (1e-4)

Positions are passed explicitly as rlhf4j derives them, clamp(cumsum(mask) - 1, 0), and attention is eager.
Deterministic for a given torch version. Needs torch, transformers, peft (see scripts/README.md); never needed by
the Maven build.
"""
import argparse
import json
import os
import shutil
import sys

import peft
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "rlhf-core", "src", "test", "resources", "peft-fixtures")

V = 96
T = 10

BASES = {
    # GQA: 4 query heads, 2 KV heads (v_proj out 16 != hidden 32)
    "llama": transformers.LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                                      bos_token_id=1, eos_token_id=2, tie_word_embeddings=False),
    "gpt2": transformers.GPT2Config(vocab_size=V, n_embd=32, n_layer=2, n_head=4, n_positions=32, bos_token_id=1,
                                    eos_token_id=2),
    "gpt_neox": transformers.GPTNeoXConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                           num_attention_heads=4, max_position_embeddings=64, rotary_pct=0.5,
                                           bos_token_id=1, eos_token_id=2, tie_word_embeddings=False),
}

# adapter -> (base, LoraConfig kwargs)
ADAPTERS = {
    "llama-qv": ("llama", dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])),
    "llama-all-rslora": ("llama", dict(r=4, lora_alpha=6, target_modules="all-linear", use_rslora=True,
                                       lora_dropout=0.1)),
    "gpt2-c_attn": ("gpt2", dict(r=4, lora_alpha=16, target_modules=["c_attn"])),
    "gpt_neox-qkv-mlp": ("gpt_neox", dict(r=2, lora_alpha=4, target_modules=["query_key_value", "dense_4h_to_h"])),
    # per-module rank and alpha (rank_pattern / alpha_pattern, PEFT regex keys)
    "llama-patterns": ("llama", dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                                     rank_pattern={"v_proj": 2}, alpha_pattern={"layers.1.self_attn.q_proj": 16})),
}

# SEQ_CLS adapters (reward model / critic as adapter + score head over the causal LM): adapter -> (base, kwargs)
SEQ_CLS_ADAPTERS = {
    "llama-seqcls": ("llama", dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])),
}


def positions(mask):
    return (mask.cumsum(-1) - 1).clamp(min=0)


def batches(gen):
    """A right-padded and a left-padded batch of 3 rows (lengths T, T-3, T-6)."""
    lengths = [T, T - 3, T - 6]
    out = {}
    for side in ("right", "left"):
        ids = torch.randint(3, V, (3, T), generator=gen)
        mask = torch.zeros(3, T, dtype=torch.long)
        for b, n in enumerate(lengths):
            if side == "right":
                mask[b, :n] = 1
            else:
                mask[b, T - n:] = 1
        ids = torch.where(mask.bool(), ids, torch.zeros_like(ids))
        out[side] = (ids, mask)
    return out


def lm_outputs(model, ids, mask):
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask)).logits.float()
    lp = torch.log_softmax(logits[:, :-1], dim=-1).gather(2, ids[:, 1:, None])[..., 0]
    last = mask.shape[1] - 1 - mask.flip(1).argmax(1)
    return lp, logits[torch.arange(ids.shape[0]), last]


def round_floats(x):
    if isinstance(x, float):
        return float(f"{x:.8g}")
    if isinstance(x, list):
        return [round_floats(v) for v in x]
    if isinstance(x, dict):
        return {k: round_floats(v) for k, v in x.items()}
    return x


def perturb(model, gen, lora_only=False):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if lora_only and "lora_" not in name:
                continue
            if "lora_A" in name or "lora_B" in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            elif name.endswith("norm.weight") or ".ln_" in name and name.endswith("weight") or \
                    "layernorm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.25 * torch.randn(p.shape, generator=gen))


def keep_only(d, names):
    for f in os.listdir(d):
        if f not in names:
            os.remove(os.path.join(d, f))


def fixtures(args):
    os.makedirs(args.out, exist_ok=True)
    for i, (name, cfg) in enumerate(BASES.items()):
        gen = torch.Generator().manual_seed(2000 + i)
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32).eval()
        perturb(model, gen)
        d = os.path.join(args.out, name)
        shutil.rmtree(d, ignore_errors=True)
        model.save_pretrained(d)
        keep_only(d, {"config.json", "model.safetensors"})
        print(f"{name}: {type(model).__name__}, {sum(p.numel() for p in model.parameters())} parameters")
    for i, (name, (base_name, kw)) in enumerate(ADAPTERS.items()):
        gen = torch.Generator().manual_seed(3000 + i)
        base = AutoModelForCausalLM.from_pretrained(os.path.join(args.out, base_name), attn_implementation="eager",
                                                    dtype=torch.float32).eval()
        model = get_peft_model(base, LoraConfig(task_type="CAUSAL_LM", **kw)).eval()
        perturb(model, gen, lora_only=True)
        d = os.path.join(args.out, name)
        shutil.rmtree(d, ignore_errors=True)
        model.save_pretrained(d)
        keep_only(d, {"adapter_config.json", "adapter_model.safetensors"})
        with open(os.path.join(d, "adapter_config.json")) as f:
            cfg = json.load(f)
        cfg["base_model_name_or_path"] = "../" + base_name
        if isinstance(cfg["target_modules"], list):  # PEFT saves a set: sort it so reruns write the same file
            cfg["target_modules"] = sorted(cfg["target_modules"])
        with open(os.path.join(d, "adapter_config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")
        expected = {"generator": "scripts/peft_fixture.py fixtures", "peft": peft.__version__,
                    "transformers": transformers.__version__, "torch": torch.__version__, "case": name,
                    "base": base_name, "batches": {}}
        bs = batches(gen)
        for side, (ids, mask) in bs.items():
            lp, last = lm_outputs(model, ids, mask)
            expected["batches"][side] = {"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                                         "logprobs": lp.tolist(), "last_logits": last.tolist()}
        merged = model.merge_and_unload().eval()
        for side, (ids, mask) in bs.items():
            lp, last = lm_outputs(merged, ids, mask)
            expected["batches"][side]["merged_logprobs"] = lp.tolist()
            expected["batches"][side]["merged_last_logits"] = last.tolist()
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(round_floats(expected), f, separators=(",", ":"))
            f.write("\n")
        print(f"{name}: adapter on {base_name}, {kw}")
    seq_cls_fixtures(args)


def seq_cls_values(model, ids, mask):
    """Per-position scalar values of a SEQ_CLS PeftModel: the adapted trunk, then the (modules_to_save) score."""
    inner = model.base_model.model
    trunk = getattr(inner, inner.base_model_prefix)
    with torch.no_grad():
        h = trunk(input_ids=ids, attention_mask=mask, position_ids=positions(mask)).last_hidden_state
        return inner.score(h)[..., 0]


def seq_cls_fixtures(args):
    for i, (name, (base_name, kw)) in enumerate(SEQ_CLS_ADAPTERS.items()):
        gen = torch.Generator().manual_seed(4000 + i)
        base = AutoModelForSequenceClassification.from_pretrained(os.path.join(args.out, base_name), num_labels=1,
                                                                  attn_implementation="eager", dtype=torch.float32)
        model = get_peft_model(base, LoraConfig(task_type="SEQ_CLS", **kw)).eval()
        perturb(model, gen, lora_only=True)
        with torch.no_grad():
            model.base_model.model.score.modules_to_save["default"].weight.copy_(
                0.3 * torch.randn(model.base_model.model.score.modules_to_save["default"].weight.shape,
                                  generator=gen))
        d = os.path.join(args.out, name)
        shutil.rmtree(d, ignore_errors=True)
        model.save_pretrained(d)
        keep_only(d, {"adapter_config.json", "adapter_model.safetensors"})
        with open(os.path.join(d, "adapter_config.json")) as f:
            cfg = json.load(f)
        cfg["base_model_name_or_path"] = "../" + base_name
        if isinstance(cfg["target_modules"], list):  # PEFT saves a set: sort it so reruns write the same file
            cfg["target_modules"] = sorted(cfg["target_modules"])
        with open(os.path.join(d, "adapter_config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")
        expected = {"generator": "scripts/peft_fixture.py fixtures", "peft": peft.__version__,
                    "transformers": transformers.__version__, "torch": torch.__version__, "case": name,
                    "base": base_name, "batches": {}}
        for side, (ids, mask) in batches(gen).items():
            expected["batches"][side] = {"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                                         "values": seq_cls_values(model, ids, mask).tolist()}
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(round_floats(expected), f, separators=(",", ":"))
            f.write("\n")
        print(f"{name}: SEQ_CLS adapter on {base_name}, {kw}")


def check(args):
    with open(os.path.join(args.dir, "rlhf4j_expected.json")) as f:
        java = json.load(f)
    with open(os.path.join(args.dir, "adapter_config.json")) as f:
        cfg = json.load(f)
    base_dir = cfg["base_model_name_or_path"]
    if not os.path.isabs(base_dir):
        base_dir = os.path.join(args.dir, base_dir)
    task = cfg.get("task_type")
    worst = 0.0
    if task == "SEQ_CLS":
        base = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=1, attn_implementation="eager",
                                                                  dtype=torch.float32)
        model = PeftModel.from_pretrained(base, args.dir).eval()
        for side, b in java["batches"].items():
            ids = torch.tensor(b["input_ids"])
            mask = torch.tensor(b["attention_mask"])
            values = seq_cls_values(model, ids, mask)
            d = (values - torch.tensor(b["values"])).abs()[mask.bool()].max().item()
            print(f"  {side}: max |value diff| {d:.3g}")
            worst = max(worst, d)
    else:
        base = AutoModelForCausalLM.from_pretrained(base_dir, attn_implementation="eager", dtype=torch.float32)
        model = PeftModel.from_pretrained(base, args.dir).eval()
        for side, b in java["batches"].items():
            ids = torch.tensor(b["input_ids"])
            mask = torch.tensor(b["attention_mask"])
            lp, last = lm_outputs(model, ids, mask)
            real = (mask[:, :-1] * mask[:, 1:]).bool()
            d_lp = (lp - torch.tensor(b["logprobs"])).abs()[real].max().item()
            d_last = (last - torch.tensor(b["last_logits"])).abs().max().item()
            print(f"  {side}: max |logprob diff| {d_lp:.3g}, max |last-token logit diff| {d_last:.3g}")
            worst = max(worst, d_lp, d_last)
    print(f"{args.dir}: PeftModel {task} on {type(base).__name__} (peft {peft.__version__}, transformers "
          f"{transformers.__version__}): max |diff| {worst:.3g} (tolerance {args.tol}) -> "
          f"{'OK' if worst <= args.tol else 'FAIL'}")
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
