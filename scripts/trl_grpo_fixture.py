#!/usr/bin/env python3
"""Writes GRPO and RLOO loss fixtures computed by TRL's own code, for rlhf-algorithms' GrpoLossesTest/RlooLossesTest.

Reference: trl 1.13.0 (CPU torch). Setup, from the repository root:

    python3 -m venv .venv-ref
    .venv-ref/bin/pip install --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple \
        torch transformers trl==1.13.0
    .venv-ref/bin/python scripts/trl_grpo_fixture.py

What is TRL's code and what is replicated:
- Losses: ``GRPOTrainer._compute_loss`` and ``RLOOTrainer._compute_loss`` are CALLED unchanged, as unbound
  functions with a stub ``self`` that holds the config fields they read and whose
  ``_get_per_token_logps_and_entropies`` returns our fixed per-token log-probs (a leaf tensor with
  ``requires_grad``) instead of running a model. Loss value, d loss / d logps and the logged metrics come from there.
- Advantages: they are computed inside ``_generate_and_score_completions``, which needs a model, tokenizer and
  reward functions, so the lines that matter are replicated below from trl 1.13.0 (GRPO: the
  ``multi_objective_aggregation == "sum_then_normalize"`` branch; RLOO: KL-in-reward, leave-one-out baseline,
  ``normalize_advantages``), using TRL's own ``nanstd``. The same holds for ``mask_truncated_completions`` (the
  ``is_truncated`` lines) and, for dapo, ``num_items_in_batch = loss_mask.sum()`` (one process).
Setting: one process, gradient_accumulation_steps = steps_per_generation = 1, training mode, token-level importance
sampling, no vLLM, no entropy masking, no off-policy mask, delta = None.
"""
import itertools
import json
import math
import os
from collections import defaultdict
from types import SimpleNamespace

import torch
import trl
from trl.trainer.grpo_trainer import GRPOTrainer
from trl.trainer.rloo_trainer import RLOOTrainer
from trl.trainer.utils import nanstd

assert trl.__version__ == "1.13.0", trl.__version__

OUT = os.path.join(os.path.dirname(__file__), "..", "rlhf-algorithms", "src", "test", "resources", "trl-fixtures")
EOS, PAD = 2, 0
G = 3  # generations per prompt; 2 prompts -> B = 6
B, T = 6, 5
MAX_COMPLETION_LENGTH = 7  # dr_grpo's constant; deliberately != T so a test cannot pass by using T

torch.manual_seed(0)
lengths = [5, 3, 4, 2, 5, 1]
truncated_rows = {4}  # row 4 reaches T without EOS; row 0 also has length T but ends with EOS
completion_ids = torch.full((B, T), PAD, dtype=torch.long)
for b, n in enumerate(lengths):
    completion_ids[b, :n] = torch.randint(3, 50, (n,))
    if b not in truncated_rows:
        completion_ids[b, n - 1] = EOS
completion_ids_list = [completion_ids[b, : lengths[b]].tolist() for b in range(B)]
completion_mask = torch.zeros(B, T, dtype=torch.long)
for b, n in enumerate(lengths):
    completion_mask[b, :n] = 1

logp = -(torch.rand(B, T) * 2.5 + 0.1)  # current log-probs (padding holds finite garbage: TRL multiplies by the mask)
old_logp = logp + torch.randn(B, T) * 0.3  # mu > 1: the generation-time policy differs from the current one
ref_logp = logp + torch.randn(B, T) * 0.5
entropies = torch.rand(B, T) * 3.0

REWARD_SETS = {
    "distinct": [1.0, 0.0, 0.5, 0.3, 0.9, -0.6],
    "equal_group": [1.0, 0.0, 0.5, 0.4, 0.4, 0.4],
    "with_nan": [1.0, float("nan"), 0.5, 0.3, 0.9, -0.6],
}


def f32list(t):
    return [float(x) for x in t.to(torch.float32).flatten().tolist()]


def rows(t):
    return [[float(x) for x in r] for r in t.to(torch.float32).tolist()]


def is_truncated():
    # trl 1.13.0 GRPOTrainer/RLOOTrainer._generate_and_score_completions (mask_truncated_completions)
    eos_and_pad = [EOS, PAD]
    return torch.tensor([ids[-1] not in eos_and_pad for ids in completion_ids_list])


def masked_completion_mask(mask_truncated):
    if not mask_truncated:
        return completion_mask.clone()
    return completion_mask * (~is_truncated()).unsqueeze(1).int()


# ---- GRPO ---------------------------------------------------------------------------------------------------------


def grpo_advantages(rewards_list, scale_rewards, num_generations=G):
    """trl 1.13.0 GRPOTrainer._generate_and_score_completions, sum_then_normalize branch (one reward function)."""
    rewards = torch.tensor(rewards_list, dtype=torch.float32)
    mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)
    mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
    if scale_rewards in ["group", "none"]:
        if num_generations > 1:
            std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
            std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
        else:
            std_rewards = torch.zeros_like(rewards)
    elif scale_rewards == "batch":
        if rewards.numel() > 1:
            std_rewards = nanstd(rewards).expand_as(rewards)
        else:
            std_rewards = torch.zeros_like(rewards)
    advantages = rewards - mean_grouped_rewards
    if scale_rewards != "none":
        advantages = advantages / (std_rewards + 1e-4)
    is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
    advantages = torch.nan_to_num(advantages, nan=0.0)
    return advantages, is_std_zero.float().mean().item()


class _Accel:
    num_processes = 1
    sync_gradients = True

    @staticmethod
    def gather(x):
        return x

    @staticmethod
    def reduce(x, reduction="sum"):
        return x

    @staticmethod
    def gather_for_metrics(x):
        return x


def grpo_stub(loss_type, beta, eps_low, eps_high, entropy_coef, current):
    s = SimpleNamespace()
    s.aux_loss_enabled = False
    s.top_entropy_quantile = 1.0
    s.off_policy_mask_threshold = None
    s.importance_sampling_level = "token"
    s.beta = beta
    s.loss_type = loss_type
    s.epsilon_low = eps_low
    s.epsilon_high = eps_high
    s.use_vllm = False
    s.vllm_importance_sampling_correction = False
    s.model = SimpleNamespace(training=True)
    s.current_gradient_accumulation_steps = 1
    s.accelerator = _Accel()
    s.max_completion_length = MAX_COMPLETION_LENGTH
    s.entropy_coef = entropy_coef
    s.use_adaptive_entropy = False
    s._entropy_bonus_enabled = entropy_coef != 0.0
    s._last_world_entropy = float("inf")
    s._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    s.args = SimpleNamespace(use_bias_correction_kl=True, delta=None, steps_per_generation=1)
    s._get_per_token_logps_and_entropies = lambda *a, **k: (current, entropies.clone(), None)
    return s


def grpo_case(loss_type, scale_rewards, mask_truncated, beta, mu, eps_high, entropy_coef=0.0, rewards="distinct"):
    eps_low = 0.2
    advantages, frac_zero = grpo_advantages(REWARD_SETS[rewards], scale_rewards)
    mask = masked_completion_mask(mask_truncated)
    current = logp.clone().requires_grad_(True)
    inputs = {
        "prompt_ids": torch.zeros(B, 1, dtype=torch.long),
        "prompt_mask": torch.ones(B, 1, dtype=torch.long),
        "completion_ids": completion_ids,
        "completion_mask": mask,
        "advantages": advantages,
        "num_items_in_batch": mask.sum(),  # trl: gather(loss_mask.sum()).sum(), one process
    }
    if mu > 1:
        inputs["old_per_token_logps"] = old_logp
    if beta != 0.0:
        inputs["ref_per_token_logps"] = ref_logp
    stub = grpo_stub(loss_type, beta, eps_low, eps_high, entropy_coef, current)
    loss = GRPOTrainer._compute_loss(stub, None, inputs)
    loss.backward()
    met = stub._metrics["train"]

    def metric(name):
        v = met.get(name)
        return None if not v or math.isnan(v[-1]) else float(v[-1])

    return {
        "name": f"{loss_type}-{scale_rewards}-trunc{int(mask_truncated)}-beta{beta}-mu{mu}-eh{eps_high}"
        f"-ent{entropy_coef}-{rewards}",
        "loss_type": loss_type,
        "scale_rewards": scale_rewards,
        "mask_truncated_completions": mask_truncated,
        "beta": beta,
        "num_iterations": mu,
        "epsilon": eps_low,
        "epsilon_high": eps_high,
        "entropy_coef": entropy_coef,
        "max_completion_length": MAX_COMPLETION_LENGTH,
        "rewards_set": rewards,
        "mask": [[int(x) for x in r] for r in mask.tolist()],
        "advantages": f32list(advantages),
        "frac_reward_zero_std": frac_zero,
        "loss": float(loss.item()),
        "grad": rows(current.grad),
        "metrics": {
            "kl": metric("kl"),
            "entropy": metric("entropy"),
            "clip_ratio/low_mean": metric("clip_ratio/low_mean"),
            "clip_ratio/low_min": metric("clip_ratio/low_min"),
            "clip_ratio/high_mean": metric("clip_ratio/high_mean"),
            "clip_ratio/high_max": metric("clip_ratio/high_max"),
            "clip_ratio/region_mean": metric("clip_ratio/region_mean"),
        },
    }


def grpo_fixtures():
    cases = []
    for lt, sr, mt, beta, mu, eh in itertools.product(
        ["grpo", "bnpo", "dr_grpo", "dapo"], ["group", "batch", "none"], [False, True], [0.0, 0.04], [1, 2],
        [0.2, 0.28],
    ):
        cases.append(grpo_case(lt, sr, mt, beta, mu, eh))
    for lt in ["grpo", "dapo"]:  # entropy bonus (static coefficient)
        cases.append(grpo_case(lt, "group", True, 0.04, 2, 0.28, entropy_coef=0.01))
    for rs in ["equal_group", "with_nan"]:
        for lt in ["grpo", "dapo"]:
            cases.append(grpo_case(lt, "group", False, 0.04, 2, 0.28, rewards=rs))
    adv = []
    for rs, sr in itertools.product(REWARD_SETS, ["group", "batch", "none"]):
        a, frac = grpo_advantages(REWARD_SETS[rs], sr)
        adv.append({"rewards_set": rs, "scale_rewards": sr, "advantages": f32list(a), "frac_reward_zero_std": frac})
    return {
        "trl_version": trl.__version__,
        "torch_version": torch.__version__,
        "source": "trl.trainer.grpo_trainer.GRPOTrainer._compute_loss called with a stub self; advantages "
        "replicated from _generate_and_score_completions (scripts/trl_grpo_fixture.py)",
        "num_generations": G,
        "eos_id": EOS,
        "pad_id": PAD,
        "completion_ids": completion_ids.tolist(),
        "completion_mask": completion_mask.tolist(),
        "rewards_sets": {k: [None if math.isnan(x) else x for x in v] for k, v in REWARD_SETS.items()},
        "logp": rows(logp),
        "old_logp": rows(old_logp),
        "ref_logp": rows(ref_logp),
        "entropies": rows(entropies),
        "advantage_cases": adv,
        "cases": cases,
    }


# ---- RLOO ---------------------------------------------------------------------------------------------------------


def rloo_rewards_and_advantages(rewards_list, beta, normalize, clip_range, old_per_token_logps, mask,
                                num_generations=G):
    """trl 1.13.0 RLOOTrainer._generate_and_score_completions, from the reward sum to the advantages."""
    rewards = torch.tensor(rewards_list, dtype=torch.float32)
    if clip_range:
        rewards = rewards.clamp(min=clip_range[0], max=clip_range[1])
    kl_seq = None
    if beta != 0.0:
        per_token_kl = old_per_token_logps - ref_logp
        kl_seq = (per_token_kl * mask).sum(-1)
        rewards = rewards - beta * kl_seq
    grouped_rewards = rewards.view(-1, num_generations)
    scorable_counts = (~torch.isnan(grouped_rewards)).sum(dim=1, keepdim=True)
    grouped_sum = torch.nansum(grouped_rewards, dim=1, keepdim=True)
    baselines = (grouped_sum - grouped_rewards) / (scorable_counts - 1)
    baselines = baselines.view(-1)
    advantages = rewards - baselines
    if normalize:
        advantages = (advantages - torch.nanmean(advantages)) / (nanstd(advantages) + 1e-4)
    advantages = torch.nan_to_num(advantages, nan=0.0)
    kl_metric = None
    if beta != 0.0:
        kl_stats = torch.stack([(per_token_kl * mask).sum(), mask.sum().float()])
        kl_metric = (kl_stats[0] / kl_stats[1].clamp(min=1.0)).item()
    return rewards, kl_seq, advantages, kl_metric


def rloo_case(beta, normalize, mask_truncated, mu, eps_high, clip_range, rewards="distinct"):
    eps_low = 0.2
    mask = masked_completion_mask(mask_truncated)
    # trl: old_per_token_logps come from a no-grad forward at generation time (equal in value to the current ones
    # when mu = 1)
    old_per_token = logp.clone() if mu == 1 else old_logp.clone()
    old_logps = (old_per_token * mask).sum(1)
    final_rewards, kl_seq, advantages, kl_metric = rloo_rewards_and_advantages(
        REWARD_SETS[rewards], beta, normalize, clip_range, old_per_token, mask)
    current = logp.clone().requires_grad_(True)
    s = SimpleNamespace()
    s.aux_loss_enabled = False
    s.epsilon_low = eps_low
    s.epsilon_high = eps_high
    s.model = SimpleNamespace(training=True)
    s.accelerator = _Accel()
    s._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    s._get_per_token_logps_and_entropies = lambda *a, **k: (current, entropies.clone(), None)
    inputs = {
        "prompt_ids": torch.zeros(B, 1, dtype=torch.long),
        "prompt_mask": torch.ones(B, 1, dtype=torch.long),
        "completion_ids": completion_ids,
        "completion_mask": mask,
        "advantages": advantages,
        "old_logps": old_logps,
    }
    loss = RLOOTrainer._compute_loss(s, None, inputs)
    loss.backward()
    met = s._metrics["train"]
    return {
        "name": f"rloo-beta{beta}-norm{int(normalize)}-trunc{int(mask_truncated)}-mu{mu}-eh{eps_high}"
        f"-clip{clip_range is not None}-{rewards}",
        "beta": beta,
        "normalize_advantages": normalize,
        "mask_truncated_completions": mask_truncated,
        "num_iterations": mu,
        "epsilon": eps_low,
        "epsilon_high": eps_high,
        "reward_clip_range": list(clip_range) if clip_range else None,
        "rewards_set": rewards,
        "mask": [[int(x) for x in r] for r in mask.tolist()],
        "old_per_token_logp": rows(old_per_token),
        "old_logps": f32list(old_logps),
        "sequence_kl": f32list(kl_seq) if kl_seq is not None else None,
        "rewards": [None if math.isnan(x) else x for x in f32list(final_rewards)],
        "advantages": f32list(advantages),
        "kl": kl_metric,
        "loss": float(loss.item()),
        "grad": rows(current.grad),
        "metrics": {k: float(met[k][-1]) for k in [
            "entropy", "clip_ratio/low_mean", "clip_ratio/low_min", "clip_ratio/high_mean", "clip_ratio/high_max",
            "clip_ratio/region_mean"]},
    }


def rloo_fixtures():
    cases = []
    for beta, norm, mt, mu, eh, clip in itertools.product(
        [0.0, 0.05], [False, True], [False, True], [1, 2], [0.2, 0.28], [None, (-0.5, 0.8)]
    ):
        cases.append(rloo_case(beta, norm, mt, mu, eh, clip))
    for rs in ["equal_group", "with_nan"]:
        cases.append(rloo_case(0.0, False, False, 2, 0.28, None, rewards=rs))
        cases.append(rloo_case(0.05, True, False, 2, 0.28, None, rewards=rs))
    return {
        "trl_version": trl.__version__,
        "torch_version": torch.__version__,
        "source": "trl.trainer.rloo_trainer.RLOOTrainer._compute_loss called with a stub self; rewards and "
        "advantages replicated from _generate_and_score_completions (scripts/trl_grpo_fixture.py)",
        "num_generations": G,
        "eos_id": EOS,
        "pad_id": PAD,
        "completion_ids": completion_ids.tolist(),
        "completion_mask": completion_mask.tolist(),
        "rewards_sets": {k: [None if math.isnan(x) else x for x in v] for k, v in REWARD_SETS.items()},
        "logp": rows(logp),
        "old_logp": rows(old_logp),
        "ref_logp": rows(ref_logp),
        "entropies": rows(entropies),
        "cases": cases,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in [("grpo.json", grpo_fixtures()), ("rloo.json", rloo_fixtures())]:
        path = os.path.join(OUT, name)
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        print(f"wrote {os.path.normpath(path)}: {len(data['cases'])} cases")


if __name__ == "__main__":
    main()
