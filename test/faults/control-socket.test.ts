// Control-socket abuse, against an engine running in a child process (so its memory is what is
// measured): a client that floods requests and never reads its replies, more idle connections
// than the server admits, and garbage / huge / invalid / half-closed input. The server must stay
// bounded, keep answering others, and give everything back when the abuser leaves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/control-api/client.js';
import type { ControlServerStats } from '../../src/control-api/server.js';

const MB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('./control-engine-child.js', import.meta.url));

interface Mem {
  rss: number;
  heap: number;
  external: number;
  clients: number;
  unsent: number;
  stats: ControlServerStats;
  drops: string[];
}

interface Engine {
  sock: string;
  mem(): Promise<Mem>;
  stop(): Promise<void>;
}

async function startEngine(t: { after(fn: () => Promise<void>): void }, stallMs = 3000): Promise<Engine> {
  const sock = path.join(
    os.tmpdir(),
    `ovt-fault-${process.pid}-${Math.random().toString(16).slice(2, 8)}.sock`,
  );
  const child: ChildProcess = fork(CHILD, [sock, String(stallMs)], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: ((m: Mem) => void)[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('engine child not ready within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`engine child exited (${code})`)));
    child.on('message', (m: Mem | { ready: true }) => {
      if ('ready' in m) {
        clearTimeout(timer);
        resolve();
      } else replies.shift()?.(m);
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.send({ cmd: 'exit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };
  t.after(stop);
  return {
    sock,
    mem: () =>
      new Promise((resolve) => {
        replies.push(resolve);
        child.send({ cmd: 'mem' });
      }),
    stop,
  };
}

function mb(n: number): string {
  return `${(n / MB).toFixed(1)} MB`;
}

/** heapUsed + external: what the engine holds for JS (buffers included), after a full GC. */
function held(m: Mem): number {
  return m.heap + m.external;
}

function connect(sock: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Answers within `ms` from a fresh typed client, or throws. */
async function answersWithin(sock: string, ms: number): Promise<number> {
  const t0 = Date.now();
  const c = await Promise.race([
    (async () => {
      const cl = await ControlClient.connect(sock);
      await cl.call('getVersion', {});
      return cl;
    })(),
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms)),
  ]);
  const took = Date.now() - t0;
  await c.close();
  return took;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('400k requests without reading replies: engine memory stays bounded, the client is paused then dropped, memory returns', async (t) => {
  const eng = await startEngine(t, 3000);
  // Warm up the code paths (JIT, first replies) before the baseline.
  for (let i = 0; i < 3; i++) await answersWithin(eng.sock, 2000);
  const before = await eng.mem();

  const s = await connect(eng.sock);
  s.pause(); // never read a reply
  let closed = false;
  s.on('close', () => (closed = true));
  s.on('error', () => undefined);
  const N = 400_000;
  let sent = 0;
  let peak = before;
  const deadline = Date.now() + 20_000;
  // Write as fast as the socket takes it; stop at N, when the server stops reading (our writes
  // then stay blocked) or when it drops us.
  while (sent < N && !closed && Date.now() < deadline) {
    let ok = true;
    while (ok && sent < N) {
      ok = s.write(`{"id":${sent},"cmd":"getStats","args":{}}\n`);
      sent++;
    }
    if (!ok) {
      const drained = await Promise.race([
        new Promise<boolean>((r) => s.once('drain', () => r(true))),
        sleep(500).then(() => false),
      ]);
      if (!drained) {
        const m = await eng.mem();
        if (held(m) > held(peak)) peak = m;
        // Blocked and the server holds us paused: another client is still served meanwhile.
        if (m.stats.paused > 0 && !closed) await answersWithin(eng.sock, 1000);
      }
    }
  }
  const during = await eng.mem();
  if (held(during) > held(peak)) peak = during;
  // The server drops a client that stays paused for stallMs (3 s here).
  for (let i = 0; i < 100 && !closed; i++) await sleep(100);
  s.destroy();
  await sleep(200);
  const after = await eng.mem();
  t.diagnostic(
    `requests written ${sent}/${N}; engine heap+external before ${mb(held(before))}, peak ${mb(held(peak))}, after ${mb(held(after))}; ` +
      `rss before ${mb(before.rss)}, peak ${mb(peak.rss)}, after ${mb(after.rss)}; stats ${JSON.stringify(after.stats)}`,
  );
  for (const d of after.drops) t.diagnostic(d);
  assert.ok(closed, 'the server dropped the client that did not read');
  assert.ok(after.stats.paused >= 1, 'the client was paused (backpressure) before the drop');
  assert.equal(after.stats.stalled + after.stats.outputLimit + after.stats.totalOutputLimit, 1);
  assert.ok(held(peak) - held(before) < 8 * MB, `grew by ${mb(held(peak) - held(before))} while flooded`);
  assert.ok(peak.rss - before.rss < 32 * MB, `rss grew by ${mb(peak.rss - before.rss)} while flooded`);
  assert.ok(
    held(after) - held(before) < 2 * MB,
    `${mb(held(after) - held(before))} still held after disconnect`,
  );
  assert.equal(after.clients, 0);
  assert.equal(after.unsent, 0);
  assert.ok(
    after.drops.some((l) => /dropped a connection \((stalled|outputLimit)/.test(l)),
    after.drops.join('\n'),
  );
  await answersWithin(eng.sock, 1000);
});

test('70 idle connections (some subscribed) cannot lock out a new client', async (t) => {
  const eng = await startEngine(t);
  const idle: net.Socket[] = [];
  t.after(async () => {
    for (const s of idle) s.destroy();
  });
  for (let i = 0; i < 70; i++) {
    const s = await connect(eng.sock);
    s.on('error', () => undefined);
    s.resume();
    if (i % 3 === 0) s.write('{"id":1,"cmd":"subscribe","args":{"events":true}}\n');
    idle.push(s);
  }
  await sleep(100);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await answersWithin(eng.sock, 1000));
  const m = await eng.mem();
  t.diagnostic(`answer times ${times.join(', ')} ms with 70 idle connections; ${JSON.stringify(m.stats)}`);
  assert.ok(m.clients <= 64, `${m.clients} connections held`);
  assert.ok(m.stats.evictedIdle >= 6, 'the longest-idle connections made room');
});

test('garbage, huge lines, invalid JSON and a half-closing client: an error or a drop, and others are served', async (t) => {
  const eng = await startEngine(t);
  const before = await eng.mem();
  const cases: { name: string; send: (s: net.Socket) => void }[] = [
    { name: 'binary garbage', send: (s) => s.write(Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 0x80, 0x81, 10])) },
    { name: 'invalid JSON', send: (s) => s.write('{"id":1,"cmd":"getStats",,}\n{{{{\n') },
    { name: 'not an object', send: (s) => s.write('42\n"x"\nnull\n[]\n') },
    { name: 'unknown command', send: (s) => s.write('{"id":1,"cmd":"rm -rf /"}\n') },
    {
      name: '4 MB line',
      send: (s) => {
        const chunk = 'a'.repeat(64 * 1024);
        for (let i = 0; i < 64; i++) s.write(chunk);
        s.write('\n');
      },
    },
    { name: 'huge line, no newline, then half-close', send: (s) => s.end('b'.repeat(1024 * 1024)) },
    { name: 'half-close after a request', send: (s) => s.end('{"id":9,"cmd":"getVersion","args":{}}\n') },
  ];
  for (const c of cases) {
    const s = await connect(eng.sock);
    let got = '';
    let closed = false;
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('error', () => undefined);
    s.on('close', () => (closed = true));
    c.send(s);
    for (let i = 0; i < 40 && !closed && !got.includes('\n'); i++) await sleep(50);
    const replies = got
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
    t.diagnostic(
      `${c.name}: ${closed ? 'closed' : 'open'}, replies ${replies.map((r) => (r.ok ? 'ok' : r.error?.code)).join(' ')}`,
    );
    assert.ok(replies.length > 0 || closed, `${c.name}: neither a reply nor a drop`);
    if (c.name.startsWith('half-close'))
      assert.equal(replies[0]?.ok, true, 'a half-closed client still gets its reply');
    else if (replies.length > 0)
      assert.ok(
        replies.some((r) => !r.ok),
        `${c.name}: expected an error reply`,
      );
    s.destroy();
    assert.ok((await answersWithin(eng.sock, 1000)) < 1000, `${c.name}: others still served`);
  }
  await sleep(100);
  const after = await eng.mem();
  t.diagnostic(`heap+external before ${mb(held(before))}, after ${mb(held(after))}`);
  assert.equal(after.clients, 0);
  assert.ok(held(after) - held(before) < 2 * MB, 'nothing kept after the abusive clients left');
});
