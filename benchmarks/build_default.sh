#!/usr/bin/env bash
# The embedded default, version 3 (mnist1d-v3: valid from seeds 0-7 and 16-23, test from 8-15 and 24-31), from the
# version-2 table (seeds 0-15) to every figure the README and the datasheet quote. Each stage skips what is done, so
# the script resumes; run the stages in order:
#
#   bash benchmarks/build_default.sh shards    # train seeds 16-31 (mnist1d-v3-extra) in shards: ~5 h, 2 CPU workers
#   bash benchmarks/build_default.sh merge     # v2 table + shards -> benchmarks_data/default.parquet (v3)
#   bash benchmarks/build_default.sh run       # retrain benchmarks_data/default_run on it
#   bash benchmarks/build_default.sh figures   # datasheet figures: twin table (seeds 32-63), curse, random search
#   bash benchmarks/build_default.sh datasheet # those figures + dataset, commands, hardware -> default.datasheet.json
#   bash benchmarks/build_default.sh search    # three --labels 0 G-VAEs, lso search compare, default search, proxies
#
# Shards: every finished one is a table in benchmarks_data/builds/ (never in the wheel), so a build spread over
# several sessions or machines loses at most the shard in flight. 0/8 was built first; the rest are sixteenths (k/16
# and (k+8)/16 together are k/8). Add DEVICE=cuda WORKERS=8 on a GPU (shard 15/16 and parts of 6, 7, 13, 14 of 16
# were built on a lent H200: 6 GPU workers, 14.1 runs/s). The datasheet figures are kept there too
# (mnist1d-v3.datasheet.json/.log), so a later session reuses them. After the switch builds/ left the repository:
# commit 6d05f4e ($V2 below) holds the version-2 default.parquet, every shard and those figures: `git checkout
# 6d05f4e -- benchmarks_data/builds` restores them and the merge stage takes the version-2 table from that commit,
# so every stage replays without retraining.
set -euo pipefail
cd "$(dirname "$0")/.."
LSO=.venv/bin/lso
PY=.venv/bin/python
OUT=out/default_v3
BUILDS=benchmarks_data/builds
V2=6d05f4e  # the last commit with the version-2 default table (and the shard tables of seeds 16-31)
mkdir -p "$OUT" "$BUILDS"

shards() {
    local name k n
    for name in 0/8 1/16 9/16 2/16 10/16 3/16 11/16 4/16 12/16 5/16 13/16 6/16 14/16 7/16 15/16; do
        k=${name%/*}; n=${name#*/}
        [ -f "$BUILDS/mnist1d-v3-extra.shard${k}of${n}.parquet" ] && continue
        $LSO bench build -d mnist1d -p mnist1d-v3-extra --shard "$name" --workers "${WORKERS:-2}" ${DEVICE:+--device $DEVICE} \
            --out "$OUT/shard${k}of${n}.parquet" --cache "$OUT/shard${k}of${n}.runs.jsonl"
        cp "$OUT/shard${k}of${n}.parquet" "$BUILDS/mnist1d-v3-extra.shard${k}of${n}.parquet"
    done
}

merge() {
    if [ ! -f "$OUT/v3.parquet" ]; then
        git show "$V2:benchmarks_data/default.parquet" > "$OUT/v2.parquet"
        $LSO bench merge-tables -p mnist1d-v3 "$OUT/v2.parquet" "$BUILDS"/mnist1d-v3-extra.shard*.parquet \
            --out "$OUT/v3.parquet"
    fi
    $PY - "$OUT/v3.parquet" <<'EOF'
import sys
from lso.bench import BenchmarkTable
table = BenchmarkTable.load(sys.argv[1])
if len(table) != 15625:
    sys.exit(f"{sys.argv[1]} has {len(table):,} rows, not 15,625: build the missing shards first")
EOF
    cp "$OUT/v3.parquet" benchmarks_data/default.parquet
}

run() {
    rm -rf "$OUT/default_run"
    $LSO train --bench benchmarks_data/default.parquet --labels 300 --seed 0 --epochs 30 --out "$OUT/default_run" \
        --no-progress | tee "$OUT/default_run.log"
    rm -f "$OUT/default_run/checkpoint.pt"  # resumable state: loading needs only the safetensors
    $PY - "$OUT/default_run/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["table"]["path"] = "../default.parquet"  # relative to the run, so the shipped run works wherever it lies
open(path, "w").write(json.dumps(config, indent=2) + "\n")
EOF
    rm -rf benchmarks_data/default_run && cp -r "$OUT/default_run" benchmarks_data/default_run
}

figures() {
    # kept in builds/ beside the shards (the twin table's 9,600 runs take half an hour), reused by a later session
    if [ -f "$BUILDS/mnist1d-v3.datasheet.json" ]; then
        cp "$BUILDS/mnist1d-v3.datasheet.json" "$OUT/datasheet.json"
        cp "$BUILDS/mnist1d-v3.datasheet.log" "$OUT/datasheet.log"
        echo "figures: reused $BUILDS/mnist1d-v3.datasheet.json"; return
    fi
    $PY benchmarks/bench_default.py benchmarks_data/default.parquet --extra-seeds $(seq 32 63) --extra-spread \
        --sample 300 --curse 10 --random-search 20 --json "$OUT/datasheet.json" | tee "$OUT/datasheet.log"
    cp "$OUT/datasheet.json" "$BUILDS/mnist1d-v3.datasheet.json"
    cp "$OUT/datasheet.log" "$BUILDS/mnist1d-v3.datasheet.log"
}

datasheet() {
    $PY - "$OUT/datasheet.json" benchmarks_data/default.datasheet.json <<'EOF'
import json, sys
sheet = json.load(open(sys.argv[1]))
if sheet["protocol"]["name"] != "mnist1d-v3":
    sys.exit(f"{sys.argv[1]} measures {sheet['protocol']['name']}, not mnist1d-v3: run the merge and figures stages")
sheet["dataset"] = json.load(open(sys.argv[2]))["dataset"]  # v2's: v3 trains on the same data and split
sheet["commands"] = {
    "build": "bash benchmarks/build_default.sh shards merge: the version-2 table (lso bench build --dataset mnist1d "
             "--protocol mnist1d-v2 --workers 2, seeds 0-15) and 15 shards of seeds 16-31 (lso bench build --dataset "
             "mnist1d --protocol mnist1d-v3-extra --shard K/N --workers 2) joined by lso bench merge-tables -p "
             "mnist1d-v3 ... --out benchmarks_data/default.parquet",
    "figures": "python benchmarks/bench_default.py benchmarks_data/default.parquet --extra-seeds $(seq 32 63) "
               "--extra-spread --sample 300 --curse 10 --random-search 20",
}
sheet["hardware"] = ("2-core x86-64 CPU (2 worker processes, 1 torch thread each); part of the version-2 runs and of "
                     "seeds 16-31 (shard 15/16 whole, parts of 6, 7, 13 and 14 of 16) on a lent NVIDIA H200 machine "
                     "(6 GPU worker processes beside 10 CPU ones, torch 2.11): the same figures up to seed noise; each "
                     "shard table records its device, hardware and torch")
open(sys.argv[2], "w").write(json.dumps(sheet, indent=2) + "\n")
print(f"wrote {sys.argv[2]}")
EOF
}

search() {
    local s
    for s in 0 1 2; do
        [ -f "$OUT/runs/v3u$s/metrics.json" ] || $LSO train --bench benchmarks_data/default.parquet --labels 0 \
            --seed $s --epochs 30 --out "$OUT/runs/v3u$s" --no-progress
    done
    $LSO search compare --bench benchmarks_data/default.parquet --methods crlso,rea,random --seeds 20 \
        --budgets 50,100,150,300 --run "$OUT/runs/v3u0" --run "$OUT/runs/v3u1" --run "$OUT/runs/v3u2" \
        --out "$OUT/compare" | tee "$OUT/compare.log"
    OMP_NUM_THREADS=1 $PY benchmarks/bench_default_search.py "$OUT/runs/v3u0" "$OUT/runs/v3u1" "$OUT/runs/v3u2" \
        | tee "$OUT/default_search.log"
    $LSO bench proxies benchmarks_data/default.parquet --sample 300 --seed 0 --batch 32 --out "$OUT/proxies.json" \
        | tee "$OUT/proxies.log"
}

case "${1:-}" in
    shards|merge|run|figures|datasheet|search) "$1" ;;
    *) echo "usage: bash benchmarks/build_default.sh shards|merge|run|figures|datasheet|search" >&2; exit 2 ;;
esac
