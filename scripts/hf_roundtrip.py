#!/usr/bin/env python3
"""Checks that an rlhf4j model directory loads in Hugging Face transformers with the same ids and logprobs.

  check DIR [--texts FILE]          compare AutoTokenizer ids and AutoModelForCausalLM next-token logprobs with
                                    `./rlhf4j score --model DIR --text ...` for each text; exit 1 above --tol
  fixture DIR OUT [--texts FILE]    write OUT (JSON): the texts, transformers' ids and logprobs, for a Java test

Texts: one per line of FILE (JSON string literals, so newlines and specials can be written), default: TEXTS below.
Needs torch + transformers (see scripts/README.md); never needed by the Maven build.
"""
import argparse
import json
import os
import subprocess
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# in-domain TL;DR text, text the compact vocabulary never saw (spelled with shorter tokens), and a literal EOS
TEXTS = [
    "SUBREDDIT: r/relationships\n\nTITLE: My boyfriend forgot my birthday\n\nPOST: He said he was busy at work."
    "\n\nTL;DR: boyfriend forgot my birthday<|endoftext|>",
    "Hello world, the cat sat on the mat.",
    " Quantum chromodynamics is unbelievably hard!",
    "naïve café — 日本語 🙂\ttabs\r\n",
    "TL;DR: I'm fine.<|endoftext|> And after the end",
]


def read_texts(path):
    if path is None:
        return TEXTS
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def hf_side(model_dir, texts):
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    out = []
    for text in texts:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float()
        lp = torch.log_softmax(logits[:-1], dim=-1).gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
        out.append({"text": text, "ids": ids, "logprobs": lp.tolist(),
                    "decoded": tok.decode(ids, skip_special_tokens=False)})
    return tok, model, out


def java_score(model_dir, text):
    res = subprocess.run([os.path.join(ROOT, "rlhf4j"), "score", "--model", model_dir, "--text", text],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def check(args):
    texts = read_texts(args.texts)
    tok, model, hf = hf_side(args.dir, texts)
    print(f"transformers {transformers.__version__}: {type(tok).__name__} (V={len(tok)}, eos={tok.eos_token!r} "
          f"id {tok.eos_token_id}), {type(model).__name__} (vocab_size={model.config.vocab_size})")
    ok = tok.eos_token_id == model.config.eos_token_id and len(tok) == model.config.vocab_size
    worst = 0.0
    for h in hf:
        j = java_score(args.dir, h["text"])
        same_ids = j["tokens"] == h["ids"]
        diff = max((abs(a - b) for a, b in zip(j["logprobs"], h["logprobs"])), default=0.0) if same_ids else float("inf")
        worst = max(worst, diff)
        ok &= same_ids and h["decoded"] == h["text"] and diff <= args.tol
        print(f"  {len(h['ids']):3d} tokens ids {'same' if same_ids else 'DIFFER'}"
              f"{'' if h['decoded'] == h['text'] else ' (decode DIFFERS)'} max|logprob diff| {diff:.3g}  {h['text'][:40]!r}")
        if not same_ids:
            print(f"    java {j['tokens']}\n    hf   {h['ids']}")
    print(f"max |logprob diff| over {len(hf)} texts: {worst:.3g} (tolerance {args.tol}) -> {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


def fixture(args):
    texts = read_texts(args.texts)
    _, _, hf = hf_side(args.dir, texts)
    out = {"generator": "scripts/hf_roundtrip.py fixture", "transformers": transformers.__version__,
           "torch": torch.__version__, "cases": [{k: h[k] for k in ("text", "ids", "logprobs")} for h in hf]}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {len(hf)} texts, {sum(len(h['ids']) for h in hf)} tokens")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("--texts")
    c.add_argument("--tol", type=float, default=1e-3)
    f = sub.add_parser("fixture")
    f.add_argument("dir")
    f.add_argument("out")
    f.add_argument("--texts")
    args = p.parse_args()
    torch.manual_seed(0)
    return check(args) if args.cmd == "check" else fixture(args)


if __name__ == "__main__":
    sys.exit(main())
