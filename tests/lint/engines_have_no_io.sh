#!/usr/bin/env bash
# Fails when an engine folder reaches for a socket, a clock, a thread, a sleep or global
# randomness: engines take time and randomness as inputs so the simulator can drive them.
set -euo pipefail
src=${1:?usage: engines_have_no_io.sh SRC_DIR}
engines=(util crypto wire protocols pubsub dht discovery sync chain mempool consensus sim)
pattern='boost/asio|steady_clock::now|system_clock::now|std::random_device|std::thread|sleep_for|sleep_until|\brand\(\)'
status=0
for part in "${engines[@]}"; do
    dir="$src/$part"
    [ -d "$dir" ] || continue
    if hits=$(grep -RInE "$pattern" "$dir" --include='*.hpp' --include='*.cpp'); then
        echo "$hits"
        status=1
    fi
done
if [ $status -ne 0 ]; then
    echo "engine folders must not do I/O, read clocks, start threads or use global randomness"
fi
exit $status
