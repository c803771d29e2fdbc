// uv_poll watchers: fire on readiness, do not keep the process alive once unwatched (or unref'd),
// tolerate double unwatch and unwatch from their own callback, and surface callback throws as
// 'uncaughtException'. Process-lifetime cases run in a child node so a hang is observable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { nativeAddonPath } from '../../src/native/index.js';
import { requireNative } from './require-native.js';

/** Runs `body` in a child node with `m` = the addon and a bound UDP socket pair; 5 s limit. */
function child(body: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const prelude = `
    const m = require(${JSON.stringify(nativeAddonPath())});
    const rx = m.udp.socket(4), tx = m.udp.socket(4);
    m.udp.bind(rx, '127.0.0.1', 0);
    const rxAddr = new Uint8Array(20); const port = m.udp.getsockname(rx);
    rxAddr.set([4, 0, port >> 8, port & 255, 127, 0, 0, 1]);
    const poke = () => m.udp.sendBatch(tx, new Uint8Array(4), Uint32Array.of(0), Uint32Array.of(4), rxAddr, 1);
  `;
  const start = Date.now();
  const r = spawnSync(process.execPath, ['-e', prelude + body], { encoding: 'utf8', timeout: 5000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
}

describe('native poll watchers', () => {
  it('fires once readable; unwatch (twice, from the callback) lets the process exit', (t) => {
    if (!requireNative(t)) return;
    const r = child(`
      const h = m.poll.watch(rx, m.poll.READABLE, (status, events) => {
        const n = m.udp.recvBatch(rx, new Uint8Array(64), Uint32Array.of(0), Uint32Array.of(64), new Uint32Array(1), null, null, 1);
        m.poll.unwatch(h); m.poll.unwatch(h);
        Promise.resolve().then(() => console.log('fired', status, events, n));
      });
      setTimeout(poke, 20);
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'fired 0 1 1', 'callback saw readiness, and its promise job ran');
  });

  it('an active watcher keeps the process alive; ref(false) does not', (t) => {
    if (!requireNative(t)) return;
    const held = child(
      `m.poll.watch(rx, m.poll.READABLE, () => {}); setTimeout(() => { console.log('alive'); process.exit(0); }, 300);`,
    );
    assert.equal(held.stdout.trim(), 'alive');
    const unref = child(`const h = m.poll.watch(rx, m.poll.READABLE, () => {}); m.poll.ref(h, false);`);
    assert.equal(unref.status, 0, unref.stderr);
    assert.ok(unref.ms < 3000, `exited after ${unref.ms} ms`);
  });

  it('a throwing callback becomes uncaughtException, and the watcher can still be unwatched', (t) => {
    if (!requireNative(t)) return;
    const r = child(`
      const h = m.poll.watch(rx, m.poll.READABLE, () => { throw new Error('boom'); });
      process.on('uncaughtException', (e) => { console.log('caught', e.message); m.poll.unwatch(h); });
      poke();
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'caught boom');
  });

  it('rejects bad arguments', (t) => {
    const native = requireNative(t);
    if (!native) return;
    const code = (e: unknown) => (e as { code?: string }).code === 'OVPN_ERR_INVALID_ARG';
    assert.throws(() => native.poll.watch(0, 0, () => {}), code);
    assert.throws(() => native.poll.watch(0, 1, 'x' as unknown as () => void), code);
    assert.throws(() => native.poll.unwatch({} as never), code);
  });
});
