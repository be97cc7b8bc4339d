#!/usr/bin/env node
// One js-libp2p node for the chainmesh interop tests: TCP + Noise + yamux, identify, ping, and the
// echo protocol /chainmesh/echo/1.0.0, optionally gossipsub on one topic. The C++
// chainmesh_interop_peer implements the same command line and prints the same JSON events, so
// scenario.mjs can put either program in either role.
//
//   js_peer.mjs listen [--listen MA]... [--connect ADDR]... [--gossip TOPIC]
//   js_peer.mjs dial ADDR [--listen MA]... [--connect ADDR]... [--gossip TOPIC]
//                         [--ping N] [--echo-bytes B] [--echo-streams S]
//
// stdout carries one JSON object per line and nothing else; diagnostics go to stderr. With
// --gossip, stdin carries JSON-line commands (publish, scores, mesh).
// See README.md for the full contract.

import './polyfill.mjs'; // must stay the first import: libp2p needs Promise.withResolvers

import { setMaxListeners } from 'node:events';
import process from 'node:process';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';

const ECHO_PROTOCOL = '/chainmesh/echo/1.0.0';
const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/0';
const OVERALL_TIMEOUT_MS = 120_000;
const IDENTIFY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const ECHO_CHUNK_BYTES = 64 * 1024;
const ECHO_STREAMS_MAX = 1024;
// While the echo handler is paused, yamux stops granting window, but the remote may still send
// whatever window it was already granted, and js yamux grows a stream's window up to 16 MiB
// (maxStreamWindowSize). The default 4 MiB read buffer limit would reset the stream.
const ECHO_READ_BUFFER_BYTES = 32 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 30_000;

// Gossipsub settings for small local test networks (/work/shared/libp2p-interop.md sections 10
// and 15). chainmesh_interop_peer uses the same values; README.md lists them.
function gossipOptions(topic) {
    return {
        globalSignaturePolicy: 'StrictSign',
        D: 4,
        Dlo: 2,
        Dhi: 6,
        Dout: 1,
        Dlazy: 4,
        heartbeatInterval: 700,
        // Publish only to mesh peers (the js default floods our own messages to every subscribed
        // peer, which would let a broken mesh go unnoticed).
        floodPublish: false,
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // Speak only /meshsub/1.x: a peer must not pass these tests by falling back to floodsub.
        fallbackToFloodsub: false,
        // msgIdFn deliberately not set: the js StrictSign default, PublicKey protobuf || seqno.
        scoreParams: {
            // Every peer is on 127.0.0.1: no IP-colocation penalty.
            IPColocationFactorWeight: 0,
            IPColocationFactorWhitelist: new Set(['127.0.0.1']),
            // js defaults let penalties fade within ~2 s (decay 0.2 per 1 s interval) and apply
            // no topic scoring at all, so a score check after a test would see 0 whatever
            // happened. Here every penalty lasts minutes and outweighs the small rewards: one
            // invalid message (P4) or one behaviour penalty (P7) makes the score negative.
            behaviourPenaltyWeight: -10,
            behaviourPenaltyThreshold: 0,
            behaviourPenaltyDecay: 0.99,
            decayToZero: 0.01,
            topics: {
                [topic]: {
                    topicWeight: 1,
                    timeInMeshWeight: 0.01,      // P1: +0.01 per second in the mesh
                    timeInMeshQuantum: 1000,     // (js counts mesh time in ms)
                    timeInMeshCap: 3600,
                    firstMessageDeliveriesWeight: 0.01,  // P2: at most +1
                    firstMessageDeliveriesDecay: 0.5,
                    firstMessageDeliveriesCap: 100,
                    meshMessageDeliveriesWeight: 0,      // P3/P3b off: depend on message rate
                    meshFailurePenaltyWeight: 0,
                    invalidMessageDeliveriesWeight: -10, // P4: -10 per invalid message, squared
                    invalidMessageDeliveriesDecay: 0.99,
                },
            },
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Output

function emit(event) {
    // stdout is a pipe in every real use; Node writes to pipes synchronously on Linux, so a line
    // emitted right before process.exit() is not lost.
    process.stdout.write(`${JSON.stringify(event)}\n`);
}

function log(...parts) {
    process.stderr.write(`[js_peer ${process.pid}] ${parts.join(' ')}\n`);
}

let failed = false;

function fail(err) {
    if (failed) {
        return;
    }
    failed = true;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    emit({ event: 'error', message });
    if (err instanceof Error && !(err instanceof UsageError) && err.stack) {
        log(err.stack);
    }
    process.exit(1);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

// ---------------------------------------------------------------------------------------------
// Command line

class UsageError extends Error {
    name = 'UsageError';
}

function usage(problem) {
    throw new UsageError(`${problem}; usage: ` +
        'js_peer.mjs listen [--listen MA]... [--connect ADDR]... [--gossip TOPIC] | ' +
        'js_peer.mjs dial ADDR [--listen MA]... [--connect ADDR]... [--gossip TOPIC] ' +
        '[--ping N] [--echo-bytes B] [--echo-streams S]');
}

function nonNegativeInt(name, text, fallback) {
    if (text === undefined) {
        return fallback;
    }
    if (!/^\d+$/.test(text)) {
        usage(`--${name} wants a non-negative integer, got "${text}"`);
    }
    const value = Number(text);
    if (!Number.isSafeInteger(value)) {
        usage(`--${name} is too large: ${text}`);
    }
    return value;
}

// The value of the last /p2p/ component (multiaddr 13 dropped Multiaddr.getPeerId()).
function peerIdOf(ma) {
    const p2p = ma.getComponents().filter((c) => c.code === CODE_P2P);
    return p2p.length === 0 ? undefined : p2p[p2p.length - 1].value;
}

function parseCommandLine(argv) {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                listen: { type: 'string', multiple: true },
                connect: { type: 'string', multiple: true },
                gossip: { type: 'string', multiple: true },
                ping: { type: 'string' },
                'echo-bytes': { type: 'string' },
                'echo-streams': { type: 'string' },
            },
        });
    } catch (err) {
        usage(err.message);
    }
    const { values, positionals } = parsed;
    const mode = positionals[0];
    const config = {
        mode,
        listen: values.listen ?? [DEFAULT_LISTEN],
        pings: nonNegativeInt('ping', values.ping, 0),
        echoBytes: nonNegativeInt('echo-bytes', values['echo-bytes'], 0),
        echoStreams: nonNegativeInt('echo-streams', values['echo-streams'], 1),
        connect: (values.connect ?? []).map((text) => {
            const target = multiaddr(text);
            const remotePeer = peerIdOf(target);
            if (remotePeer == null) {
                usage(`--connect address must end in /p2p/<peer id>: ${text}`);
            }
            return { target, remotePeer };
        }),
        gossipTopic: undefined,
    };
    if (values.gossip !== undefined) {
        if (values.gossip.length !== 1) {
            usage('--gossip may be given only once');
        }
        if (values.gossip[0] === '') {
            usage('--gossip wants a non-empty topic');
        }
        config.gossipTopic = values.gossip[0];
    }
    if (mode === 'listen') {
        if (positionals.length !== 1) {
            usage('listen takes no positional arguments');
        }
        if (values.ping !== undefined || values['echo-bytes'] !== undefined ||
            values['echo-streams'] !== undefined) {
            usage('--ping/--echo-bytes/--echo-streams only apply to dial');
        }
    } else if (mode === 'dial') {
        if (positionals.length !== 2) {
            usage('dial takes exactly one address');
        }
        config.target = multiaddr(positionals[1]);
        config.remotePeer = peerIdOf(config.target);
        if (config.remotePeer == null) {
            usage(`dial address must end in /p2p/<peer id>: ${positionals[1]}`);
        }
        if (config.echoStreams < 1 || config.echoStreams > ECHO_STREAMS_MAX) {
            usage(`--echo-streams must be in 1..${ECHO_STREAMS_MAX}`);
        }
    } else {
        usage(`unknown mode "${mode ?? ''}"`);
    }
    return config;
}

// ---------------------------------------------------------------------------------------------
// Stream helpers (libp2p 3 streams: send() + 'drain'/'message'/'end'/'close' events)

// Resolves once the stream may be written to again. We wait for the next 'drain' event ourselves
// instead of using stream.onDrain(): in @libp2p/utils 7 onDrain() keeps its first, already
// resolved promise forever, so from the second back-pressure episode on it no longer waits.
function writable(stream) {
    if (!stream.writableNeedsDrain) {
        return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
        const cleanup = () => {
            stream.removeEventListener('drain', onDrain);
            stream.removeEventListener('close', onClose);
        };
        const onDrain = () => {
            cleanup();
            resolve();
        };
        const onClose = (evt) => {
            cleanup();
            reject(evt.error ?? new Error('stream closed while waiting to write'));
        };
        stream.addEventListener('drain', onDrain);
        stream.addEventListener('close', onClose);
    });
}

function asBytes(chunk) {
    return chunk instanceof Uint8Array ? chunk : chunk.subarray();
}

// A yamux Data frame may carry the FIN flag together with payload (legal per the spec; go and
// js put FIN on an empty WindowUpdate instead). js yamux 8 processes the flag first, so the
// stream emits 'remoteCloseWrite'/'end' *before* the frame's payload, and `for await (... of
// stream)` has already finished when that payload arrives: it is lost. We therefore read with
// 'message' events and treat end-of-stream as final only one macrotask later (the payload is
// dispatched synchronously right after the flag). When it happens we say so on stderr, because
// ordinary js-libp2p applications would lose those bytes.
function noteDataAfterEnd(stream, bytes) {
    if (!stream.chainmeshWarned) {
        stream.chainmeshWarned = true;
        log(`warning: ${bytes} bytes arrived on ${stream.protocol} stream ${stream.id} after the ` +
            'remote half-closed it (FIN on a non-empty Data frame?); js-libp2p readers that use ' +
            'async iteration would lose them');
    }
}

// Calls onBytes(Uint8Array) for everything the remote sends; resolves at end of stream.
function readAll(stream, onBytes) {
    return new Promise((resolve, reject) => {
        let settled = false;
        let ended = false;
        const settle = (err) => {
            if (settled) {
                return;
            }
            settled = true;
            stream.removeEventListener('message', onMessage);
            stream.removeEventListener('end', onEnd);
            stream.removeEventListener('close', onClose);
            if (err) {
                reject(err);
            } else {
                resolve();
            }
        };
        const onMessage = (evt) => {
            const bytes = asBytes(evt.data);
            if (ended) {
                noteDataAfterEnd(stream, bytes.length);
            }
            try {
                onBytes(bytes);
            } catch (err) {
                settle(err);
            }
        };
        const onEnd = () => {
            ended = true;
            setImmediate(() => settle());
        };
        const onClose = (evt) => {
            if (evt.error != null) {
                settle(evt.error);
            } else {
                onEnd();
            }
        };
        stream.addEventListener('message', onMessage);
        stream.addEventListener('end', onEnd);
        stream.addEventListener('close', onClose);
        if (stream.readableEnded) {
            onEnd();
        }
    });
}

// Echo every byte back until the remote half-closes, then half-close ourselves. Reading pauses
// while our send buffer is full, so yamux stops granting window to the remote: real back-pressure
// instead of buffering whatever the remote sends.
function serveEcho(stream) {
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, ECHO_READ_BUFFER_BYTES);
    return new Promise((resolve, reject) => {
        let waiting = false;   // paused until our send buffer drains
        let ended = false;     // the remote half-closed (payload of its FIN frame may follow)
        let closing = false;
        const fail = (err) => {
            stream.abort(err);
            reject(err);
        };
        const maybeFinish = () => {
            if (closing || !ended || waiting || stream.readBufferLength > 0) {
                return;
            }
            closing = true;
            stream.close().then(resolve, reject);
        };
        stream.addEventListener('message', (evt) => {
            if (ended) {
                noteDataAfterEnd(stream, evt.data.byteLength);
            }
            try {
                if (stream.send(evt.data) || waiting) {
                    return;
                }
                waiting = true;
                stream.pause();
            } catch (err) {
                fail(err);
                return;
            }
            writable(stream).then(() => {
                waiting = false;
                if (stream.readStatus === 'paused') {
                    stream.resume();  // dispatches what queued up, possibly pausing again
                }
                maybeFinish();
            }, fail);
        });
        const onEnd = () => {
            ended = true;
            setImmediate(maybeFinish);
        };
        stream.addEventListener('end', onEnd);
        stream.addEventListener('close', (evt) => {
            if (evt.error != null) {
                reject(evt.error);
            } else {
                resolve();
            }
        });
        if (stream.readableEnded) {
            onEnd();
        }
    });
}

// Byte i of echo stream k.
function patternByte(k, i) {
    return (i * 31 + k * 7) & 0xff;
}

// The pattern repeats every 256 bytes, so one chunk-sized buffer per stream serves every write
// whose offset is a multiple of 256 (all of them: chunks are 64 KiB).
function patternChunk(k) {
    const chunk = new Uint8Array(ECHO_CHUNK_BYTES);
    for (let i = 0; i < chunk.length; i++) {
        chunk[i] = patternByte(k, i);
    }
    return chunk;
}

async function echoOnce(connection, k, totalBytes, signal) {
    const stream = await connection.newStream(ECHO_PROTOCOL, { signal });
    const chunk = patternChunk(k);

    let received = 0;
    const reader = readAll(stream, (bytes) => {
        if (received + bytes.length > totalBytes) {
            throw new Error(`echo stream ${k}: received more than the ${totalBytes} bytes sent`);
        }
        for (let j = 0; j < bytes.length; j++) {
            if (bytes[j] !== patternByte(k, received + j)) {
                throw new Error(`echo stream ${k}: byte ${received + j} is ${bytes[j]}, ` +
                    `expected ${patternByte(k, received + j)}`);
            }
        }
        received += bytes.length;
    }).then(() => {
        if (received !== totalBytes) {
            throw new Error(`echo stream ${k}: remote closed after ${received} of ${totalBytes} bytes`);
        }
    });
    // If reading fails first, reset the stream so the writer below stops too.
    reader.catch((err) => stream.abort(err));

    const writer = (async () => {
        for (let offset = 0; offset < totalBytes; offset += ECHO_CHUNK_BYTES) {
            const length = Math.min(ECHO_CHUNK_BYTES, totalBytes - offset);
            if (!stream.send(chunk.subarray(0, length))) {
                await writable(stream);
            }
        }
        await stream.close({ signal });
    })();

    await Promise.all([reader, writer]);
}

// ---------------------------------------------------------------------------------------------
// The node

// Starts the node; with a gossip topic it also runs gossipsub (node.services.pubsub) and has
// subscribed to the topic before the "listening" event is printed.
async function startNode(listen, gossipTopic) {
    const services = {
        identify: identify(),
        ping: ping(),
    };
    if (gossipTopic !== undefined) {
        services.pubsub = gossipsub(gossipOptions(gossipTopic));
    }
    const node = await createLibp2p({
        addresses: { listen },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        // No peer discovery, DHT, autonat, relay or upnp: nothing leaves loopback.
        peerDiscovery: [],
        services,
    });
    if (gossipTopic !== undefined) {
        node.services.pubsub.subscribe(gossipTopic);
    }
    await node.handle(ECHO_PROTOCOL, (stream, connection) => {
        serveEcho(stream).catch((err) => {
            log(`echo stream from ${connection.remotePeer} failed: ${err.message}`);
        });
    }, {
        maxInboundStreams: ECHO_STREAMS_MAX,
        maxOutboundStreams: ECHO_STREAMS_MAX,
    });

    node.addEventListener('peer:identify', (evt) => {
        const result = evt.detail;
        emit({
            event: 'identified',
            peer_id: result.peerId.toString(),
            agent_version: result.agentVersion ?? '',
            protocol_version: result.protocolVersion ?? '',
            protocols: result.protocols,
            listen_addrs: result.listenAddrs.map(String),
            observed_addr: result.observedAddr == null ? '' : result.observedAddr.toString(),
        });
    });
    node.addEventListener('connection:open', (evt) => {
        const c = evt.detail;
        log(`connection ${c.direction} ${c.remotePeer} ${c.remoteAddr}`);
    });
    node.addEventListener('connection:close', (evt) => {
        const c = evt.detail;
        log(`connection closed ${c.remotePeer} ${c.remoteAddr}`);
    });

    emit({
        event: 'listening',
        peer_id: node.peerId.toString(),
        addrs: node.getMultiaddrs().map(String),
    });
    return node;
}

async function stopNode(node) {
    let timer;
    const timeout = new Promise((resolve) => {
        timer = setTimeout(() => {
            log('node.stop() did not finish in time');
            resolve();
        }, STOP_TIMEOUT_MS);
    });
    await Promise.race([node.stop(), timeout]);
    clearTimeout(timer);
}

function waitForIdentify(node, peerId, timeoutMs) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            node.removeEventListener('peer:identify', onIdentify);
            reject(new Error(`identify of ${peerId} did not complete within ${timeoutMs} ms ` +
                "(js-libp2p swallows the reason; rerun with DEBUG='libp2p:identify*' to see it)"));
        }, timeoutMs);
        const onIdentify = (evt) => {
            if (evt.detail.peerId.toString() === peerId) {
                clearTimeout(timer);
                node.removeEventListener('peer:identify', onIdentify);
                resolve(evt.detail);
            }
        };
        node.addEventListener('peer:identify', onIdentify);
    });
}

// ---------------------------------------------------------------------------------------------
// Gossip: events about the topic on stdout, JSON-line commands on stdin

const utf8Decoder = new TextDecoder();  // not fatal: invalid UTF-8 becomes U+FFFD
const utf8Encoder = new TextEncoder();

class Gossip {
    constructor(node, topic) {
        this.node = node;
        this.pubsub = node.services.pubsub;
        this.topic = topic;
        this.lastMesh = '[]';     // JSON of the last mesh we printed (the mesh starts empty)
        this.meshCheckQueued = false;
        this.queue = Promise.resolve();  // commands run one after another, in input order

        this.pubsub.addEventListener('message', (evt) => {
            const msg = evt.detail;
            if (msg.topic !== this.topic) {
                return;
            }
            emit({
                event: 'gossip',
                topic: msg.topic,
                data: utf8Decoder.decode(msg.data),
                from: msg.type === 'signed' ? msg.from.toString() : '',
            });
        });
        // The mesh changes in heartbeats, on GRAFT/PRUNE (sent or received) and when a peer
        // disconnects. The graft/prune events also fire for GRAFTs that were refused, so we
        // compare the actual mesh with what we last printed instead of trusting the events.
        const queueMeshCheck = () => {
            if (!this.meshCheckQueued) {
                this.meshCheckQueued = true;
                setImmediate(() => {
                    this.meshCheckQueued = false;
                    this.reportMeshIfChanged();
                });
            }
        };
        this.pubsub.addEventListener('gossipsub:heartbeat', queueMeshCheck);
        this.pubsub.addEventListener('gossipsub:graft', queueMeshCheck);
        this.pubsub.addEventListener('gossipsub:prune', queueMeshCheck);
        node.addEventListener('connection:close', queueMeshCheck);
    }

    meshPeers() {
        return this.pubsub.getMeshPeers(this.topic).map(String).sort();
    }

    reportMeshIfChanged() {
        const peers = this.meshPeers();
        const json = JSON.stringify(peers);
        if (json !== this.lastMesh) {
            this.lastMesh = json;
            emit({ event: 'mesh', topic: this.topic, peers });
        }
    }

    // Reads commands until stdin ends, then calls onEnd() after the last command has run.
    readCommands(onEnd) {
        const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
        lines.on('line', (line) => {
            if (line.trim() === '') {
                return;
            }
            this.queue = this.queue.then(() => this.run(line)).catch(fail);
        });
        lines.on('close', () => {
            this.queue = this.queue.then(onEnd, fail);
        });
        process.stdin.on('error', () => lines.close());
    }

    async run(line) {
        let command;
        try {
            command = JSON.parse(line);
        } catch {
            throw new UsageError(`stdin line is not JSON: ${line}`);
        }
        if (command === null || typeof command !== 'object' || typeof command.cmd !== 'string') {
            throw new UsageError(`stdin line is not a JSON command: ${line}`);
        }
        switch (command.cmd) {
        case 'publish': {
            if (command.topic !== this.topic) {
                throw new UsageError(`publish: topic ${JSON.stringify(command.topic)} is not the ` +
                    `--gossip topic ${JSON.stringify(this.topic)}`);
            }
            if (typeof command.data !== 'string') {
                throw new UsageError(`publish: data must be a string: ${line}`);
            }
            const result = await this.pubsub.publish(this.topic, utf8Encoder.encode(command.data));
            if (result.recipients.length === 0) {
                log(`warning: published ${JSON.stringify(command.data)} to no peer (empty mesh?)`);
            }
            emit({ event: 'published', topic: this.topic, data: command.data });
            break;
        }
        case 'scores': {
            const scores = {};
            for (const peer of this.node.getPeers()) {
                const id = peer.toString();
                scores[id] = this.pubsub.getScore(id);
            }
            emit({ event: 'scores', scores });
            break;
        }
        case 'mesh': {
            const peers = this.meshPeers();
            this.lastMesh = JSON.stringify(peers);
            emit({ event: 'mesh', topic: this.topic, peers });
            break;
        }
        default:
            throw new UsageError(`unknown command ${JSON.stringify(command.cmd)}`);
        }
    }
}

// Dials every --connect address (no ping, no echo). Each must connect within the time limit.
async function connectAll(node, targets) {
    for (const { target, remotePeer } of targets) {
        const connection = await node.dial(target, { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
        log(`connected to ${remotePeer} via ${connection.remoteAddr} (--connect)`);
    }
}

// Serves until stdin ends (after running every command in it, with --gossip) or a signal.
function serveUntilStdinEnds(node, gossip) {
    let stopping = false;
    const shutdown = async (why) => {
        if (stopping) {
            return;
        }
        stopping = true;
        log(`stopping: ${why}`);
        await stopNode(node);
        process.exit(0);
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    if (gossip) {
        gossip.readCommands(() => shutdown('stdin closed'));
    } else {
        process.stdin.on('end', () => shutdown('stdin closed'));
        process.stdin.on('error', () => shutdown('stdin error'));
        process.stdin.on('data', () => {});  // discard input; we only watch for its end
        process.stdin.resume();
    }
}

// ---------------------------------------------------------------------------------------------
// Modes

async function runListen(config) {
    const node = await startNode(config.listen, config.gossipTopic);
    const gossip = config.gossipTopic === undefined ? null : new Gossip(node, config.gossipTopic);
    serveUntilStdinEnds(node, gossip);
    await connectAll(node, config.connect);
}

async function runDial(config) {
    const deadline = setTimeout(() => {
        fail(new Error(`dial scenario did not finish within ${OVERALL_TIMEOUT_MS / 1000} s`));
    }, OVERALL_TIMEOUT_MS);
    const signal = AbortSignal.timeout(OVERALL_TIMEOUT_MS);
    setMaxListeners(Infinity, signal);  // shared by every echo stream

    const node = await startNode(config.listen, config.gossipTopic);
    let gossip = null;
    if (config.gossipTopic !== undefined) {
        gossip = new Gossip(node, config.gossipTopic);
        serveUntilStdinEnds(node, gossip);  // commands are accepted from the start
    }
    const remote = config.remotePeer;
    const identified = waitForIdentify(node, remote, IDENTIFY_TIMEOUT_MS);
    identified.catch(() => {});  // awaited below; avoid an unhandled rejection meanwhile

    const connection = await node.dial(config.target, { signal });
    log(`connected to ${remote} via ${connection.remoteAddr}`);
    await connectAll(node, config.connect);
    await identified;

    for (let i = 0; i < config.pings; i++) {
        const rtt = await node.services.ping.ping(connection.remotePeer, { signal });
        emit({ event: 'ping', rtt_ms: rtt });
    }

    if (config.echoBytes > 0) {
        const started = performance.now();
        const streams = [];
        for (let k = 0; k < config.echoStreams; k++) {
            streams.push(echoOnce(connection, k, config.echoBytes, signal));
        }
        await Promise.all(streams);
        const seconds = (performance.now() - started) / 1000;
        const mib = (config.echoBytes * config.echoStreams) / (1024 * 1024);
        log(`echo: ${config.echoStreams} x ${config.echoBytes} bytes in ${seconds.toFixed(3)} s ` +
            `(${(mib / seconds).toFixed(1)} MiB/s each way)`);
        emit({ event: 'echo', streams: config.echoStreams, bytes: config.echoBytes, ok: true });
    }

    emit({ event: 'done' });
    clearTimeout(deadline);
    if (gossip) {
        return;  // keep serving gossip until stdin closes (serveUntilStdinEnds)
    }
    await stopNode(node);
    process.exit(0);
}

async function main() {
    const config = parseCommandLine(process.argv.slice(2));
    if (config.mode === 'listen') {
        await runListen(config);
    } else {
        await runDial(config);
    }
}

main().catch(fail);
