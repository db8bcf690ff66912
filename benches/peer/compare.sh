#!/usr/bin/env bash
# Side by side: the ledger, then the SQLite peer, then the PostgreSQL peer, ROUNDS times, each
# run on a new data directory or table, with the same `lineage bench` arguments.
#
#   cargo build --release && cargo bench --bench peer --no-run
#   benches/peer/compare.sh target/release/lineage target/release/deps/peer-<hash> 3 \
#       "host=/var/run/postgresql user=postgres" --clients 16,64 --single-events 20000 \
#       --batch-events 50000 --reads 0
#
# Results go to bench-results/peers/<system>-<round>/bench.md.
set -euo pipefail
lineage=$1 peer=$2 rounds=$3 postgres=$4
shift 4
out=bench-results/peers
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
for round in $(seq 1 "$rounds"); do
  echo "== round $round: ledger $(date +%T)"
  "$lineage" bench "$@" --out "$out/ledger-$round" 2>&1 | grep -E "^append"
  for store in sqlite postgres; do
    rm -rf "$work/$store"
    if [ "$store" = sqlite ]; then
      "$peer" --data "$work/$store" sqlite >"$work/$store.log" 2>&1 &
    else
      psql -q "$postgres" -c "DROP TABLE IF EXISTS events" 2>/dev/null
      "$peer" --data "$work/$store" postgres "$postgres" >"$work/$store.log" 2>&1 &
    fi
    pid=$!
    for _ in $(seq 100); do grep -q '^listening on' "$work/$store.log" && break; sleep 0.1; done
    url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/$store.log" | head -1)
    echo "== round $round: $store peer $(date +%T)"
    "$lineage" bench --url "$url" --data "$work/$store" "$@" --out "$out/$store-$round" 2>&1 | grep -E "^append"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
