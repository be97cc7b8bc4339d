#!/usr/bin/env node
// The js-libp2p side of bench/bench_gossip.cpp: N gossipsub nodes in this one node.js process
// (one event loop), linked by the given edges over loopback TCP + noise + yamux, publish the
// same workload as the chainmesh run and print one JSON line of results on stdout.
//
//   node bench/gossip_js.mjs --edges 0-1,1-2,... [--nodes 8] [--messages 1000] [--size 256]
//        [--publishers 1] [--interval-ms 0] [--heartbeat-ms 100] [--timeout-s 60]
//        [--mesh-timeout-s 30]
//
// Edge a-b: node a dials node b. Message i (its index in its first 4 bytes, little-endian) is
// published by node i % publishers; interval 0 is one publish per event-loop turn, else one
// every interval ms on a fixed schedule. The measures follow bench_gossip.cpp's header rules:
// latency from the publish call to the 'message' event at each other node (nearest-rank
// percentiles), messages per second that reached every node, process CPU (user + system, all
// threads) from the first publish to the last delivery per delivery, and (RSS after − RSS
// before the nodes were created) / nodes. The result has "error" instead when the run could
// not happen. The packages are those of tests/interop (the versions the interop tests pin),
// with the same gossipsub settings as chainmesh's run: library defaults, StrictSign, the given
// heartbeat, no IP-colocation penalty.

import '../tests/interop/polyfill.mjs'; // must stay the first import: libp2p needs Promise.withResolvers

import { readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const TOPIC = '/chainmesh/bench/gossip';
const INTEROP_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'interop');

function emit(result) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
}

function fail(err) {
    emit({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    process.exit(1);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

// ESM resolves bare package names from the importing file's folder, which is not
// tests/interop, and these packages export only an "import" entry, so require.resolve cannot
// find them either: read the entry from each package's own exports map.
async function importInterop(name) {
    const dir = path.join(INTEROP_DIR, 'node_modules', name);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const root = typeof pkg.exports === 'string' ? pkg.exports : pkg.exports?.['.'];
    const entry = typeof root === 'string' ? root : root?.import ?? root?.default ?? pkg.main;
    if (typeof entry !== 'string') {
        throw new Error(`cannot find the entry point of ${name}`);
    }
    return import(pathToFileURL(path.join(dir, entry)).href);
}

function positiveInt(name, text, fallback, { zero = false } = {}) {
    if (text === undefined) {
        return fallback;
    }
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || (value === 0 && !zero)) {
        throw new Error(`--${name} wants a ${zero ? 'non-negative' : 'positive'} integer, got "${text}"`);
    }
    return value;
}

function parseCommandLine(argv) {
    const { values } = parseArgs({
        args: argv,
        strict: true,
        options: {
            edges: { type: 'string' },
            nodes: { type: 'string' },
            messages: { type: 'string' },
            size: { type: 'string' },
            publishers: { type: 'string' },
            'interval-ms': { type: 'string' },
            'heartbeat-ms': { type: 'string' },
            'timeout-s': { type: 'string' },
            'mesh-timeout-s': { type: 'string' },
        },
    });
    const config = {
        nodes: positiveInt('nodes', values.nodes, 8),
        messages: positiveInt('messages', values.messages, 1000),
        size: positiveInt('size', values.size, 256),
        publishers: positiveInt('publishers', values.publishers, 1),
        intervalMs: positiveInt('interval-ms', values['interval-ms'], 0, { zero: true }),
        heartbeatMs: positiveInt('heartbeat-ms', values['heartbeat-ms'], 100),
        timeoutMs: positiveInt('timeout-s', values['timeout-s'], 60) * 1000,
        meshTimeoutMs: positiveInt('mesh-timeout-s', values['mesh-timeout-s'], 30) * 1000,
    };
    if (config.nodes < 2 || config.nodes > 64 || config.publishers > config.nodes ||
        config.size < 4 || config.size > 1 << 20 || config.messages >= 2 ** 32) {
        throw new Error('need 2..64 nodes, publishers <= nodes, 4 B..1 MiB messages');
    }
    config.edges = (values.edges ?? '').split(',').filter((e) => e !== '').map((e) => {
        const m = /^(\d+)-(\d+)$/.exec(e);
        const [a, b] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
        if (!(a < config.nodes && b < config.nodes && a !== b)) {
            throw new Error(`bad edge "${e}" for ${config.nodes} nodes`);
        }
        return [a, b];
    });
    if (config.edges.length === 0) {
        throw new Error('--edges is required');
    }
    return config;
}

// mulberry32: the payload only needs to be incompressible-looking and fixed per seed.
function payloads(count, size, seed) {
    let state = seed >>> 0;
    const next = () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return (t ^ (t >>> 14)) >>> 0;
    };
    const all = [];
    for (let i = 0; i < count; i++) {
        const data = new Uint8Array(size);
        for (let j = 0; j < size; j++) {
            data[j] = next() & 0xff;
        }
        new DataView(data.buffer).setUint32(0, i, true);
        all.push(data);
    }
    return all;
}

// Who received what, when (performance.now() milliseconds).
class Tracker {
    constructor(messages, nodes) {
        this.messages = messages;
        this.nodes = nodes;
        this.publishAt = new Float64Array(messages);
        this.publisher = new Int32Array(messages).fill(-1);
        this.reached = new Uint32Array(messages);
        this.seen = new Uint8Array(messages * nodes);
        this.latencies = [];
        this.delivered = 0;
        this.duplicates = 0;
        this.complete = 0;
        this.firstPublish = undefined;
        this.lastComplete = undefined;
        this.onDone = () => {};
    }

    published(index, publisher, at) {
        this.firstPublish ??= at;
        this.publishAt[index] = at;
        this.publisher[index] = publisher;
    }

    deliveredTo(node, data, at) {
        if (data.length < 4) {
            return;
        }
        const index = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
        if (index >= this.messages || this.publisher[index] === node || this.publisher[index] < 0) {
            return;
        }
        const slot = index * this.nodes + node;
        if (this.seen[slot]) {
            this.duplicates++;
            return;
        }
        this.seen[slot] = 1;
        this.delivered++;
        this.latencies.push(at - this.publishAt[index]);
        if (++this.reached[index] === this.nodes - 1) {
            this.complete++;
            this.lastComplete = at;
        }
        if (this.done()) {
            this.onDone();
        }
    }

    done() {
        return this.delivered === this.messages * (this.nodes - 1);
    }
}

// Nearest rank, as bench_gossip.cpp computes it.
function percentile(sorted, p) {
    if (sorted.length === 0) {
        return 0;
    }
    const rank = Math.min(Math.max(Math.ceil(p * sorted.length), 1), sorted.length);
    return sorted[rank - 1];
}

async function main() {
    const config = parseCommandLine(process.argv.slice(2));
    const [{ createLibp2p }, { gossipsub }, { identify }, { noise }, { ping }, { tcp }, { yamux }] =
        await Promise.all(['libp2p', '@libp2p/gossipsub', '@libp2p/identify', '@libp2p/noise',
            '@libp2p/ping', '@libp2p/tcp', '@libp2p/yamux'].map(importInterop));
    const data = payloads(config.messages, config.size, 9);
    const tracker = new Tracker(config.messages, config.nodes);
    const degree = new Array(config.nodes).fill(0);
    for (const [a, b] of config.edges) {
        degree[a]++;
        degree[b]++;
    }

    const rssBefore = process.memoryUsage.rss();
    const nodes = [];
    for (let i = 0; i < config.nodes; i++) {
        const node = await createLibp2p({
            addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
            transports: [tcp()],
            connectionEncrypters: [noise()],
            streamMuxers: [yamux()],
            peerDiscovery: [],
            services: {
                identify: identify(),
                ping: ping(),
                pubsub: gossipsub({
                    globalSignaturePolicy: 'StrictSign',
                    heartbeatInterval: config.heartbeatMs,
                    fallbackToFloodsub: false,
                    emitSelf: false,
                    scoreParams: {
                        IPColocationFactorWeight: 0,
                        IPColocationFactorWhitelist: new Set(['127.0.0.1']),
                    },
                }),
            },
        });
        node.services.pubsub.subscribe(TOPIC);
        node.services.pubsub.addEventListener('message', (evt) => {
            if (evt.detail.topic === TOPIC) {
                tracker.deliveredTo(i, evt.detail.data, performance.now());
            }
        });
        nodes.push(node);
    }
    for (const [a, b] of config.edges) {
        await nodes[a].dial(nodes[b].getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) });
    }

    // Every link in the mesh: checked after each heartbeat of any node, as the C++ side does.
    const meshStart = performance.now();
    const formed = () => nodes.every((node, i) =>
        node.services.pubsub.getMeshPeers(TOPIC).length >= degree[i]);
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            stopWatching();
            reject(new Error(`the meshes did not form within ${config.meshTimeoutMs / 1000} s`));
        }, config.meshTimeoutMs);
        const check = () => {
            if (formed()) {
                clearTimeout(timer);
                stopWatching();
                resolve();
            }
        };
        const stopWatching = () => nodes.forEach((node) =>
            node.services.pubsub.removeEventListener('gossipsub:heartbeat', check));
        nodes.forEach((node) => node.services.pubsub.addEventListener('gossipsub:heartbeat', check));
        check();
    });
    const meshMs = performance.now() - meshStart;

    let timedOut = false;
    const finished = new Promise((resolve) => {
        tracker.onDone = resolve;
        setTimeout(() => {
            timedOut = true;
            resolve();
        }, config.timeoutMs).unref();
    });
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < config.messages && !timedOut; i++) {
        if (config.intervalMs > 0) {
            const wait = start + i * config.intervalMs - performance.now();
            if (wait > 0) {
                await new Promise((resolve) => setTimeout(resolve, wait));
            }
        }
        const publisher = i % config.publishers;
        tracker.published(i, publisher, performance.now());
        await nodes[publisher].services.pubsub.publish(TOPIC, data[i]);
        if (config.intervalMs === 0) {
            await new Promise(setImmediate);
        }
    }
    if (!tracker.done()) {
        await finished;
    }
    const cpu = process.cpuUsage(cpuBefore);
    const rssAfter = process.memoryUsage.rss();

    const sorted = Float64Array.from(tracker.latencies).sort();
    const seconds = tracker.complete > 0 ? (tracker.lastComplete - tracker.firstPublish) / 1000 : 0;
    emit({
        impl: 'js-libp2p',
        nodes: config.nodes,
        messages: config.messages,
        expected: config.messages * (config.nodes - 1),
        delivered: tracker.delivered,
        duplicates: tracker.duplicates,
        complete: tracker.complete,
        timed_out: !tracker.done(),
        mesh_ms: meshMs,
        p50_ms: percentile(sorted, 0.5),
        p99_ms: percentile(sorted, 0.99),
        msgs_per_s: seconds > 0 ? tracker.complete / seconds : 0,
        cpu_us_per_delivery: tracker.delivered > 0 ? (cpu.user + cpu.system) / tracker.delivered : 0,
        rss_mb_per_node: (rssAfter - rssBefore) / config.nodes / 1e6,
    });
    // No orderly stop: the process ends here, as the chainmesh run's does.
    process.exit(0);
}

main().catch(fail);
