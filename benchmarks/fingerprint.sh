#!/usr/bin/env bash
# Behaviour fingerprint for refactors: the same seeds must give the same files (issue 15).
# Runs small train / search / search compare / milenas / refine / refine compare jobs into OUTDIR; compare two
# fingerprints with benchmarks/fingerprint_diff.py (timings, uuids and the folders' own paths are ignored):
#   bash benchmarks/fingerprint.sh /tmp/fp_before      # on the old commit
#   bash benchmarks/fingerprint.sh /tmp/fp_after       # on the new one
#   .venv/bin/python benchmarks/fingerprint_diff.py /tmp/fp_before /tmp/fp_after   # ends "differ 0"
set -euo pipefail
cd "$(dirname "$0")/.."
O=${1:?usage: fingerprint.sh OUTDIR}
LSO=.venv/bin/lso
rm -rf "$O"; mkdir -p "$O"
B=benchmarks_data/default.parquet
CELL='|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|'
$LSO train --bench $B --labels 100 --epochs 3 --seed 7 --out "$O/run" --no-progress > "$O/train.log" 2>&1
$LSO search compare --bench $B --methods random,rea,ls,crlso,surf --seeds 2 --budgets 120,140 --run "$O/run" \
    --out "$O/cmp" --no-progress > "$O/cmp.log" 2>&1
$LSO search --bench $B --method crlso --budget 130 --seed 3 --run "$O/run" --out "$O/crlso.json" > "$O/crlso.log" 2>&1
$LSO milenas --epochs 2 --seed 1 --channels 4 --cells 1 --train-samples 256 --bench $B --out "$O/milenas.json" \
    --no-progress --device cpu > "$O/milenas.log" 2>&1
$LSO refine --arch "$CELL" --rounds 2 --seed 2 --device cpu --no-progress --out "$O/refine.json" > "$O/refine.log" 2>&1
$LSO refine compare --arch '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|' \
    --seeds 1 --methods s3d,random,scratch --rounds 1 --device cpu --no-progress --out "$O/rcmp" > "$O/rcmp.log" 2>&1
echo "wrote $O"
