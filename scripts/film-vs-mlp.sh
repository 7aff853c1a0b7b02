#!/usr/bin/env bash
# FiLM against the concatenated-t MLP on N(0,½I_128) → N(0,I_128) (issue 8):
# equal width (256,256,256), step budget, batch, learning rate and seeds.
# Prints, per run, eval's excess loss over the floor, the field's relative L2
# error against the exact v*, and the forward law (KS of ‖f(x)‖ against
# Chi(128), per-coordinate variance against 1).
#   go build -o /tmp/flowlab ./cmd/flowlab && scripts/film-vs-mlp.sh /tmp/flowlab /tmp/film-vs-mlp
set -euo pipefail
FL=${1:-flowlab}
OUT=${2:-film-vs-mlp}
STEPS=${STEPS:-6000}
LR=${LR:-3e-3}
mkdir -p "$OUT"
for seed in ${SEEDS:-1 2}; do
  for arch in mlp film; do
    d="$OUT/$arch-seed$seed"
    "$FL" train --source gaussian:dim=128,var=0.5 --target gaussian:dim=128 --hidden 256,256,256 \
      --arch "$arch" --fourier 8 --steps "$STEPS" --batch 256 --lr "$LR" --warmup 100 --schedule cosine \
      --ema 0.999 --seed "$seed" --out "$d" 2>/dev/null
    "$FL" eval --run "$d" --n 2000 >"$d/eval.json"
    printf '%-5s seed %s  ' "$arch" "$seed"
    # One line of the JSON's figures, without jq or Python.
    tr -d ' \n' <"$d/eval.json" | grep -o '"excess_rel":[^,]*\|"field_rel_l2":[^,]*\|"forward_law":{[^}]*}' | tr '\n' ' '
    echo
  done
done
