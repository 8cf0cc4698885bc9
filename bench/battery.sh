#!/usr/bin/env bash
# Likelihood-propensity throughput over battery cells through the local backend (each scenario's prompt
# computed once, the candidate actions forked from it) against the raw engine on exactly the same tokens
# run as one plain sequence, scenario by scenario, in one run. Appends the table to bench/RESULTS.md with --record.
# Usage: bench/battery.sh [MODEL] [DESIGN] [VARIANTS] [--record]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-smollm2-135m-instruct}; design=${2:-rival}; variants=${3:-1}
out=$(.build/release/hyperlab bench battery --model "$model" --threads 2 --cells "$design" --variants "$variants" --context 8192 --json)
table=$(python3 - "$out" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
print("| cell | prompt tokens | candidate tokens | seconds |\n|---|---|---|---|")
for r in o["rows"]:
    print(f"| {r['cell']} | {r['prompt_tokens']} | {r['candidate_tokens']} | {r['seconds']:.2f} |")
print(f"\nLikelihood measure: {o['tok_s']:.0f} tok/s over {o['scenarios']} scenarios ({o['tokens']} tokens); "
      f"the raw engine on the same tokens (one plain sequence: the prompt, then every candidate, logits on the candidates): {o['raw_tok_s']:.0f} tok/s; ratio {o['ratio']:.2f} (target ≥ 0.80).")
PY
)
echo "$table"
if [ "${4:-}" = "--record" ]; then
  { printf '\n## Battery likelihood throughput: %s, design %s, %s variant(s) (%s)\n\nMeasured by `bench/battery.sh`.\n\n' \
      "$model" "$design" "$variants" "$(date -u '+%Y-%m-%d %H:%M UTC')"; echo "$table"; } >> bench/RESULTS.md
fi
