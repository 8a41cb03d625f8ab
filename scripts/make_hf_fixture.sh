#!/usr/bin/env bash
# Regenerates rlhf-core's committed transformers fixture (HfRoundTripFixtureTest): a tiny GPT-2 written by rlhf4j
# (init over a compact vocabulary, then a few SFT epochs so its logits are far from uniform), checked against
# `./rlhf4j score`, then transformers' ids and logprobs for scripts/hf_fixture/texts.jsonl.
#   usage: scripts/make_hf_fixture.sh   (needs .venv-ref with torch + transformers, see scripts/README.md)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv-ref/bin/python}"
FIX="$ROOT/scripts/hf_fixture"
DEST="$ROOT/rlhf-core/src/test/resources/hf-roundtrip"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
./rlhf4j init --out "$WORK/init" --n-embd 16 --n-layer 2 --n-head 2 --n-positions 128 --seed 1 \
  --vocab-texts "$FIX/vocab.txt"
RLHF4J_THREADS=1 ./rlhf4j sft --model "$WORK/init" --data "$FIX/sft.jsonl" --eval-data "$FIX/sft.jsonl" \
  --epochs 40 --lr 3e-2 --batch-size 8 --micro-batch-size 8 --max-query-tokens 48 --seed 1 --out "$WORK/sft" >/dev/null
"$PY" scripts/hf_roundtrip.py check "$WORK/sft/model" --texts "$FIX/texts.jsonl"
rm -rf "$DEST" && mkdir -p "$DEST/model"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json; do
  cp "$WORK/sft/model/$f" "$DEST/model/"
done
"$PY" scripts/hf_roundtrip.py fixture "$DEST/model" "$DEST/expected.json" --texts "$FIX/texts.jsonl"
du -sh "$DEST"
