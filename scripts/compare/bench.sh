#!/usr/bin/env bash
# Throughput of rlhf4j vs TRL on the same machine, threads and settings, interleaved (rlhf4j, TRL, rlhf4j, TRL...).
#   scripts/compare/bench.sh OUT_FILE [SHAPES] [REPS]      SHAPES: "tiny smol" (default), REPS: 2 (default)
# tiny = the parity fixture's Llama (hidden 32, 2 layers, vocabulary 924); smol = SmolLM2-135M's body (hidden 576,
# 30 layers, 9 heads, 3 KV heads, MLP 1536) over the same 924-token vocabulary, random weights.
# TINY_STEPS / SMOL_STEPS: updates per run (default 5 / 3; the median of the times between updates after the first).
# TINY_ALGOS / SMOL_ALGOS choose the measurements (default: all six / "sft dpo generate"); a failed run leaves an
# incomplete line that the table skips. Needs the CLI built (./rlhf4j --help once) and /work/venv-ref (or PY=...) with trl 1.13.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT="${1:?usage: bench.sh OUT_FILE [SHAPES] [REPS]}"
SHAPES="${2:-tiny smol}"
REPS="${3:-2}"
PY="${PY:-/work/venv-ref/bin/python}"
THREADS="${THREADS:-2}"
FIX=rlhf-algorithms/src/test/resources/trl-parity
JAR="$(ls rlhf-examples/target/rlhf-examples-*.jar | grep -v -e sources -e javadoc | head -n 1)"
export OMP_NUM_THREADS="$THREADS" TORCH_CPP_LOG_LEVEL=ERROR
SMOL=/tmp/rlhf4j-bench-smol
if [[ " $SHAPES " == *" smol "* ]] && [ ! -f "$SMOL/config.json" ]; then
  "$PY" scripts/compare/trl_parity.py data /tmp/rlhf4j-bench-data >/dev/null
  ./rlhf4j init --arch llama --n-embd 576 --n-head 9 --n-kv-head 3 --n-layer 30 --n-positions 512 \
    --vocab-texts /tmp/rlhf4j-bench-data/texts.txt --out "$SMOL" >&2
fi
{ echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') nproc=$(nproc) threads=$THREADS"; } >> "$OUT"
for shape in $SHAPES; do
  if [ "$shape" = tiny ]; then model=$FIX/model; algos="${TINY_ALGOS:-sft reward dpo grpo rloo generate}"; steps="${TINY_STEPS:-5}"
  else model=$SMOL; algos="${SMOL_ALGOS:-sft dpo generate}"; steps="${SMOL_STEPS:-3}"; fi
  for algo in $algos; do
    for rep in $(seq "$REPS"); do
      load="$(cut -d' ' -f1 /proc/loadavg)"
      j="$(java -Xmx8g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" \
           -Dai.djl.pytorch.num_interop_threads=1 -cp "$JAR:rlhf-examples/target/lib/*" \
           scripts/compare/Throughput.java "$algo" "$model" "$FIX" "$steps" 2>/dev/null | tail -n 1 || true)"
      echo "{\"shape\": \"$shape\", \"rep\": $rep, \"load1\": $load, ${j#\{}" | tee -a "$OUT"
      load="$(cut -d' ' -f1 /proc/loadavg)"
      j="$("$PY" scripts/compare/trl_parity.py bench "$algo" "$model" "$FIX" "$steps" 2>/dev/null | tail -n 1 || true)"
      echo "{\"shape\": \"$shape\", \"rep\": $rep, \"load1\": $load, ${j#\{}" | tee -a "$OUT"
    done
  done
done
"$PY" scripts/compare/trl_parity.py table "$OUT"
