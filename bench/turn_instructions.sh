#!/usr/bin/env bash
# Instructions a WhatsApp turn costs, counted by valgrind (callgrind): the same on a busy
# machine as on an idle one, where CPU time moves by a tenth from run to run.
#
# Run:  bench/turn_instructions.sh [ROOT]     (ROOT: a checkout or worktree; default this one)
#
# whatsapp_turn_cpu.py runs twice under callgrind, 40 then 140 citizens (groups of about
# 8, as under whatsapp_load.py), every form signed beforehand in both; the difference
# is 1,200 turns' instructions: start-up, imports and signing cancel out. About 4 minutes
# on two cores. Counted in user space only: SQLite's writes to the kernel are not in it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "${1:-$here}" && pwd)"
python="$here/.venv/bin/python"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for citizens in 40 140; do
  valgrind --tool=callgrind --callgrind-out-file="$out/$citizens.out" "$python" \
    "$here/bench/whatsapp_turn_cpu.py" "$root" --citizens "$citizens" --parallel 8 \
    --presign 140 >"$out/$citizens.log" 2>&1 &
done
wait
count() { grep -o 'Collected : [0-9]*' "$out/$1.log" | grep -o '[0-9]*$'; }
echo "$(( ($(count 140) - $(count 40)) / 1200 )) instructions a turn ($root)"
