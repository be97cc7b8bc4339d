#!/usr/bin/env node
// Interop test driver: starts js_peer.mjs and chainmesh_interop_peer as child processes, reads
// the JSON events they print on stdout and checks them.
//
//   node scenario.mjs <scenario|all> --cpp <path to chainmesh_interop_peer> [--timeout-s 120]
//                     [--self-test]
//
// Exit 0 = pass. Anything else = fail, with the reason on stderr and a one-line summary on stdout.
// --self-test: --cpp points at js_peer.mjs (any *.mjs path is run with node) and the checks that
// only chainmesh can pass (its agent version) expect js-libp2p instead. Used to test this driver
// without the C++ build.
//
// Scenarios are rows of the SCENARIOS table at the bottom; each is an async function that gets a
// Harness (spawns peers, kills them all at the end) and returns a short summary of what it saw.

import './polyfill.mjs'; // every script imports it first (harmless here, required with libp2p)

import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const JS_PEER = path.join(HERE, 'js_peer.mjs');
const LOOPBACK_LISTEN = '/ip4/127.0.0.1/tcp/0';
const LOOPBACK_TCP_PREFIX = '/ip4/127.0.0.1/tcp/';
const ECHO_PROTOCOL = '/chainmesh/echo/1.0.0';
const REQUIRED_PROTOCOLS = ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', ECHO_PROTOCOL];
const STARTUP_TIMEOUT_MS = 20_000;
const LATE_IDENTIFY_TIMEOUT_MS = 10_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const BUDGET_MARGIN_MS = 500;
const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Failures

class ScenarioError extends Error {
    name = 'ScenarioError';
}

function check(condition, message) {
    if (!condition) {
        throw new ScenarioError(message);
    }
}

// Collects several independent problems so one run reports all of them.
class Problems {
    list = [];

    expect(condition, message) {
        if (!condition) {
            this.list.push(message);
        }
        return condition;
    }

    throwIfAny(context) {
        if (this.list.length > 0) {
            throw new ScenarioError(`${context}:\n  - ${this.list.join('\n  - ')}`);
        }
    }
}

// Rejects when `ms` elapse, with a message naming what we were waiting for.
function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        const shown = ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
        timer = setTimeout(() => reject(new ScenarioError(`timed out after ${shown} waiting for ${what}`)),
            Math.max(0, ms));
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// One child process speaking the JSON-lines contract

class Peer {
    constructor(name, command, args) {
        this.name = name;
        this.command = [command, ...args].join(' ');
        this.events = [];
        this.waiters = new Set();
        this.exit = null;  // {code, signal} once exited
        this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        this.child.stdin.on('error', () => {});  // EPIPE if the peer exits early; we see the exit
        this.exited = new Promise((resolve) => {
            this.child.on('exit', (code, signal) => {
                this.exit = { code, signal };
                resolve(this.exit);
            });
            this.child.on('error', (err) => {
                this.spawnError = err;
                this.exit = { code: null, signal: null, error: err };
                resolve(this.exit);
            });
        }).then((exit) => {
            this.notify();
            return exit;
        });

        readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
        readline.createInterface({ input: this.child.stderr }).on('line', (line) => {
            process.stderr.write(`[${this.name}] ${line}\n`);
        });
    }

    onLine(line) {
        let event;
        try {
            event = JSON.parse(line);
        } catch {
            event = { event: 'error', message: `stdout line is not JSON: ${JSON.stringify(line)}` };
        }
        if (event === null || typeof event !== 'object' || typeof event.event !== 'string') {
            event = { event: 'error', message: `stdout line is not a JSON event: ${line}` };
        }
        event.at_ms = Math.round(performance.now());
        this.events.push(event);
        this.notify();
    }

    notify() {
        for (const waiter of [...this.waiters]) {
            waiter();
        }
    }

    firstError() {
        return this.events.find((e) => e.event === 'error');
    }

    eventsOf(kind) {
        return this.events.filter((e) => e.event === kind);
    }

    // Resolves with the first event matching `predicate` (called as predicate(event, index)).
    // Rejects if the peer reports an error, exits before such an event, or `timeoutMs` elapse.
    waitFor(what, predicate, timeoutMs) {
        return this.waitUntil(what, () => this.events.find(predicate), timeoutMs);
    }

    // Resolves with the first truthy value `condition()` returns; it is called now and after
    // every new event. Rejects like waitFor.
    waitUntil(what, condition, timeoutMs) {
        const wait = new Promise((resolve, reject) => {
            const test = () => {
                const found = condition();
                if (found) {
                    this.waiters.delete(test);
                    resolve(found);
                    return;
                }
                const error = this.firstError();
                if (error) {
                    this.waiters.delete(test);
                    reject(new ScenarioError(`${this.name} reported an error while we waited for ` +
                        `${what}: ${error.message}`));
                    return;
                }
                if (this.exit) {
                    this.waiters.delete(test);
                    reject(new ScenarioError(`${this.name} exited (${describeExit(this.exit)}) ` +
                        `before ${what}`));
                }
            };
            this.waiters.add(test);
            test();
        });
        return withTimeout(wait, timeoutMs, `${what} from ${this.name}`);
    }

    alive() {
        return this.exit === null;
    }

    // Writes one JSON-line command to the peer's stdin.
    send(command) {
        this.child.stdin.write(`${JSON.stringify(command)}\n`);
    }

    // Sends `command` and resolves with the first `kind` event printed after it.
    request(command, kind, timeoutMs) {
        const from = this.events.length;
        this.send(command);
        return this.waitFor(`a "${kind}" event answering ${JSON.stringify(command)}`,
            (e, i) => i >= from && e.event === kind, timeoutMs);
    }

    closeStdin() {
        if (!this.child.stdin.destroyed) {
            this.child.stdin.end();
        }
    }

    kill(signal) {
        if (this.alive()) {
            this.child.kill(signal);
        }
    }

    // Ask the peer to stop the documented way (close stdin), then insist.
    async stop(timeoutMs) {
        this.closeStdin();
        try {
            return await withTimeout(this.exited, timeoutMs, `${this.name} to exit after stdin closed`);
        } catch (err) {
            this.kill('SIGKILL');
            throw err;
        }
    }
}

function describeExit(exit) {
    if (exit.error) {
        return `could not start: ${exit.error.message}`;
    }
    return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

// ---------------------------------------------------------------------------------------------
// Harness: how to start each kind of peer, and cleanup that always runs

class Harness {
    constructor(options) {
        this.options = options;  // {cppPath, selfTest, timeoutMs}
        this.peers = [];
        this.phase = 'start';  // what the scenario is doing, for the timeout message
        this.deadline = performance.now() + options.timeoutMs;
    }

    remainingMs() {
        return Math.max(0, this.deadline - performance.now());
    }

    // Waits for at most the smaller of `capMs` and the scenario's remaining time, less a margin
    // so that a step's own timeout (which says what was missing) fires before the scenario's.
    budget(capMs = Infinity) {
        return Math.min(capMs, Math.max(0, this.remainingMs() - BUDGET_MARGIN_MS));
    }

    // kind: 'js' (js_peer.mjs) or 'cpp' (chainmesh_interop_peer, or a .mjs file under --self-test).
    spawn(kind, role, args) {
        let command;
        let commandArgs;
        if (kind === 'js') {
            command = process.execPath;
            commandArgs = [JS_PEER, ...args];
        } else if (kind === 'cpp') {
            const cpp = this.options.cppPath;
            if (cpp.endsWith('.mjs')) {
                command = process.execPath;
                commandArgs = [cpp, ...args];
            } else {
                command = cpp;
                commandArgs = args;
            }
        } else {
            throw new Error(`unknown peer kind ${kind}`);
        }
        const peer = new Peer(`${kind} ${role}`, command, commandArgs);
        peer.kind = kind;
        this.peers.push(peer);
        return peer;
    }

    // The agent_version prefix a peer of this kind must announce through identify.
    agentPrefix(kind) {
        if (kind === 'cpp' && !this.options.selfTest) {
            return 'chainmesh/';
        }
        return 'js-libp2p';
    }

    killAll() {
        for (const peer of this.peers) {
            peer.kill('SIGKILL');
        }
    }

    // Best-effort orderly stop of everything still running; never throws.
    async stopAll() {
        await Promise.all(this.peers.filter((p) => p.alive()).map((p) => p.stop(2_000).catch(() => {})));
        this.killAll();
    }

    dumpEvents() {
        for (const peer of this.peers) {
            process.stderr.write(`--- ${peer.name}: ${peer.command}\n`);
            for (const event of peer.events) {
                const { at_ms: _, ...rest } = event;
                process.stderr.write(`    ${JSON.stringify(rest)}\n`);
            }
            process.stderr.write(`    (${peer.exit ? describeExit(peer.exit) : 'still running'})\n`);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reusable steps

function withoutP2p(addr) {
    const at = addr.indexOf('/p2p/');
    return at === -1 ? addr : addr.slice(0, at);
}

// Starts `kind` in listen mode and returns {peer, listening, dialAddr}.
async function startListener(h, kind, role = 'listener') {
    h.phase = `starting the ${kind} ${role}`;
    const peer = h.spawn(kind, role, ['listen', '--listen', LOOPBACK_LISTEN]);
    return { peer, ...(await awaitListening(h, peer)) };
}

// Waits for a started peer's "listening" event, checks it, returns {listening, dialAddr}.
async function awaitListening(h, peer) {
    const listening = await peer.waitFor('"listening"', (e) => e.event === 'listening',
        h.budget(STARTUP_TIMEOUT_MS));
    checkListening(peer, listening);
    const dialAddr = listening.addrs.find((a) => a.startsWith(LOOPBACK_TCP_PREFIX));
    check(dialAddr, `${peer.name} listens on no ${LOOPBACK_TCP_PREFIX} address: ${listening.addrs}`);
    return { listening, dialAddr };
}

function checkListening(peer, e) {
    const p = new Problems();
    p.expect(typeof e.peer_id === 'string' && e.peer_id.length > 0, 'peer_id is missing');
    p.expect(Array.isArray(e.addrs) && e.addrs.length > 0, 'addrs is empty');
    for (const addr of e.addrs ?? []) {
        p.expect(typeof addr === 'string' && addr.endsWith(`/p2p/${e.peer_id}`),
            `address ${addr} does not end in /p2p/${e.peer_id}`);
    }
    p.throwIfAny(`${peer.name} printed a bad "listening" event`);
}

// Checks what `observer` learned through identify about `remote` (a started peer whose
// "listening" event is `remoteListening`).
function checkIdentified(h, problems, observer, remote, remoteListening, identified) {
    const who = `${observer.name}'s identify of ${remote.name}`;
    const prefix = h.agentPrefix(remote.kind);
    problems.expect(identified.peer_id === remoteListening.peer_id,
        `${who}: peer_id ${identified.peer_id}, expected ${remoteListening.peer_id}`);
    problems.expect(typeof identified.agent_version === 'string' &&
        identified.agent_version.startsWith(prefix),
        `${who}: agent_version ${JSON.stringify(identified.agent_version)} does not start with ${prefix}`);
    const protocols = Array.isArray(identified.protocols) ? identified.protocols : [];
    for (const protocol of REQUIRED_PROTOCOLS) {
        problems.expect(protocols.includes(protocol),
            `${who}: protocols ${JSON.stringify(protocols)} lack ${protocol}`);
    }
    const announced = (Array.isArray(identified.listen_addrs) ? identified.listen_addrs : []).map(withoutP2p);
    for (const addr of remoteListening.addrs) {
        problems.expect(announced.includes(withoutP2p(addr)),
            `${who}: listen_addrs ${JSON.stringify(identified.listen_addrs)} lack ${withoutP2p(addr)}`);
    }
    problems.expect(typeof identified.observed_addr === 'string' &&
        identified.observed_addr.startsWith(LOOPBACK_TCP_PREFIX),
        `${who}: observed_addr ${JSON.stringify(identified.observed_addr)} does not start with ` +
        LOOPBACK_TCP_PREFIX);
}

// Checks the dialer's event sequence: listening, identified, N pings, echo (if any), done.
function checkDialerEvents(problems, dialer, { pings, echoBytes, echoStreams }) {
    const kinds = dialer.events.map((e) => e.event);
    problems.expect(kinds[0] === 'listening', `${dialer.name}: first event is ${kinds[0]}, not listening`);
    problems.expect(kinds.at(-1) === 'done', `${dialer.name}: last event is ${kinds.at(-1)}, not done`);
    const firstIdentified = kinds.indexOf('identified');
    const firstPing = kinds.indexOf('ping');
    problems.expect(firstIdentified !== -1, `${dialer.name}: no identified event`);
    if (firstPing !== -1) {
        problems.expect(firstIdentified !== -1 && firstIdentified < firstPing,
            `${dialer.name}: pinged before identify completed`);
    }
    const pingEvents = dialer.eventsOf('ping');
    problems.expect(pingEvents.length === pings, `${dialer.name}: ${pingEvents.length} ping events, expected ${pings}`);
    for (const e of pingEvents) {
        problems.expect(typeof e.rtt_ms === 'number' && Number.isFinite(e.rtt_ms) && e.rtt_ms >= 0,
            `${dialer.name}: bad ping rtt_ms ${JSON.stringify(e.rtt_ms)}`);
    }
    const echoEvents = dialer.eventsOf('echo');
    if (echoBytes > 0) {
        problems.expect(echoEvents.length === 1, `${dialer.name}: ${echoEvents.length} echo events, expected 1`);
        const echo = echoEvents[0] ?? {};
        problems.expect(echo.ok === true, `${dialer.name}: echo ok is ${JSON.stringify(echo.ok)}`);
        problems.expect(echo.streams === echoStreams,
            `${dialer.name}: echo streams ${echo.streams}, expected ${echoStreams}`);
        problems.expect(echo.bytes === echoBytes, `${dialer.name}: echo bytes ${echo.bytes}, expected ${echoBytes}`);
    } else {
        problems.expect(echoEvents.length === 0, `${dialer.name}: unexpected echo event`);
    }
    problems.expect(dialer.firstError() === undefined,
        `${dialer.name}: reported error ${dialer.firstError()?.message}`);
}

function formatBytes(bytes) {
    return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} B`;
}

// One listener, one dialer: the building block of the first four scenarios.
//   listenerKind/dialerKind: 'js' | 'cpp'; pings, echoBytes, echoStreams: the dialer's options;
//   fullIdentify: check every identify field both ways (otherwise only the peer ids).
async function pairScenario(h, { listenerKind, dialerKind, pings, echoBytes, echoStreams, fullIdentify }) {
    const listener = await startListener(h, listenerKind);

    const dialArgs = ['dial', listener.dialAddr, '--listen', LOOPBACK_LISTEN];
    if (pings > 0) {
        dialArgs.push('--ping', String(pings));
    }
    if (echoBytes > 0) {
        dialArgs.push('--echo-bytes', String(echoBytes));
        if (echoStreams !== 1) {
            dialArgs.push('--echo-streams', String(echoStreams));
        }
    }
    h.phase = `running the ${dialerKind} dialer`;
    const dialer = h.spawn(dialerKind, 'dialer', dialArgs);
    const dialerListening = await dialer.waitFor('"listening"', (e) => e.event === 'listening',
        h.budget(STARTUP_TIMEOUT_MS));
    checkListening(dialer, dialerListening);

    const exit = await withTimeout(dialer.exited, h.budget(), `${dialer.name} to finish`);
    const dialerError = dialer.firstError();
    check(!dialerError, `${dialer.name} reported an error: ${dialerError?.message}`);
    check(exit.code === 0, `${dialer.name} ended with ${describeExit(exit)} (expected exit code 0)`);

    h.phase = 'checking';
    // The listener ran identify on the inbound connection; it usually finished long before the
    // dialer did, but allow a little slack.
    const listenerIdentified = await listener.peer.waitFor(`"identified" for ${dialerListening.peer_id}`,
        (e) => e.event === 'identified' && e.peer_id === dialerListening.peer_id,
        h.budget(LATE_IDENTIFY_TIMEOUT_MS));

    const problems = new Problems();
    checkDialerEvents(problems, dialer, { pings, echoBytes, echoStreams });
    const dialerIdentified = dialer.eventsOf('identified');
    for (const e of dialerIdentified) {
        problems.expect(e.peer_id === listener.listening.peer_id,
            `${dialer.name} identified ${e.peer_id}, expected only ${listener.listening.peer_id}`);
    }
    for (const e of listener.peer.eventsOf('identified')) {
        problems.expect(e.peer_id === dialerListening.peer_id,
            `${listener.peer.name} identified ${e.peer_id}, expected only ${dialerListening.peer_id}`);
    }
    if (fullIdentify && dialerIdentified.length > 0) {
        checkIdentified(h, problems, dialer, listener.peer, listener.listening, dialerIdentified[0]);
        checkIdentified(h, problems, listener.peer, dialer, dialerListening, listenerIdentified);
    }
    problems.throwIfAny('checks failed');

    // The listener must have survived the whole exchange and must stop cleanly on stdin EOF.
    h.phase = 'stopping the listener';
    check(listener.peer.alive(), `${listener.peer.name} exited early (${describeExit(listener.peer.exit ?? {})})`);
    const listenerExit = await listener.peer.stop(h.budget(SHUTDOWN_TIMEOUT_MS));
    const listenerError = listener.peer.firstError();
    check(!listenerError, `${listener.peer.name} reported an error: ${listenerError?.message}`);
    check(listenerExit.code === 0,
        `${listener.peer.name} ended with ${describeExit(listenerExit)} after stdin closed (expected 0)`);

    const parts = [fullIdentify ? 'identify checked both ways' : 'identify peer ids ok'];
    if (pings > 0) {
        parts.push(`${pings} pings (rtt ${dialer.eventsOf('ping').map((e) => e.rtt_ms).join('/')} ms)`);
    }
    if (echoBytes > 0) {
        parts.push(`echo ${echoStreams} x ${formatBytes(echoBytes)} ok`);
    }
    return parts.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Gossipsub: four peers in a line, every one with --gossip GOSSIP_TOPIC. Each peer after the
// first connects to the one before it, so a message from one end crosses both implementations
// twice (e.g. cpp A - js B - cpp C - js D). Every node reads publish/scores/mesh commands on
// stdin and prints gossip/mesh/published/scores events (README.md, "Gossip").

const GOSSIP_TOPIC = '/chainmesh/interop/1.0.0';
const LINE_ROLES = ['A', 'B', 'C', 'D'];
const MESH_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 10_000;
const DELIVERY_TIMEOUT_MS = 60_000;
// Data of the fence messages (publishAndCheckDelivery) start with this.
const FENCE_PREFIX = 'fence-';

function sameMembers(a, b) {
    return Array.isArray(a) && a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');
}


function percentile(sorted, p) {
    if (sorted.length === 0) {
        return NaN;
    }
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// layout: one {kind, how} per node; how is 'listen' (first node only), 'connect' (listen mode
// with --connect to the previous node) or 'dial' (dial mode to the previous node, which then
// stays up for commands until stdin closes). Returns the nodes:
// {role, kind, how, peer, id, dialAddr, neighbours: [peer ids]}.
async function startLine(h, layout) {
    const nodes = [];
    for (const [i, { kind, how }] of layout.entries()) {
        const role = LINE_ROLES[i];
        const previous = nodes[i - 1];
        let args;
        if (i === 0) {
            check(how === 'listen', 'the first node of a line must listen');
            args = ['listen', '--listen', LOOPBACK_LISTEN, '--gossip', GOSSIP_TOPIC];
        } else if (how === 'connect') {
            args = ['listen', '--listen', LOOPBACK_LISTEN, '--connect', previous.dialAddr,
                '--gossip', GOSSIP_TOPIC];
        } else if (how === 'dial') {
            args = ['dial', previous.dialAddr, '--listen', LOOPBACK_LISTEN, '--gossip', GOSSIP_TOPIC];
        } else {
            throw new Error(`bad line layout entry ${how}`);
        }
        h.phase = `starting ${kind} ${role}`;
        const peer = h.spawn(kind, role, args);
        const { listening, dialAddr } = await awaitListening(h, peer);
        nodes.push({ role, kind, how, peer, id: listening.peer_id, dialAddr, neighbours: [] });
    }
    for (const [i, node] of nodes.entries()) {
        node.neighbours = [nodes[i - 1], nodes[i + 1]].filter(Boolean).map((n) => n.id);
    }
    return nodes;
}

function describeLine(nodes) {
    return nodes.map((n) => `${n.peer.name}${n.how === 'listen' ? '' : ` (${n.how})`}`).join(' - ');
}

// Waits until every node's mesh for the topic is exactly its neighbours in the line (at most 2
// peers each, below D = 4, so every node grafts all of them and nothing gets pruned), then asks
// each node with the "mesh" command and checks the answer. Returns the seconds that took.
async function waitForFullMeshes(h, nodes, since) {
    h.phase = 'waiting for the gossipsub meshes';
    const name = (id) => nodes.find((n) => n.id === id)?.peer.name ?? id;
    await Promise.all(nodes.map(async (node) => {
        try {
            await node.peer.waitFor(`a mesh of ${node.neighbours.map(name).join(' + ')}`,
                (e) => e.event === 'mesh' && e.topic === GOSSIP_TOPIC && sameMembers(e.peers, node.neighbours),
                h.budget(MESH_TIMEOUT_MS));
        } catch (err) {
            const last = node.peer.eventsOf('mesh').at(-1);
            throw new ScenarioError(`${err.message}; its last mesh event: ` +
                (last ? JSON.stringify(last.peers.map(name)) : 'none'));
        }
    }));
    const meshSeconds = (performance.now() - since) / 1000;

    const replies = await Promise.all(nodes.map((node) => node.peer.request({ cmd: 'mesh' }, 'mesh',
        h.budget(COMMAND_TIMEOUT_MS))));
    const problems = new Problems();
    for (const [i, node] of nodes.entries()) {
        problems.expect(replies[i].topic === GOSSIP_TOPIC,
            `${node.peer.name}: mesh reply topic ${JSON.stringify(replies[i].topic)}`);
        problems.expect(sameMembers(replies[i].peers, node.neighbours),
            `${node.peer.name}: mesh reply ${JSON.stringify(replies[i].peers)}, expected ` +
            JSON.stringify(node.neighbours));
    }
    problems.throwIfAny('"mesh" command');
    return meshSeconds;
}

// Publishes every message of `plan` (Map node -> [data strings]) through stdin commands, all
// written at once, publishers interleaved. Waits until every node printed a "gossip" event for
// each message published by the other nodes, then for a fence (below), then checks author,
// topic, duplicates and strays. Returns delivery statistics.
async function publishAndCheckDelivery(h, nodes, plan) {
    h.phase = 'publishing';
    const authorOf = new Map();     // data -> publishing node
    const sentAt = new Map();       // data -> performance.now() when the command was written
    const firstSeen = new Map();    // node -> event count before publishing
    for (const node of nodes) {
        firstSeen.set(node, node.peer.events.length);
    }
    for (const [node, messages] of plan) {
        for (const data of messages) {
            check(!authorOf.has(data), `message ${data} planned twice`);
            authorOf.set(data, node);
        }
    }
    const rounds = Math.max(...[...plan.values()].map((m) => m.length));
    const started = performance.now();
    for (let k = 0; k < rounds; k++) {
        for (const [node, messages] of plan) {
            if (k < messages.length) {
                sentAt.set(messages[k], performance.now());
                node.peer.send({ cmd: 'publish', topic: GOSSIP_TOPIC, data: messages[k] });
            }
        }
    }
    const isFence = (data) => typeof data === 'string' && data.startsWith(FENCE_PREFIX);
    const gossipOf = (node) => node.peer.events.filter((e, i) => i >= firstSeen.get(node) &&
        e.event === 'gossip' && !isFence(e.data));
    const expectedAt = (node) => [...authorOf].filter(([, author]) => author !== node).map(([data]) => data);

    const publishedOk = Promise.all([...plan].map(([node, messages]) => node.peer.waitUntil(
        `${messages.length} "published" events`,
        () => node.peer.eventsOf('published').length >= messages.length,
        h.budget(DELIVERY_TIMEOUT_MS))));
    h.phase = 'waiting for gossip deliveries';
    const deliveredOk = Promise.all(nodes.map((node) => {
        const expected = new Set(expectedAt(node));
        return node.peer.waitUntil(`gossip events for all ${expected.size} messages of the others`,
            () => {
                const seen = new Set(gossipOf(node).map((e) => e.data).filter((d) => expected.has(d)));
                return seen.size === expected.size;
            }, h.budget(DELIVERY_TIMEOUT_MS));
    }));
    let deliveryError = null;
    await Promise.all([publishedOk, deliveredOk]).catch((err) => {
        deliveryError = err;
    });
    const deliveredSeconds = (performance.now() - started) / 1000;
    if (!deliveryError) {
        // A fence instead of a fixed wait for late duplicates: every node publishes one more
        // message and we wait until each has every other node's. A duplicate still in flight
        // went out before the fence on its path, and links keep their order.
        h.phase = 'waiting for the fences';
        const fences = nodes.map((node) => [node, `${FENCE_PREFIX}${node.peer.name}`]);
        for (const [node, data] of fences) {
            node.peer.send({ cmd: 'publish', topic: GOSSIP_TOPIC, data });
        }
        await Promise.all(nodes.map((node) => node.peer.waitUntil('the other nodes\' fences',
            () => {
                const seen = new Set(node.peer.eventsOf('gossip').map((e) => e.data));
                return fences.every(([other, data]) => other === node || seen.has(data));
            }, h.budget(DELIVERY_TIMEOUT_MS)))).catch((err) => {
            deliveryError = err;
        });
    }

    h.phase = 'checking gossip deliveries';
    const problems = new Problems();
    const latencies = [];
    let deliveries = 0;
    for (const [node, messages] of plan) {
        const published = node.peer.eventsOf('published').filter((e) => !isFence(e.data));
        const publishedData = published.map((e) => e.data);
        problems.expect(sameMembers(publishedData, messages) && new Set(publishedData).size === messages.length,
            `${node.peer.name}: published events for ${publishedData.length} messages, expected each ` +
            `of its ${messages.length} once`);
        for (const e of published) {
            problems.expect(e.topic === GOSSIP_TOPIC, `${node.peer.name}: published event with topic ${e.topic}`);
        }
    }
    for (const node of nodes) {
        const counts = new Map();
        for (const e of gossipOf(node)) {
            const author = authorOf.get(e.data);
            if (!problems.expect(author !== undefined,
                `${node.peer.name}: gossip event for a message nobody published: ${JSON.stringify(e)}`)) {
                continue;
            }
            counts.set(e.data, (counts.get(e.data) ?? 0) + 1);
            problems.expect(author !== node, `${node.peer.name} received its own message ${e.data}`);
            problems.expect(e.from === author.id,
                `${node.peer.name}: message ${e.data} has from ${e.from}, expected ${author.id} (${author.peer.name})`);
            problems.expect(e.topic === GOSSIP_TOPIC, `${node.peer.name}: message ${e.data} on topic ${e.topic}`);
            if (counts.get(e.data) === 1 && author !== node) {
                deliveries++;
                latencies.push(Math.max(0, Math.round(e.at_ms - sentAt.get(e.data))));
            }
        }
        const duplicates = [...counts].filter(([, n]) => n > 1);
        problems.expect(duplicates.length === 0, `${node.peer.name}: ${duplicates.length} messages delivered ` +
            `more than once, e.g. ${duplicates.slice(0, 3).map(([d, n]) => `${d} x${n}`).join(', ')}`);
        const missing = expectedAt(node).filter((d) => !counts.has(d));
        problems.expect(missing.length === 0, `${node.peer.name}: ${missing.length} messages never arrived, ` +
            `e.g. ${missing.slice(0, 5).join(', ')}`);
    }
    if (deliveryError && problems.list.length === 0) {
        throw deliveryError;
    }
    problems.throwIfAny(deliveryError ? `${deliveryError.message}; delivery checks` : 'delivery checks');
    latencies.sort((a, b) => a - b);
    return { messages: authorOf.size, deliveries, deliveredSeconds, latencies };
}

// Asks every node for its scores; every connected neighbour must be listed and none below 0.
async function checkScores(h, nodes) {
    h.phase = 'asking for peer scores';
    const replies = await Promise.all(nodes.map((node) => node.peer.request({ cmd: 'scores' }, 'scores',
        h.budget(COMMAND_TIMEOUT_MS))));
    const problems = new Problems();
    const all = [];
    for (const [i, node] of nodes.entries()) {
        const scores = replies[i].scores;
        if (!problems.expect(scores !== null && typeof scores === 'object' && !Array.isArray(scores),
            `${node.peer.name}: scores is ${JSON.stringify(scores)}, not an object`)) {
            continue;
        }
        for (const id of node.neighbours) {
            problems.expect(Object.hasOwn(scores, id), `${node.peer.name}: no score for its neighbour ${id}`);
        }
        for (const [id, score] of Object.entries(scores)) {
            const other = nodes.find((n) => n.id === id)?.peer.name ?? id;
            if (problems.expect(typeof score === 'number' && Number.isFinite(score),
                `${node.peer.name}: score of ${other} is ${JSON.stringify(score)}`)) {
                problems.expect(score >= 0, `${node.peer.name} scores ${other} at ${score} (< 0)`);
                all.push(score);
            }
        }
    }
    problems.throwIfAny('peer scores');
    return all;
}

// Closes every node's stdin; each must exit 0 without having reported an error, and the dial
// mode nodes must have printed "done".
async function stopLine(h, nodes) {
    h.phase = 'stopping the line';
    for (const node of nodes) {
        check(node.peer.alive(), `${node.peer.name} exited early (${describeExit(node.peer.exit ?? {})})`);
    }
    const exits = await Promise.all(nodes.map((node) => node.peer.stop(h.budget(SHUTDOWN_TIMEOUT_MS))));
    const problems = new Problems();
    for (const [i, node] of nodes.entries()) {
        const error = node.peer.firstError();
        problems.expect(!error, `${node.peer.name} reported an error: ${error?.message}`);
        problems.expect(exits[i].code === 0,
            `${node.peer.name} ended with ${describeExit(exits[i])} after stdin closed (expected 0)`);
        if (node.how === 'dial') {
            problems.expect(node.peer.eventsOf('done').length === 1, `${node.peer.name} (dial mode) printed no "done"`);
        }
    }
    problems.throwIfAny('shutdown');
}

function formatLatencies(latencies) {
    return `p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, ` +
        `max ${latencies.at(-1)} ms`;
}

// layout: see startLine; plan(nodes) -> Map node -> [data strings].
async function gossipLineScenario(h, layout, plan) {
    const started = performance.now();
    const nodes = await startLine(h, layout);
    const allListening = performance.now();
    const meshSeconds = await waitForFullMeshes(h, nodes, allListening);
    const stats = await publishAndCheckDelivery(h, nodes, plan(nodes));
    const scores = await checkScores(h, nodes);
    await stopLine(h, nodes);
    return `${describeLine(nodes)}: all listening after ${((allListening - started) / 1000).toFixed(2)} s, ` +
        `meshes complete ${meshSeconds.toFixed(2)} s later; ` +
        `${stats.messages} messages, ${stats.deliveries} deliveries in ${stats.deliveredSeconds.toFixed(2)} s ` +
        `(${(stats.deliveries / stats.deliveredSeconds).toFixed(0)}/s; from publish command: ` +
        `${formatLatencies(stats.latencies)}), no duplicates; ` +
        `scores all >= 0 (min ${Math.min(...scores).toFixed(3)}, max ${Math.max(...scores).toFixed(3)})`;
}

function manyMessages(node, count) {
    return Array.from({ length: count }, (_, k) => `${node.role}#${String(k).padStart(3, '0')} from ${node.kind}`);
}

// ---------------------------------------------------------------------------------------------
// The scenarios. Pair scenarios: A = listener, B = dialer. Gossip scenarios: a line A - B - C - D
// (see gossipLineScenario). New rows may build on Harness, startListener, Peer.waitFor/waitUntil/
// request and Problems.

const SCENARIOS = {
    'cpp-dials-js': (h) => pairScenario(h, {
        listenerKind: 'js', dialerKind: 'cpp', pings: 3, echoBytes: 16 * MIB, echoStreams: 1,
        fullIdentify: true,
    }),
    'js-dials-cpp': (h) => pairScenario(h, {
        listenerKind: 'cpp', dialerKind: 'js', pings: 3, echoBytes: 16 * MIB, echoStreams: 1,
        fullIdentify: true,
    }),
    'streams-cpp-dials-js': (h) => pairScenario(h, {
        listenerKind: 'js', dialerKind: 'cpp', pings: 0, echoBytes: 65536, echoStreams: 64,
        fullIdentify: false,
    }),
    'streams-js-dials-cpp': (h) => pairScenario(h, {
        listenerKind: 'cpp', dialerKind: 'js', pings: 0, echoBytes: 65536, echoStreams: 64,
        fullIdentify: false,
    }),
    // cpp A <- js B (listen --connect A) <- cpp C (dial B) <- js D (dial C); one message each.
    'gossip-mesh': (h) => gossipLineScenario(h, [
        { kind: 'cpp', how: 'listen' },
        { kind: 'js', how: 'connect' },
        { kind: 'cpp', how: 'dial' },
        { kind: 'js', how: 'dial' },
    ], (nodes) => new Map(nodes.map((n) => [n, [`hello from ${n.role} (${n.kind})`]]))),
    // The mirror image, js A - cpp B - js C - cpp D, so each implementation plays each mode;
    // 100 messages from each end, published back to back.
    'gossip-mesh-many': (h) => gossipLineScenario(h, [
        { kind: 'js', how: 'listen' },
        { kind: 'cpp', how: 'connect' },
        { kind: 'js', how: 'dial' },
        { kind: 'cpp', how: 'dial' },
    ], (nodes) => new Map([nodes[0], nodes.at(-1)].map((n) => [n, manyMessages(n, 100)]))),
};

// ---------------------------------------------------------------------------------------------
// Command line and main

function usageAndExit(problem) {
    process.stderr.write(`scenario.mjs: ${problem}\n` +
        'usage: node scenario.mjs <scenario|all> --cpp <chainmesh_interop_peer> [--timeout-s 120] ' +
        '[--self-test]\n' +
        `scenarios: ${Object.keys(SCENARIOS).join(', ')}\n`);
    process.exit(2);
}

function parseCommandLine(argv) {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                cpp: { type: 'string' },
                'timeout-s': { type: 'string', default: '120' },
                'self-test': { type: 'boolean', default: false },
            },
        });
    } catch (err) {
        usageAndExit(err.message);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) {
        usageAndExit('give exactly one scenario name (or "all")');
    }
    const name = positionals[0];
    if (name !== 'all' && !Object.hasOwn(SCENARIOS, name)) {
        usageAndExit(`unknown scenario "${name}"`);
    }
    if (!values.cpp) {
        usageAndExit('--cpp is required');
    }
    const cppPath = path.resolve(values.cpp);
    if (!existsSync(cppPath)) {
        usageAndExit(`--cpp ${cppPath} does not exist`);
    }
    if (cppPath.endsWith('.mjs')) {
        if (!values['self-test']) {
            usageAndExit('--cpp points at a .mjs file; that is only allowed with --self-test');
        }
    } else {
        try {
            accessSync(cppPath, fsConstants.X_OK);
        } catch {
            usageAndExit(`--cpp ${cppPath} is not executable`);
        }
    }
    const timeoutS = Number(values['timeout-s']);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
        usageAndExit(`--timeout-s wants a positive number, got ${values['timeout-s']}`);
    }
    return {
        names: name === 'all' ? Object.keys(SCENARIOS) : [name],
        options: { cppPath, selfTest: values['self-test'], timeoutMs: timeoutS * 1000 },
    };
}

let current = null;  // the running Harness, for the exit/signal handlers

function killCurrent() {
    current?.killAll();
}

process.on('exit', killCurrent);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
        process.stderr.write(`scenario.mjs: ${signal}, killing peers\n`);
        killCurrent();
        process.exit(1);
    });
}

async function runOne(name, options) {
    const h = new Harness(options);
    current = h;
    const started = performance.now();
    const seconds = () => ((performance.now() - started) / 1000).toFixed(2);
    try {
        const scenario = SCENARIOS[name](h);
        const summary = await withTimeout(scenario, h.remainingMs(), 'the scenario to finish').catch((err) => {
            scenario.catch(() => {});  // its own rejection, if any, comes later and is moot
            if (err instanceof ScenarioError && err.message.endsWith('the scenario to finish')) {
                throw new ScenarioError(`--timeout-s ${options.timeoutMs / 1000} expired while ${h.phase}`);
            }
            throw err;
        });
        await h.stopAll();
        process.stdout.write(`PASS ${name} in ${seconds()} s${options.selfTest ? ' [self-test]' : ''}: ` +
            `${summary}\n`);
        return true;
    } catch (err) {
        const message = err instanceof ScenarioError ? err.message : (err.stack ?? String(err));
        process.stderr.write(`scenario ${name} failed: ${message}\n`);
        h.killAll();
        await Promise.all(h.peers.map((p) => withTimeout(p.exited, 2_000, 'exit').catch(() => {})));
        h.dumpEvents();
        process.stdout.write(`FAIL ${name} after ${seconds()} s: ${message.split('\n')[0]}\n`);
        return false;
    } finally {
        current = null;
    }
}

async function main() {
    const { names, options } = parseCommandLine(process.argv.slice(2));
    if (!existsSync(path.join(HERE, 'node_modules', 'libp2p'))) {
        process.stderr.write(`scenario.mjs: ${path.join(HERE, 'node_modules')} is missing; ` +
            `run "npm ci" in ${HERE} first\n`);
        process.exit(2);
    }
    let failures = 0;
    for (const name of names) {
        if (!(await runOne(name, options))) {
            failures++;
        }
    }
    if (names.length > 1) {
        process.stdout.write(`${names.length - failures}/${names.length} scenarios passed\n`);
    }
    process.exit(failures === 0 ? 0 : 1);
}

main().catch((err) => {
    process.stderr.write(`scenario.mjs: ${err.stack ?? err}\n`);
    killCurrent();
    process.exit(1);
});
