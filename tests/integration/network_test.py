#!/usr/bin/env python3
"""Networks of real `chainmesh run` processes on loopback (issue 4 item 8).

Usage: network_test.py PATH_TO_CHAINMESH [TestCase.test_name ...]

Each node listens on port 0 and serves its API on port 0; the harness learns the ports from
the node's log, so tests run in parallel without port clashes. Nothing here sleeps to wait for
the network: every wait is on the nodes' log lines (a reader thread per node wakes waiters at
each line), rechecking a condition against the nodes' HTTP APIs, with a deadline.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

CHAINMESH = None
WAIT_SECONDS = float(os.environ.get("CHAINMESH_TEST_WAIT", "240"))

LISTEN_RE = re.compile(r"listening on (/ip4/127\.0\.0\.1/tcp/\d+/p2p/\S+)")
API_RE = re.compile(r"HTTP API on http://(\S+)")


class Events:
    """A condition variable that every node's log line notifies."""

    def __init__(self, on_timeout=lambda: None):
        self.cond = threading.Condition()
        self.generation = 0
        self.on_timeout = on_timeout

    def notify(self):
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def wait_for(self, check, what, timeout=WAIT_SECONDS):
        """Re-evaluates check() after every log line of any node until it returns a truthy
        value; fails the test naming `what` at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            with self.cond:
                seen = self.generation
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.on_timeout()
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            with self.cond:
                # A line may have arrived while check() ran: then look again at once. The
                # periodic status line (every 10 s) bounds the wait when logs are quiet.
                if self.generation == seen:
                    self.cond.wait(timeout=min(remaining, 5.0))


class Node:
    def __init__(self, harness, name, data_dir, genesis, mining=False, bootstrap=(),
                 static=(), min_peers=3, extra=()):
        self.harness = harness
        self.name = name
        self.data_dir = data_dir
        self.genesis = genesis
        self.mining = mining
        self.bootstrap = list(bootstrap)
        self.static = list(static)
        self.min_peers = min_peers
        self.extra = list(extra)
        self.proc = None
        self.addr = None
        self.api = None
        self.lines = []
        self.log_path = os.path.join(data_dir + ".log")

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        args = [CHAINMESH, "run", "--data-dir", self.data_dir, "--genesis-file", self.genesis,
                "--listen", "/ip4/127.0.0.1/tcp/0", "--http-addr", "127.0.0.1:0",
                "--mining", "true" if self.mining else "false",
                "--min-peers", str(self.min_peers), "--log-level", os.environ.get("LOGLEVEL","info"), "--sync-writes", "false"]
        for addr in self.bootstrap:
            args += ["--bootstrap", addr]
        for addr in self.static:
            args += ["--static-peers", addr]
        args += self.extra
        self.addr = None
        self.api = None
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        self.harness.events.wait_for(lambda: self.addr and self.api,
                                     f"{self.name} to listen", timeout=60)
        return self

    def _read(self, proc):
        with open(self.log_path, "a") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                self.lines.append(line)
                if m := LISTEN_RE.search(line):
                    self.addr = m.group(1)
                if m := API_RE.search(line):
                    self.api = m.group(1)
                self.harness.events.notify()
        self.harness.events.notify()

    def log_has(self, text):
        return any(text in line for line in self.lines)

    def request(self, method, path, body=None):
        req = urllib.request.Request(f"http://{self.api}{path}", method=method,
                                     data=body.encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def get(self, path):
        status, body = self.request("GET", path)
        return body if status == 200 else None

    def status(self):
        try:
            return self.get("/status")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def height(self):
        s = self.status()
        return s["height"] if s else -1

    def hash_at(self, height):
        try:
            block = self.get(f"/blocks/{height}")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None
        return block["hash"] if block else None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.proc.kill()
        self.proc.wait()


class Harness:
    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="chainmesh-net-")
        self.events = Events(on_timeout=self.dump_logs)
        self.nodes = []
        self.test = test

    def run_cli(self, *args):
        out = subprocess.run([CHAINMESH, *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise AssertionError(f"chainmesh {' '.join(args)} failed: {out.stderr}")
        return out.stdout.strip()

    def key(self, name):
        path = os.path.join(self.dir, name + ".key")
        self.run_cli("keygen", "--out", path)
        return path

    def genesis(self, name="genesis", network="nettest", allocations=(), difficulty=20000,
                block_time="0.1"):
        path = os.path.join(self.dir, name + ".toml")
        args = ["genesis", "new", "--out", path, "--network", network,
                "--difficulty", str(difficulty), "--block-time", block_time]
        for address, amount in allocations:
            args += ["--alloc", f"{address}={amount}"]
        self.run_cli(*args)
        return path

    def node(self, name, genesis, **kwargs):
        node = Node(self, name, os.path.join(self.dir, name), genesis, **kwargs)
        self.nodes.append(node)
        return node.start()

    def dump_logs(self):
        for node in self.nodes:
            tail = "".join(node.lines[-30:])
            status = node.status() if node.proc and node.proc.poll() is None else None
            sys.stderr.write(f"\n--- {node.name}: status {status}\n--- the last lines of its "
                             f"log:\n{tail}")

    def close(self):
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def common_chain(nodes, below_tip=3):
    """The height and hash all nodes share `below_tip` blocks under the lowest tip, if they
    agree there (the racing tips of a mining network may differ; a converged network agrees
    below them)."""
    heights = [n.height() for n in nodes]
    if min(heights) <= below_tip:
        return None
    height = min(heights) - below_tip
    hashes = {n.hash_at(height) for n in nodes}
    if len(hashes) == 1 and None not in hashes:
        return height, hashes.pop()
    return None


class NetworkTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness(self)

    def tearDown(self):
        self.h.close()

    def test_five_nodes_converge_and_carry_transactions(self):
        h = self.h
        faucet = h.key("faucet")
        faucet_addr = h.run_cli("address", "--key", faucet)
        genesis = h.genesis(allocations=[(faucet_addr, 10**12)])
        first = h.node("n0", genesis, mining=True)
        nodes = [first]
        for i in range(1, 5):
            nodes.append(h.node(f"n{i}", genesis, mining=(i == 1), bootstrap=[first.addr]))

        # Given node 0 alone, every node finds at least min-peers (3) others.
        h.events.wait_for(lambda: all((s := n.status()) and s["peer_count"] >= 3 for n in nodes),
                          "every node to have at least 3 peers")
        h.events.wait_for(lambda: common_chain(nodes) and min(n.height() for n in nodes) >= 20,
                          "five nodes on one chain past height 20")

        # Transactions submitted at node 3 are mined and visible at every node.
        recipient = h.run_cli("address", "--key", h.key("recipient"))
        ids = []
        for nonce in range(10):
            tx = h.run_cli("tx", "sign", "--key", faucet, "--to", recipient, "--amount",
                           str(100 + nonce), "--fee", "5", "--nonce", str(nonce),
                           "--network", "nettest")
            status, body = nodes[3].request("POST", "/tx", tx)
            self.assertEqual(status, 200, body)
            self.assertTrue(body["accepted"], body)
            ids.append(body["id"])

        def all_confirmed():
            for n in nodes:
                for tx_id in ids:
                    found = n.get(f"/tx/{tx_id}")
                    if not found or found.get("block_hash") is None:
                        return False
            return True
        h.events.wait_for(all_confirmed, "the 10 transactions in a block at every node")
        account = nodes[4].get(f"/accounts/{recipient}")
        self.assertEqual(account["balance"], sum(100 + i for i in range(10)))

        # A replay of a mined transaction is refused with the reason.
        status, body = nodes[2].request("POST", "/tx", tx)
        self.assertEqual(status, 422, body)
        self.assertEqual(body["reason"], "nonce_too_low")

    def test_late_joiner_catches_up_after_500_blocks(self):
        h = self.h
        genesis = h.genesis(difficulty=2000, block_time="0.05")
        miner = h.node("miner", genesis, mining=True, min_peers=1)
        h.events.wait_for(lambda: miner.height() >= 500, "the miner to pass height 500")
        late = h.node("late", genesis, bootstrap=[miner.addr], min_peers=1)
        h.events.wait_for(lambda: late.height() >= 500 and late.hash_at(500) == miner.hash_at(500),
                          "the late node to sync 500 blocks")
        self.assertTrue(late.log_has("sync: behind by"), "no line saying that sync started")
        h.events.wait_for(lambda: late.log_has("sync: caught up"), "a line saying sync ended")

    def test_killed_node_restarts_from_disk_and_resyncs(self):
        h = self.h
        genesis = h.genesis()
        miner = h.node("miner", genesis, mining=True, min_peers=1)
        follower = h.node("follower", genesis, static=[miner.addr], min_peers=1)
        h.events.wait_for(lambda: follower.height() >= 30, "the follower to reach height 30")
        follower.kill()  # SIGKILL: no shutdown, no flush
        target = miner.height() + 20
        h.events.wait_for(lambda: miner.height() >= target, "the miner to mine 20 more blocks")
        follower.lines = []
        follower.start()
        # The chain comes from its own disk (logged before it listens), not from the miner.
        loaded = [int(m.group(1)) for line in follower.lines
                  if (m := re.search(r"loaded (\d+) blocks from the store", line))]
        self.assertTrue(loaded and loaded[0] >= 30, f"the restarted node loaded {loaded}")
        h.events.wait_for(lambda: follower.height() >= target and
                          follower.hash_at(target) == miner.hash_at(target),
                          "the restarted node to resync")

    def test_partitioned_halves_converge_on_the_heavier_chain(self):
        h = self.h
        # Slower blocks than the other tests: the halves must not grow apart by more than
        # the reorg limit (100 blocks) before the bridge is up.
        genesis = h.genesis(difficulty=400000, block_time="0.5")
        # Two miners that do not know each other: two chains grow from one genesis.
        left = h.node("left", genesis, mining=True, min_peers=1)
        right = h.node("right", genesis, mining=True, min_peers=1)
        h.events.wait_for(lambda: left.height() >= 15 and right.height() >= 15,
                          "both halves to mine 15 blocks")
        self.assertNotEqual(left.hash_at(10), right.hash_at(10), "the halves were not apart")
        # The heal: a node that knows both.
        bridge = h.node("bridge", genesis, static=[left.addr, right.addr], min_peers=2)
        nodes = [left, right, bridge]
        h.events.wait_for(lambda: common_chain(nodes, below_tip=3),
                          "the three nodes to agree on one chain")
        self.assertTrue(any(n.log_has("reorg") for n in (left, right, bridge)),
                        "no node reorganised")

    def test_stopped_node_catches_up_when_continued(self):
        h = self.h
        genesis = h.genesis()
        miner = h.node("miner", genesis, mining=True, min_peers=1)
        paused = h.node("paused", genesis, static=[miner.addr], min_peers=1)
        h.events.wait_for(lambda: paused.height() >= 10, "the second node to follow")
        paused.signal(signal.SIGSTOP)
        target = miner.height() + 30
        h.events.wait_for(lambda: miner.height() >= target, "30 blocks while the node is stopped")
        paused.signal(signal.SIGCONT)
        h.events.wait_for(lambda: paused.height() >= target and
                          paused.hash_at(target) == miner.hash_at(target),
                          "the continued node to catch up")

    def test_newcomer_gets_pending_transactions_and_peers_from_the_book(self):
        h = self.h
        faucet = h.key("faucet")
        faucet_addr = h.run_cli("address", "--key", faucet)
        genesis = h.genesis(allocations=[(faucet_addr, 10**9)])
        # No miner: submitted transactions stay pending.
        first = h.node("first", genesis, min_peers=1)
        ids = []
        for nonce in range(3):
            recipient = h.run_cli("address", "--key", h.key(f"r{nonce}"))
            tx = h.run_cli("tx", "sign", "--key", faucet, "--to", recipient, "--amount", "7", "--fee", "1", "--nonce", str(nonce),
                           "--network", "nettest")
            status, body = first.request("POST", "/tx", tx)
            self.assertEqual(status, 200, body)
            ids.append(body["id"])
        # A node that connects later asks for the mempool on connect.
        second = h.node("second", genesis, bootstrap=[first.addr], min_peers=1)
        h.events.wait_for(lambda: all((t := second.get(f"/tx/{i}")) and t["status"] == "pending"
                                      for i in ids),
                          "the newcomer to hold the 3 pending transactions")
        # Its peer book survives a restart: without --bootstrap it finds the first node again.
        second.stop()
        self.assertTrue(os.path.exists(os.path.join(second.data_dir, "peers.json")))
        second.bootstrap = []
        second.lines = []
        second.start()
        h.events.wait_for(lambda: (s := second.status()) and s["peer_count"] >= 1,
                          "the restarted node to reconnect from its peer book")

    def test_full_inbound_slots_refuse_newcomers(self):
        h = self.h
        genesis = h.genesis()
        # max-peers 3 with min-peers 1: one outbound slot, two inbound. On loopback every
        # peer shares one (local) group, and both inbound peers are among the longest
        # connected, so nobody may be evicted: later dialers are refused.
        hub = h.node("hub", genesis, min_peers=1, extra=["--max-peers", "3"])
        leaves = [h.node(f"leaf{i}", genesis, bootstrap=[hub.addr], min_peers=1)
                  for i in range(4)]
        h.events.wait_for(lambda: (s := hub.status()) and s["inbound_refused"] >= 2 and
                          s["peer_count"] == 2,
                          "the hub to hold two inbound peers and refuse the others")
        inbound = [p for p in hub.get("/peers") if p["direction"] == "inbound"]
        self.assertEqual(len(inbound), 2, inbound)
        self.assertEqual(hub.status()["inbound_evicted"], 0)
        connected = sum(1 for leaf in leaves if (s := leaf.status()) and s["peer_count"] > 0)
        self.assertLessEqual(connected, 2)

    def test_node_of_another_network_is_refused(self):
        h = self.h
        genesis = h.genesis()
        # The same network id but another genesis (a different allocation).
        stranger_addr = h.run_cli("address", "--key", h.key("stranger"))
        other = h.genesis(name="other", allocations=[(stranger_addr, 5)])
        home = h.node("home", genesis, min_peers=1)
        stranger = h.node("stranger", other, bootstrap=[home.addr], min_peers=1)
        h.events.wait_for(lambda: home.log_has("another network") or
                          stranger.log_has("another network"),
                          "the other network's node to be refused")
        h.events.wait_for(lambda: (s := home.status()) and s["peer_count"] == 0 and
                          (t := stranger.status()) and t["peer_count"] == 0,
                          "both nodes to be without peers")


if __name__ == "__main__":
    CHAINMESH = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0], *sys.argv[2:]], verbosity=2)
