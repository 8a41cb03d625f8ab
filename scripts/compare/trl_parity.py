#!/usr/bin/env python3
"""Side-by-side runs of TRL and rlhf4j on the same tiny Llama, the same rows and the same hyperparameters.

  trl_parity.py data OUT            bundled TL;DR rows -> OUT/{sft,pairs}.jsonl (TRL standard formats) + OUT/texts.txt
  trl_parity.py trl MODEL DATA OUT  TRL's SFTTrainer, RewardTrainer, DPOTrainer, 20 steps each -> OUT/trl.json
                                    (per-step loss, grad norm, DPO rewards/accuracies, RM accuracy) and OUT/rm-init/
                                    (the LlamaForSequenceClassification TRL starts from, its random score head included)
  trl_parity.py fixture DIR         the whole fixture: data, `./rlhf4j init` model, TRL runs, into DIR
                                    (rlhf-algorithms/src/test/resources/trl-parity, read by TrlParityTest)
  trl_parity.py cli DIR             the same runs through `./rlhf4j sft|reward|dpo --config` and a per-step table

Settings on both sides (see docs/parity.md): batch = all 8 rows (one update per epoch, so data order cannot matter;
TRL additionally gets a SequentialSampler), gradient accumulation 1, AdamW(0.9, 0.999, eps 1e-8, weight decay 0),
linear decay to 0 over 20 updates with no warm-up, global-norm clipping at 1.0, fp32, no dropout (Llama has none).
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TLDR = ROOT / "datasets/src/main/resources/org/rlhf4j/datasets/tldr"
STEPS = 20
ROWS = 8
HP = dict(sft_lr=1e-3, sft_weight_decay=1.0, rm_lr=3e-4, dpo_lr=1e-3, beta=0.1, max_grad_norm=1.0, eps=1e-8)


def words(text, n):
    return " ".join(text.split()[:n])


def split_prompt(prompt):
    """CarperAI prompt 'SUBREDDIT: r/x\\nTITLE: t\\nPOST: p\\nTL;DR: ' -> (subreddit, title, post)."""
    m = re.match(r"SUBREDDIT: (r/\S+)\nTITLE: (.*?)\nPOST: (.*)\nTL;DR:", prompt, re.S)
    return m.group(1), m.group(2), m.group(3)


def short_prompt(prompt):
    sub, title, post = split_prompt(prompt)
    return f"SUBREDDIT: {sub}\n\nTITLE: {words(title, 10)}\n\nPOST: {words(post, 24)}\n\nTL;DR:"


def make_data(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sft, pairs = [], []
    with open(TLDR / "carper-sft-train.jsonl") as f:
        for line in f:
            r = json.loads(line)
            sft.append({"prompt": short_prompt(r["prompt"]), "completion": " " + words(r["label"], 12)})
            if len(sft) == ROWS:
                break
    with open(TLDR / "carper-comparisons-train.jsonl") as f:
        for line in f:
            r = json.loads(line)
            strip = lambda t: " " + words(t.removeprefix("TL;DR:").strip(), 12)
            c, j = strip(r["chosen"]), strip(r["rejected"])
            if c == j:
                continue
            pairs.append({"prompt": short_prompt(r["prompt"] + "\nTL;DR: "), "chosen": c, "rejected": j})
            if len(pairs) == ROWS:
                break
    for name, rows in (("sft", sft), ("pairs", pairs)):
        with open(out / f"{name}.jsonl", "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    with open(out / "texts.txt", "w") as f:
        for r in sft:
            f.write(r["prompt"].replace("\n", " ") + r["completion"] + "\n")
        for r in pairs:
            f.write(r["prompt"].replace("\n", " ") + r["chosen"] + r["rejected"] + "\n")


def init_model(texts, out):
    subprocess.run([str(ROOT / "rlhf4j"), "init", "--arch", "llama", "--n-embd", "32", "--n-head", "4",
                    "--n-layer", "2", "--n-positions", "256", "--seed", "7", "--vocab-texts", str(texts),
                    "--out", str(out)], check=True)


def pad_token_for(tok):
    """A token that never occurs in the data: TRL's sequence classifier scores the last token != pad, so pad must not
    be EOS for it to score the EOS as rlhf4j does. The byte-level symbol of byte 0x01 is never produced by text."""
    return "ā"


def run_trl(model_dir, data_dir, out, threads=None):
    import torch
    from datasets import load_dataset
    from torch.utils.data import SequentialSampler
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer, TrainerCallback
    from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer, SFTConfig, SFTTrainer

    if threads:
        torch.set_num_threads(threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    common = dict(per_device_train_batch_size=ROWS, gradient_accumulation_steps=1, max_steps=STEPS,
                  lr_scheduler_type="linear", warmup_steps=0, adam_beta1=0.9, adam_beta2=0.999,
                  adam_epsilon=HP["eps"], weight_decay=0.0, max_grad_norm=HP["max_grad_norm"], optim="adamw_torch",
                  logging_steps=1, save_strategy="no", report_to="none", seed=0, use_cpu=True, bf16=False, fp16=False,
                  dataloader_num_workers=0, disable_tqdm=True)

    class Recorder(TrainerCallback):
        def __init__(self):
            self.logs = []

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "grad_norm" in logs:
                self.logs.append({"step": state.global_step, **{k: float(v) for k, v in logs.items()}})

    def sequential(cls):
        class Seq(cls):
            losses = []

            def _get_train_sampler(self, *a, **k):
                return SequentialSampler(self.train_dataset)

            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                r = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                         num_items_in_batch=num_items_in_batch)
                loss = r[0] if isinstance(r, tuple) else r
                if model.training:
                    self.losses.append(loss.item())
                return r
        return Seq

    result = {"steps": STEPS, "hyperparameters": HP}
    tok = AutoTokenizer.from_pretrained(model_dir)

    # --- SFT
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    ds = load_dataset("json", data_files=str(Path(data_dir) / "sft.jsonl"), split="train")
    rec = Recorder()
    T = sequential(SFTTrainer)
    T.losses = []
    tr = T(model=model, processing_class=tok, train_dataset=ds, callbacks=[rec],
           args=SFTConfig(output_dir=str(out / "tmp-sft"), learning_rate=HP["sft_lr"], **common))
    ids = [{"input_ids": r["input_ids"], "labels": r["labels"]} for r in tr.train_dataset]
    tr.train()
    result["sft"] = {"loss": T.losses, "grad_norm": [l["grad_norm"] for l in rec.logs],
                     "lr": [l["learning_rate"] for l in rec.logs], "encoded": ids}

    # --- SFT with weight decay 1.0: which parameters decay (transformers' get_decay_parameter_names) matters
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    rec = Recorder()
    T = sequential(SFTTrainer)
    T.losses = []
    tr = T(model=model, processing_class=tok, train_dataset=ds, callbacks=[rec],
           args=SFTConfig(output_dir=str(out / "tmp-sft"), learning_rate=HP["sft_lr"],
                          **{**common, "weight_decay": HP["sft_weight_decay"]}))
    tr.train()
    result["sft_weight_decay"] = {"loss": T.losses, "grad_norm": [l["grad_norm"] for l in rec.logs],
                                  "final_norm_weight": model.model.norm.weight.detach().tolist()}

    # --- reward model (TRL's random score head is saved so that rlhf4j starts from the same weights)
    torch.manual_seed(0)
    rm = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1, dtype=torch.float32)
    rtok = AutoTokenizer.from_pretrained(model_dir)
    rtok.pad_token = pad_token_for(rtok)
    rm.config.pad_token_id = rtok.pad_token_id
    if (out / "rm-init").exists():
        shutil.rmtree(out / "rm-init")
    rm.save_pretrained(out / "rm-init", safe_serialization=True)
    rtok.save_pretrained(out / "rm-init")
    pairs = load_dataset("json", data_files=str(Path(data_dir) / "pairs.jsonl"), split="train")
    rec = Recorder()
    T = sequential(RewardTrainer)
    T.losses = []
    tr = T(model=rm, processing_class=rtok, train_dataset=pairs, callbacks=[rec],
           args=RewardConfig(output_dir=str(out / "tmp-rm"), learning_rate=HP["rm_lr"], center_rewards_coefficient=None,
                             pad_token=rtok.pad_token, **common))
    tr.train()
    result["reward"] = {"loss": T.losses, "grad_norm": [l["grad_norm"] for l in rec.logs],
                        "accuracy": [l.get("accuracy") for l in rec.logs],
                        "margin": [l.get("margin") for l in rec.logs]}

    # --- DPO (reference = a frozen copy of the initial model)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    rec = Recorder()
    T = sequential(DPOTrainer)
    T.losses = []
    tr = T(model=model, processing_class=tok, train_dataset=pairs, callbacks=[rec],
           args=DPOConfig(output_dir=str(out / "tmp-dpo"), learning_rate=HP["dpo_lr"], beta=HP["beta"],
                          loss_type=["sigmoid"], **common))
    tr.train()
    pick = lambda k: [l.get(k) for l in rec.logs]
    result["dpo"] = {"loss": T.losses, "grad_norm": pick("grad_norm"), "rewards/chosen": pick("rewards/chosen"),
                     "rewards/rejected": pick("rewards/rejected"), "rewards/accuracies": pick("rewards/accuracies"),
                     "rewards/margins": pick("rewards/margins")}
    for d in ("tmp-sft", "tmp-rm", "tmp-dpo"):
        shutil.rmtree(out / d, ignore_errors=True)
    with open(out / "trl.json", "w") as f:
        json.dump(result, f, indent=1)
    return result


RL = dict(G=3, T=6, lengths=[6, 4, 5, 3, 6, 2], truncated=[4], rewards=[1.0, 0.2, -0.5, 0.7, 0.1, 0.9],
          temperature=0.7, lr=1e-3, grpo_beta=0.04, rloo_beta=0.05, ref_scale=0.5)


def run_rl_single_update(model_dir, data_dir, out):
    """One GRPO (dapo, β 0.04) and one RLOO (β 0.05) update from fixed completions, through TRL's own trainers.

    Both sides get the same 2 prompts × 3 completions (token ids fixed here, one truncated without EOS), the same
    rewards and a reference policy whose every weight is 0.5× the initial one (so that the KL terms are not 0).
    TRL's `_compute_loss` runs on the real model; then torch's clip_grad_norm_(1.0) and one torch.optim.AdamW step
    (what the Trainer does); the per-row completion log-probs after the update check the whole step."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer
    from trl.trainer.utils import nanstd

    tok = AutoTokenizer.from_pretrained(model_dir)
    eos = tok.eos_token_id
    prompts = [json.loads(l)["prompt"] for l in open(Path(data_dir) / "sft.jsonl")][:2]
    G, T = RL["G"], RL["T"]
    B = G * len(prompts)
    gen = torch.Generator().manual_seed(0)
    completion_ids = torch.full((B, T), eos, dtype=torch.long)
    completion_mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(RL["lengths"]):
        body = torch.randint(3, tok.vocab_size, (n,), generator=gen)
        body[body == eos] = 3
        if b not in RL["truncated"]:
            body[n - 1] = eos
        completion_ids[b, :n] = body
        completion_mask[b, :n] = 1
    enc = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    width = max(len(e) for e in enc)
    prompt_ids = torch.full((B, width), eos, dtype=torch.long)
    prompt_mask = torch.zeros(B, width, dtype=torch.long)
    for b in range(B):
        e = enc[b // G]
        prompt_ids[b, width - len(e):] = torch.tensor(e)
        prompt_mask[b, width - len(e):] = 1
    rewards = torch.tensor(RL["rewards"], dtype=torch.float32)
    ds = Dataset.from_list([{"prompt": p} for p in prompts])
    input_ids = torch.cat([prompt_ids, completion_ids], 1)
    attention = torch.cat([prompt_mask, completion_mask], 1)
    result = {"rl": RL, "prompts": prompts, "completion_ids": completion_ids.tolist(),
              "completion_mask": completion_mask.tolist(), "prompt_ids": [e for e in enc]}

    def models():
        torch.manual_seed(0)
        policy = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        ref = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        with torch.no_grad():
            for q in ref.parameters():
                q.mul_(RL["ref_scale"])
        ref.eval()
        return policy, ref

    def step(trainer, policy, inputs):
        policy.train()
        trainer.current_gradient_accumulation_steps = 1
        loss = trainer._compute_loss(policy, inputs)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        opt = torch.optim.AdamW(policy.parameters(), lr=RL["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        opt.step()
        with torch.no_grad():
            after = trainer._get_per_token_logps_and_entropies(policy, input_ids, attention, T)[0]
        met = {k: float(v[-1]) for k, v in trainer._metrics["train"].items() if v}
        return {"loss": loss.item(), "grad_norm": norm.item(), "metrics": met,
                "logps_after": (after * completion_mask).sum(1).tolist()}

    common = dict(per_device_train_batch_size=B, num_generations=G, max_completion_length=T,
                  temperature=RL["temperature"], learning_rate=RL["lr"], use_cpu=True, report_to="none",
                  save_strategy="no", bf16=False)
    reward_fn = lambda completions, **kw: [0.0] * len(completions)

    # --- GRPO (dapo: per-token loss summed over the batch / active tokens)
    policy, ref = models()
    tr = GRPOTrainer(model=policy, reward_funcs=reward_fn, processing_class=tok, train_dataset=ds,
                     args=GRPOConfig(output_dir=str(Path(out) / "tmp-grpo"), beta=RL["grpo_beta"], loss_type="dapo",
                                     **common))
    tr.ref_model = ref
    with torch.no_grad():
        ref_lp = tr._get_per_token_logps_and_entropies(ref, input_ids, attention, T)[0]
    # trl 1.13 _generate_and_score_completions, scale_rewards="group"
    mean = rewards.view(-1, G).mean(1).repeat_interleave(G)
    std = nanstd(rewards.view(-1, G), dim=1).repeat_interleave(G)
    adv = (rewards - mean) / (std + 1e-4)
    inputs = {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "completion_ids": completion_ids,
              "completion_mask": completion_mask, "advantages": adv, "ref_per_token_logps": ref_lp,
              "num_items_in_batch": completion_mask.sum()}
    result["grpo"] = {"advantages": adv.tolist(), **step(tr, policy, inputs)}

    # --- RLOO (KL in the reward, leave-one-out baseline, sequence-level ratio)
    policy, ref = models()
    tr = RLOOTrainer(model=policy, reward_funcs=reward_fn, processing_class=tok, train_dataset=ds,
                     args=RLOOConfig(output_dir=str(Path(out) / "tmp-rloo"), beta=RL["rloo_beta"], **common))
    tr.ref_model = ref
    with torch.no_grad():
        old = tr._get_per_token_logps_and_entropies(policy, input_ids, attention, T)[0]
        ref_lp = tr._get_per_token_logps_and_entropies(ref, input_ids, attention, T)[0]
    kl_seq = ((old - ref_lp) * completion_mask).sum(-1)
    r = rewards - RL["rloo_beta"] * kl_seq
    grouped = r.view(-1, G)
    baseline = ((grouped.sum(1, keepdim=True) - grouped) / (G - 1)).view(-1)
    adv = r - baseline
    inputs = {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "completion_ids": completion_ids,
              "completion_mask": completion_mask, "advantages": adv,
              "old_logps": (old * completion_mask).sum(1)}
    result["rloo"] = {"advantages": adv.tolist(), "sequence_kl": kl_seq.tolist(), **step(tr, policy, inputs)}
    for d in ("tmp-grpo", "tmp-rloo"):
        shutil.rmtree(Path(out) / d, ignore_errors=True)
    with open(Path(out) / "trl-rl.json", "w") as f:
        json.dump(result, f, indent=1)
    return result


def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1


def bench(algo, model_dir, data_dir, steps, threads=2):
    """TRL's side of bench.sh: the same settings as Throughput.java; prints one JSON line."""
    import time
    import torch
    from datasets import Dataset, load_dataset
    from torch.utils.data import SequentialSampler
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer, TrainerCallback
    from trl import (DPOConfig, DPOTrainer, GRPOConfig, GRPOTrainer, RewardConfig, RewardTrainer, RLOOConfig,
                     RLOOTrainer, SFTConfig, SFTTrainer)

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    stamps = []

    class Timer(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            stamps.append(time.perf_counter())

    out = Path("/tmp/trl-bench-" + algo)
    common = dict(gradient_accumulation_steps=1, max_steps=steps, lr_scheduler_type="linear", learning_rate=1e-4,
                  adam_epsilon=1e-8, max_grad_norm=1.0, optim="adamw_torch", logging_steps=10**6,
                  save_strategy="no", report_to="none", use_cpu=True, bf16=False, disable_tqdm=True,
                  output_dir=str(out))
    tok = AutoTokenizer.from_pretrained(model_dir)
    data_dir = Path(data_dir)
    sft = load_dataset("json", data_files=str(data_dir / "sft.jsonl"), split="train")
    pairs = load_dataset("json", data_files=str(data_dir / "pairs.jsonl"), split="train")
    prompts = Dataset.from_list([{"prompt": r["prompt"]} for r in sft])
    length_reward = lambda completions, **kw: [float(len(c)) for c in completions]
    units, unit = 8, "pairs"
    if algo == "generate":
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        tok.padding_side = "left"
        tok.pad_token = tok.pad_token or tok.eos_token
        enc = tok([r["prompt"] for r in sft][:8], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            for s in range(steps + 1):
                model.generate(**enc, max_new_tokens=64, min_new_tokens=64, do_sample=True, temperature=1.0,
                               top_k=0, top_p=1.0, pad_token_id=tok.pad_token_id)
                stamps.append(time.perf_counter())
        units, unit = 8 * 64, "new tokens"
    else:
        if algo == "sft":
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
            cls, args = SFTTrainer, SFTConfig(per_device_train_batch_size=8, **common)
            kw = dict(train_dataset=sft)
        elif algo == "reward":
            model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1, dtype=torch.float32)
            cls, args = RewardTrainer, RewardConfig(per_device_train_batch_size=8, pad_token=pad_token_for(tok),
                                                    **common)
            kw = dict(train_dataset=pairs)
        elif algo == "dpo":
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
            cls, args = DPOTrainer, DPOConfig(per_device_train_batch_size=8, beta=0.1, **common)
            kw = dict(train_dataset=pairs)
        elif algo in ("grpo", "rloo"):
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
            rl = dict(per_device_train_batch_size=8, num_generations=4, max_completion_length=32, temperature=1.0,
                      **common)
            cls, args = ((GRPOTrainer, GRPOConfig(beta=0.04, **rl)) if algo == "grpo"
                         else (RLOOTrainer, RLOOConfig(beta=0.05, **rl)))
            kw = dict(train_dataset=prompts, reward_funcs=length_reward)
            units, unit = 8, "episodes"
        else:
            sys.exit("unknown algo " + algo)

        class Seq(cls):
            if algo in ("sft", "reward", "dpo"):
                def _get_train_sampler(self, *a, **k):
                    return SequentialSampler(self.train_dataset)

        tr = Seq(model=model, processing_class=tok, args=args, callbacks=[Timer()], **kw)
        if algo == "sft":
            units = sum(len(r["input_ids"]) for r in tr.train_dataset.select(range(8)))
            unit = "tokens"
        tr.train()
        shutil.rmtree(out, ignore_errors=True)
    d = sorted(b - a for a, b in zip(stamps, stamps[1:]))
    t = d[len(d) // 2]
    print(json.dumps({"side": "trl", "algo": algo, "median_step_s": round(t, 4), "units": units, "unit": unit,
                      "per_s": round(units / t, 2), "peak_rss_mb": peak_rss_mb()}))


def table(path):
    """Markdown table of bench.sh results: medians over the repetitions, rlhf4j/TRL throughput ratio."""
    import statistics
    rows = []
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue  # a failed run (e.g. the CLI rebuilding) leaves an incomplete line
        if "per_s" in r:
            rows.append(r)
    keys = []
    for r in rows:
        if (r["shape"], r["algo"]) not in keys:
            keys.append((r["shape"], r["algo"]))
    print("| shape | measure | rlhf4j | TRL | rlhf4j/TRL | rlhf4j s/update | TRL s/update | peak RSS MB rlhf4j / TRL | load1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape, algo in keys:
        side = {s: [r for r in rows if (r["shape"], r["algo"], r["side"]) == (shape, algo, s)] for s in ("rlhf4j", "trl")}
        if not side["rlhf4j"] or not side["trl"]:
            continue
        med = {s: statistics.median(r["per_s"] for r in v) for s, v in side.items()}
        st = {s: statistics.median(r["median_step_s"] for r in v) for s, v in side.items()}
        mem = {s: max(r["peak_rss_mb"] for r in v) for s, v in side.items()}
        loads = [r["load1"] for v in side.values() for r in v]
        unit = side["rlhf4j"][0]["unit"]
        print(f"| {shape} | {algo} {unit}/s | {med['rlhf4j']:.1f} | {med['trl']:.1f} | {med['rlhf4j'] / med['trl']:.2f} | "
              f"{st['rlhf4j']:.3f} | {st['trl']:.3f} | {mem['rlhf4j']} / {mem['trl']} | {min(loads):.1f}–{max(loads):.1f} |")


def rlhf4j_warmup_cosine(peak_steps, warmup):
    """rlhf4j's LrSchedule.Cosine factor for update s (0-based): (s+1)/w during warm-up, then cosine to 0."""
    import math

    def f(s):
        if s < warmup:
            return (s + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warmup) / max(1, peak_steps - warmup))))
    return f


def cli(out):
    """The same SFT and DPO runs end to end through `./rlhf4j sft|dpo --config` (tiny preset: SFT cosine after 5
    warm-up updates, DPO constant, AdamW eps 1e-8) and through TRL with those settings (TRL gets rlhf4j's warm-up
    rule through a LambdaLR, see docs/parity.md difference 2); prints the per-step losses side by side."""
    import torch
    from datasets import load_dataset
    from torch.utils.data import SequentialSampler
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    out = Path(out).resolve()
    fix = ROOT / "rlhf-algorithms/src/test/resources/trl-parity"
    model_dir = fix / "model"
    out.mkdir(parents=True, exist_ok=True)
    runs = {"sft": dict(data=str(fix / "sft.jsonl"), lr=1e-3), "dpo": dict(data=str(fix / "pairs.jsonl"), lr=1e-3)}
    ours = {}
    for algo, r in runs.items():
        cfg = out / f"{algo}.yaml"
        cfg.write_text(f"model: {model_dir}\ndata: {r['data']}\nepochs: {STEPS}\nbatch-size: {ROWS}\n"
                       f"micro-batch-size: {ROWS}\nlr: {r['lr']}\nseed: 0\neval-steps: 0\nsave-steps: 0\n")
        subprocess.run([str(ROOT / "rlhf4j"), algo, "--config", str(cfg), "--out", str(out / algo), "--overwrite"],
                       check=True, stdout=subprocess.DEVNULL)
        rows = [json.loads(l) for l in open(out / algo / "metrics.jsonl")]
        ours[algo] = [x.get("train/loss", x.get("loss")) for x in rows if "train/lr" in x]
    tok = AutoTokenizer.from_pretrained(model_dir)
    theirs = {}
    for algo, r in runs.items():
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        ds = load_dataset("json", data_files=r["data"], split="train")
        common = dict(output_dir=str(out / f"trl-{algo}"), per_device_train_batch_size=ROWS, max_steps=STEPS,
                      learning_rate=r["lr"], adam_epsilon=1e-8, weight_decay=0.0, max_grad_norm=1.0,
                      optim="adamw_torch", logging_steps=1, save_strategy="no", report_to="none", use_cpu=True,
                      disable_tqdm=True, lr_scheduler_type="constant", bf16=False, fp16=False, seed=0)
        cls, args = (SFTTrainer, SFTConfig(**common)) if algo == "sft" else (DPOTrainer, DPOConfig(beta=0.1, **common))
        losses = []

        class T(cls):
            def _get_train_sampler(self, *a, **k):
                return SequentialSampler(self.train_dataset)

            def create_scheduler(self, num_training_steps, optimizer=None):
                if algo == "sft":  # the tiny preset's cosine after 5 warm-up updates, rlhf4j's warm-up rule
                    self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                        optimizer or self.optimizer, rlhf4j_warmup_cosine(STEPS, 5))
                    return self.lr_scheduler
                return super().create_scheduler(num_training_steps, optimizer)

            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                res = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                           num_items_in_batch=num_items_in_batch)
                losses.append((res[0] if isinstance(res, tuple) else res).item())
                return res

        T(model=model, processing_class=tok, args=args, train_dataset=ds).train()
        theirs[algo] = losses
        shutil.rmtree(out / f"trl-{algo}", ignore_errors=True)
    for algo in runs:
        print(f"\n{algo}: ./rlhf4j {algo} --config {out / (algo + '.yaml')} vs TRL")
        print("| step | rlhf4j | TRL | \\|diff\\| |\n|---|---|---|---|")
        for i, (a, b) in enumerate(zip(ours[algo], theirs[algo])):
            print(f"| {i + 1} | {a:.6f} | {b:.6f} | {abs(a - b):.1e} |")
        print(f"max |diff| {max(abs(a - b) for a, b in zip(ours[algo], theirs[algo])):.2e} over "
              f"{min(len(ours[algo]), len(theirs[algo]))} steps")


def fixture(out):
    out = Path(out)
    make_data(out)
    if (out / "model").exists():
        shutil.rmtree(out / "model")
    init_model(out / "texts.txt", out / "model")
    run_trl(out / "model", out, out)
    run_rl_single_update(out / "model", out, out)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "data":
        make_data(sys.argv[2])
    elif cmd == "trl":
        run_trl(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "rl":
        run_rl_single_update(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "bench":
        bench(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "table":
        table(sys.argv[2])
    elif cmd == "cli":
        cli(sys.argv[2])
    elif cmd == "fixture":
        fixture(sys.argv[2])
    else:
        sys.exit(__doc__)
