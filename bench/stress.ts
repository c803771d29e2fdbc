// `npm run stress` (not part of npm test): hostile input at volume, then a soak.
//
//   1. datagrams  N fuzzed datagrams (default 10M), half into an engine's receive path (the
//                 hostile mix of test/engine/hostile.ts: random, mutated, replayed, fresh), half
//                 into the control-channel decoders (tls-crypt unwrap, then decodeControlPacket)
//                 on random, mutated, replayed and fresh packets. 0 exceptions, and the counters
//                 (engine: delivered + keepalive + control + drops; control: ok + each reason)
//                 sum to exactly the number fed.
//   2. soak       an engine pair (in memory) under continuous traffic, while a third engine takes
//                 the hostile mix and control-socket abusers flood without reading and hold idle
//                 connections. RSS sampled every second (after a GC); after warm-up (the first 20%, at least
//                 10 s) the mean of the last fifth must be within 5% of the mean of the first fifth.
//
//   node dist/bench/stress.js [--datagrams N] [--soak-seconds S]     (defaults 10000000, 600)
// Exit 0 when every check holds, 1 otherwise. Re-executes itself with --expose-gc.

import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../src/engine/engine.js';
import { applyStaticKey } from '../src/engine/static-key.js';
import { MemoryHost } from '../src/os/memory-host.js';
import { generateStaticKey } from '../src/protocol/static-key.js';
import { StaticKey } from '../src/protocol/control/static-key.js';
import { TlsCryptWrap } from '../src/protocol/control/wrap.js';
import { decodeControlPacket, encodeControlPacket } from '../src/protocol/control/packet.js';
import { Opcode } from '../src/protocol/control/constants.js';
import { startControlServer } from '../src/control-api/server.js';
import { HostileFeed, InjectTransport, SLOTS, accounted } from '../test/engine/hostile.js';
import { makePair, settle } from '../test/engine/helpers.js';
import { Prng } from '../test/protocol/prng.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: {
    datagrams: { type: 'string', default: '10000000' },
    'soak-seconds': { type: 'string', default: '600' },
  },
});
const DATAGRAMS = Number(values.datagrams);
const SOAK_S = Number(values['soak-seconds']);
if (!Number.isInteger(DATAGRAMS) || DATAGRAMS < 2 || !Number.isFinite(SOAK_S) || SOAK_S < 0) {
  console.error('stress: --datagrams N (>= 2) --soak-seconds S (>= 0)');
  process.exit(2);
}

let failed = false;
function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed = true;
}
const MB = 1024 * 1024;

// ---- 1a. data path ---------------------------------------------------------------------------

async function engineDatagrams(n: number): Promise<void> {
  const keyText = generateStaticKey();
  const host = new MemoryHost({ verifyPayload: false });
  const engine = await Engine.create({ host });
  const t = new InjectTransport();
  await engine.api.call('newPeer', { transport: t });
  await applyStaticKey(engine.api, { keyText, cipher: 'AES-256-GCM', direction: 1 });
  const feed = new HostileFeed(keyText, 0x57e55);
  const t0 = Date.now();
  let crashed = '';
  try {
    await feed.feed(t, n);
  } catch (e) {
    crashed = (e as Error).stack ?? String(e);
  }
  await settle(300);
  const a = accounted(engine, host);
  const s = (Date.now() - t0) / 1000;
  console.log(
    `data path: ${n} datagrams in ${s.toFixed(1)} s (${Math.round(n / s)}/s); kinds ${JSON.stringify(feed.kinds)}; ` +
      `delivered ${a.delivered}, control ${a.control}, drops ${a.drops} ${JSON.stringify(engine.drops())}`,
  );
  check(crashed === '', `data path: no exception ${crashed}`);
  check(a.total === n, `data path: counters sum to the datagrams fed (${a.total} of ${n})`);
  check(t.freeSlots === SLOTS, 'data path: every receive slot released');
  await engine.close();
}

// ---- 1b. control channel ---------------------------------------------------------------------

function controlDatagrams(n: number): void {
  const key = new StaticKey(Buffer.from(new Prng(7).bytes(256)));
  const client = new TlsCryptWrap({ key, role: 'client' });
  const server = new TlsCryptWrap({ key, role: 'server' });
  const rnd = new Prng(0xc0ffee);
  const sid = Buffer.from(rnd.bytes(8));
  const plain = (id: number, size: number): Buffer =>
    encodeControlPacket({
      opcode: Opcode.CONTROL_V1,
      keyId: 0,
      sessionId: sid,
      acks: id % 3 === 0 ? [id - 1] : [],
      ackSessionId: id % 3 === 0 ? sid : undefined,
      messageId: id,
      payload: Buffer.from(rnd.bytes(size)),
    });
  const recent: Buffer[] = [];
  const counts: Record<string, number> = { ok: 0 };
  const kinds = { random: 0, mutated: 0, replayed: 0, fresh: 0 };
  let crashed = '';
  let msgId = 1;
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    let dice = rnd.int(100);
    let wire: Buffer;
    if (recent.length === 0) dice = 99;
    if (dice < 30) {
      wire = Buffer.from(rnd.bytes(rnd.int(1600)));
      if (wire.length > 0 && dice < 10) wire[0] = (Opcode.CONTROL_V1 << 3) | rnd.int(8);
      kinds.random++;
    } else if (dice < 75) {
      wire = Buffer.from(rnd.mutate(recent[rnd.int(recent.length)]!));
      kinds.mutated++;
    } else if (dice < 90) {
      wire = recent[rnd.int(recent.length)]!;
      kinds.replayed++;
    } else {
      wire = client.wrap(plain(msgId++, rnd.int(1200)), 1_700_000_000 + (i >>> 16));
      if (recent.length < 64) recent.push(wire);
      else recent[rnd.int(64)] = wire;
      kinds.fresh++;
    }
    try {
      const u = server.unwrap(wire);
      if (!u.ok) {
        counts[`wrap:${u.reason}`] = (counts[`wrap:${u.reason}`] ?? 0) + 1;
        continue;
      }
      const d = decodeControlPacket(u.plain);
      const k = d.ok ? 'ok' : `packet:${d.reason}`;
      counts[k] = (counts[k] ?? 0) + 1;
    } catch (e) {
      crashed = (e as Error).stack ?? String(e);
      break;
    }
  }
  const s = (Date.now() - t0) / 1000;
  const sum = Object.values(counts).reduce((x, y) => x + y, 0);
  console.log(
    `control: ${n} datagrams in ${s.toFixed(1)} s (${Math.round(n / s)}/s); kinds ${JSON.stringify(kinds)}; results ${JSON.stringify(counts)}`,
  );
  check(crashed === '', `control: no exception ${crashed}`);
  check(sum === n, `control: results sum to the datagrams fed (${sum} of ${n})`);
  check((counts.ok ?? 0) <= kinds.fresh, 'control: only fresh authentic packets accepted');
}

// ---- 2. soak ---------------------------------------------------------------------------------

async function soak(seconds: number): Promise<void> {
  const pair = await makePair({ host: { capture: false, verifyPayload: false } });
  const hostileKey = generateStaticKey();
  const hostHost = new MemoryHost({ verifyPayload: false });
  const victim = await Engine.create({ host: hostHost });
  const inject = new InjectTransport();
  await victim.api.call('newPeer', { transport: inject });
  await applyStaticKey(victim.api, { keyText: hostileKey, cipher: 'AES-256-GCM', direction: 1 });
  const feed = new HostileFeed(hostileKey, 0xbad);
  const sock = path.join(os.tmpdir(), `ovt-stress-${process.pid}.sock`);
  const server = await startControlServer(pair.a.api, { path: sock, stallMs: 2000 });

  const end = Date.now() + seconds * 1000;
  let frames = 0;
  let hostile = 0;
  let abusers = 0;
  const traffic = (async () => {
    while (Date.now() < end) {
      const base = pair.hostB.stats.rxPackets;
      pair.hostA.generate(200);
      const until = Date.now() + 2000;
      while (pair.hostB.stats.rxPackets < base + 200 && Date.now() < until) await settle(1);
      frames += 200;
    }
  })();
  const hostileLoop = (async () => {
    while (Date.now() < end) {
      await feed.feed(inject, 4096);
      hostile += 4096;
      await settle(5);
    }
  })();
  const abuseLoop = (async () => {
    while (Date.now() < end) {
      abusers++;
      const idle: net.Socket[] = [];
      for (let i = 0; i < 20; i++) {
        const s = net.connect(sock);
        s.on('error', () => undefined);
        idle.push(s);
      }
      const flood = net.connect(sock);
      flood.on('error', () => undefined);
      flood.pause();
      await new Promise<void>((r) => flood.once('connect', () => r()));
      for (let i = 0; i < 20_000; i++) flood.write(`{"id":${i},"cmd":"getStats","args":{}}\n`);
      await settle(2500); // the server pauses it, then drops it after stallMs
      flood.destroy();
      for (const s of idle) s.destroy();
      await settle(500);
    }
  })();

  const samples: number[] = [];
  const sampler = (async () => {
    while (Date.now() < end) {
      await settle(1000);
      gc?.(); // what is retained, not how far the young generation happened to grow
      samples.push(process.memoryUsage().rss);
    }
  })();
  await Promise.all([traffic, hostileLoop, abuseLoop, sampler]);
  await settle(300);
  const warm = Math.max(10, Math.floor(samples.length * 0.2));
  const steady = samples.slice(warm);
  const fifth = Math.max(1, Math.floor(steady.length / 5));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(steady.slice(0, fifth));
  const last = mean(steady.slice(-fifth));
  const change = (last - first) / first;
  const a = accounted(victim, hostHost);
  console.log(
    `soak ${seconds} s: ${frames} frames through the pair (${pair.hostB.stats.rxPackets} delivered), ${hostile} hostile datagrams, ` +
      `${abusers} abuse rounds; control-socket drops ${JSON.stringify(server.stats)}; rss samples ${samples.length}, ` +
      `after warm-up min ${(Math.min(...steady) / MB).toFixed(1)} MB, max ${(Math.max(...steady) / MB).toFixed(1)} MB, ` +
      `first fifth ${(first / MB).toFixed(1)} MB, last fifth ${(last / MB).toFixed(1)} MB (${(change * 100).toFixed(1)}%)`,
  );
  check(steady.length >= 5, `soak: enough samples after warm-up (${steady.length})`);
  check(Math.abs(change) < 0.05, `soak: RSS flat within 5% after warm-up (${(change * 100).toFixed(1)}%)`);
  check(a.total === hostile, `soak: hostile datagrams all counted (${a.total} of ${hostile})`);
  check(pair.hostB.stats.rxPackets > 0, 'soak: traffic flowed');
  check(server.clientCount <= 64, `soak: control connections bounded (${server.clientCount})`);
  await server.close();
  await victim.close();
  await pair.close();
}

const half = Math.floor(DATAGRAMS / 2);
await engineDatagrams(half);
controlDatagrams(DATAGRAMS - half);
if (SOAK_S > 0) await soak(SOAK_S);
console.log(failed ? 'stress: FAILED' : 'stress: all checks passed');
process.exit(failed ? 1 : 0);
