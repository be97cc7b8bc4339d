#!/usr/bin/env bash
# The chainmesh CLI as a user meets it: keygen, id, listen, ping, and clear failures.
# Usage: cli_test.sh PATH_TO_CHAINMESH
set -euo pipefail
bin=$1
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

# keygen writes a 0600 key and prints its peer id; id prints the same id.
id=$("$bin" keygen --out "$dir/a.key" 2>/dev/null)
[[ $id == 12D3KooW* ]] || fail "keygen printed '$id'"
[ "$(stat -c %a "$dir/a.key")" = 600 ] || fail "key mode is $(stat -c %a "$dir/a.key")"
[ "$("$bin" id --key "$dir/a.key")" = "$id" ] || fail "id disagrees with keygen"
[[ $("$bin" id --key "$dir/a.key" --cid) == bafzaa* ]] || fail "id --cid"
ok "keygen and id"

# keygen refuses to overwrite; a key others can read is refused with the fix in the message.
if "$bin" keygen --out "$dir/a.key" 2>"$dir/err"; then fail "keygen overwrote a key"; fi
grep -q "already exists" "$dir/err" || fail "overwrite message: $(cat "$dir/err")"
chmod 644 "$dir/a.key"
if "$bin" id --key "$dir/a.key" 2>"$dir/err"; then fail "loaded a world-readable key"; fi
grep -q "chmod 600" "$dir/err" || fail "permission message: $(cat "$dir/err")"
chmod 600 "$dir/a.key"
ok "key file protections"

# address, genesis new and tx sign work offline and refuse bad input by name.
addr_a=$("$bin" address --key "$dir/a.key")
[[ $addr_a == cm* && ${#addr_a} == 50 ]] || fail "address printed '$addr_a'"
"$bin" keygen --out "$dir/c.key" >/dev/null 2>&1
addr_c=$("$bin" address --key "$dir/c.key")
"$bin" genesis new --out "$dir/genesis.toml" --network clinet --alloc "$addr_a=1000" >/dev/null 2>&1
grep -q 'network = "clinet"' "$dir/genesis.toml" || fail "genesis: $(cat "$dir/genesis.toml")"
grep -q "\"$addr_a\" = 1000" "$dir/genesis.toml" || fail "genesis allocation missing"
if "$bin" genesis new --out "$dir/genesis.toml" 2>"$dir/err"; then fail "genesis overwrote"; fi
grep -q "already exists" "$dir/err" || fail "genesis overwrite message: $(cat "$dir/err")"
if "$bin" genesis new --out "$dir/g2.toml" --alloc "$addr_a=lots" 2>"$dir/err"; then fail "bad amount"; fi
grep -q "bad --alloc amount 'lots'" "$dir/err" || fail "alloc message: $(cat "$dir/err")"
if "$bin" genesis new --out "$dir/g2.toml" --consensus raft 2>"$dir/err"; then fail "raft"; fi
grep -q "'raft'" "$dir/err" || fail "consensus message: $(cat "$dir/err")"
tx=$("$bin" tx sign --key "$dir/a.key" --to "$addr_c" --amount 5 --fee 1 --nonce 0 \
      --network clinet --memo hello 2>/dev/null)
[[ $tx =~ ^[0-9a-f]+$ ]] || fail "tx sign printed '$tx'"
grep -q "$(printf hello | od -An -tx1 | tr -d ' \n')" <<<"$tx" || fail "memo not in the transaction"
if "$bin" tx sign --key "$dir/a.key" --to "${addr_c}x" --amount 5 --fee 1 --nonce 0 2>"$dir/err"; then
    fail "bad recipient accepted"
fi
grep -q "bad --to" "$dir/err" || fail "recipient message: $(cat "$dir/err")"
ok "address, genesis new, tx sign"

# listen prints its addresses; ping reaches it and exits 0.
mkfifo "$dir/listen.out"
"$bin" listen --listen /ip4/127.0.0.1/tcp/0 --key "$dir/a.key" >"$dir/listen.out" 2>"$dir/listen.log" &
pids+=($!)
exec 3<"$dir/listen.out"
addr=""
while IFS= read -r -t 20 line <&3; do
    if [[ $line == "listening on "* ]]; then
        addr=${line#listening on }
        break
    fi
done
[[ $addr == /ip4/127.0.0.1/tcp/*/p2p/$id ]] || fail "listen printed '$addr'"
ok "listen prints its address"

out=$("$bin" --log-level warn ping "$addr" --count 3 --interval 0.05)
[ "$(grep -c '^pong from' <<<"$out")" = 3 ] || fail "ping output: $out"
grep -q "3 sent, 3 received, 0% loss" <<<"$out" || fail "ping summary: $out"
ok "ping reaches the listener"

# Failures exit non-zero with a message naming the problem.
if "$bin" ping "${addr%/p2p/*}" 2>"$dir/err"; then fail "ping without /p2p/ succeeded"; fi
grep -q "must end in /p2p/" "$dir/err" || fail "no-peer-id message: $(cat "$dir/err")"
other=$("$bin" keygen --out "$dir/b.key" 2>/dev/null)
if "$bin" --log-level off ping "${addr%/p2p/*}/p2p/$other" --timeout 5 >/dev/null 2>"$dir/err"; then
    fail "ping of the wrong peer id succeeded"
fi
grep -q "cannot reach" "$dir/err" || fail "wrong-peer message: $(cat "$dir/err")"
if "$bin" ping "/ip4/1.2.3/tcp/1" 2>"$dir/err"; then fail "bad multiaddr accepted"; fi
grep -q "bad address '/ip4/1.2.3/tcp/1'" "$dir/err" || fail "bad-address message: $(cat "$dir/err")"
if "$bin" listen --listen /ip4/127.0.0.1/tcp/0/tcp/1 --key "$dir/a.key" 2>"$dir/err"; then
    fail "listen on a non-TCP address succeeded"
fi
grep -q "cannot listen on" "$dir/err" || fail "listen message: $(cat "$dir/err")"
ok "failures are clear"

# The listener logged the pinger coming and going.
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "listen did not exit cleanly on SIGTERM"
pids=()
grep -q "peer connected" "$dir/listen.log" || fail "listener log: $(cat "$dir/listen.log")"
grep -q "peer disconnected" "$dir/listen.log" || fail "listener log: $(cat "$dir/listen.log")"
ok "listener logs peers and stops on SIGTERM"

echo "$passed passed, 0 failed"
