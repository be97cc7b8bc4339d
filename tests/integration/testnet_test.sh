#!/usr/bin/env bash
# `chainmesh testnet` as the README runs it: three node processes, mining and a flow of
# transactions for a while, then a clean stop; a second run reuses the dir and its chain.
# Usage: testnet_test.sh PATH_TO_CHAINMESH
set -euo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$dir"/out* >&2 || true; exit 1; }
# A port range of its own per run, so that parallel test runs do not collide.
port=$((20000 + RANDOM % 20000))

# The table's last block of rows.
last_table() { awk '/^NODE/{rows=""; next} /^node-/{rows=rows $0 "\n"} END{printf "%s", rows}' "$1"; }

# Runs until every node is at height 40; --duration is only the hang limit.
"$bin" testnet --nodes 3 --dir "$dir/net" --base-port "$port" --until-height 40 --duration 240 \
    --difficulty 200000 --block-time 0.5 --tx-rate 20 >"$dir/out1" 2>&1 || fail "testnet exited with $?"
grep -q "every node reached height 40" "$dir/out1" || fail "the nodes did not reach height 40"
grep -q "all nodes stopped" "$dir/out1" || fail "no clean stop"
rows=$(last_table "$dir/out1")
[ "$(echo "$rows" | wc -l)" -eq 3 ] || fail "expected 3 rows, got: $rows"
echo "$rows" | awk '{ if ($2 + 0 < 40 || $4 + 0 < 1) exit 1 }' || fail "a node behind or without peers: $rows"
grep -q "transactions submitted [1-9]" "$dir/out1" || fail "no transactions went in"
for i in 0 1 2; do
    grep -q "node stopped at height" "$dir/net/node-$i/node.log" || fail "node-$i did not stop cleanly"
done
echo "ok: a 3-node testnet mined, carried transactions and stopped cleanly"

# Fewer miners do not change the layout: the chain is reused and grows from where it was.
height=$(grep -h "node stopped at height" "$dir/net/node-0/node.log" | tail -1 | awk '{print $NF}')
"$bin" testnet --nodes 3 --dir "$dir/net" --base-port "$port" --miners 1 \
    --until-height $((height + 5)) --duration 240 >"$dir/out2" 2>&1 || fail "the second run exited with $?"
grep -q "reusing" "$dir/out2" || fail "the second run did not reuse the dir"
grep -q "loaded $height blocks" "$dir/net/node-0/node.log" || fail "node-0 did not reload its $height blocks"
echo "ok: a second run reused the dir and the chain"

# A dir that is not a testnet is never deleted.
mkdir "$dir/precious" && touch "$dir/precious/data"
if "$bin" testnet --dir "$dir/precious" --duration 1 >"$dir/out3" 2>&1; then fail "took over a foreign dir"; fi
grep -q "is not a testnet dir" "$dir/out3" || fail "message: $(cat "$dir/out3")"
[ -f "$dir/precious/data" ] || fail "deleted a foreign dir's file"
echo "ok: a foreign dir is refused and left alone"
