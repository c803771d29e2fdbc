// TunHost: option checks (no privileges needed), and the Rx/Tx paths on a real TUN inside a
// test-owned namespace (root only; the body runs in tun-host-helper under `ip netns exec`).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { TunHost } from '../../../src/os/linux/tun-host.js';
import { loadNative } from '../../../src/native/index.js';
import { createTopology, skipUnless, spawnIn } from '../../util/netns.js';

const here = fileURLToPath(import.meta.url);
const compiled = here.replace(/tun-host\.test\.(ts|js)$/, 'tun-host-helper.js');
const offloadHelperCmd =
  here.endsWith('.js') && existsSync(compiled)
    ? [compiled.replace(/tun-host-helper\.js$/, 'tun-offload-helper.js')]
    : ['--import', 'tsx', here.replace(/tun-host\.test\.ts$/, 'tun-offload-helper.ts')];
const helperCmd =
  here.endsWith('.js') && existsSync(compiled)
    ? [compiled]
    : ['--import', 'tsx', here.replace(/tun-host\.test\.ts$/, 'tun-host-helper.ts')];

describe('TunHost options', () => {
  const bad: [Parameters<typeof TunHost.open>[0], string, RegExp][] = [
    [{ ipv4: '10.0.0.1' }, 'ipv4', /ipv4: expected a\.b\.c\.d\/len, got "10\.0\.0\.1"/],
    [{ ipv4: 'fd00::1/64' }, 'ipv4', /ipv4: expected a\.b\.c\.d\/len/],
    [{ ipv4: '10.0.0.1/33' }, 'ipv4', /ipv4/],
    [{ ipv6: '10.0.0.1/24' }, 'ipv6', /ipv6: expected ipv6-address\/len/],
    [{ routes: ['10.1.0.0'] }, 'routes', /routes: expected address\/len/],
    [{ mtu: 20 }, 'mtu', /mtu: expected an integer 68\.\.65535, got 20/],
    [{ txQueueLen: 0 }, 'txQueueLen', /txQueueLen: expected an integer 1\.\.1000000, got 0/],
  ];
  for (const [opts, option, msg] of bad) {
    it(`refuses ${JSON.stringify(opts)} naming ${option}, before opening anything`, () => {
      assert.throws(() => TunHost.open(opts), { code: 'OVPN_ERR_INVALID_OPTION', option, message: msg });
    });
  }
});

const skip =
  skipUnless('root', 'tun', 'ip') ||
  (loadNative() === null ? 'needs the native addon (npm run install)' : false);

describe('TunHost on a real TUN', { skip }, () => {
  it('gives the device a 1000-packet transmit queue by default, or the txQueueLen asked for', async () => {
    const topo = await createTopology({ prefix: 'tunqlen' });
    try {
      const ts = !here.endsWith('.js');
      const mod = fileURLToPath(
        new URL(`../../../src/os/linux/tun-host.${ts ? 'ts' : 'js'}`, import.meta.url),
      );
      const script = `
        import { execFileSync } from 'node:child_process';
        const { TunHost } = await import(${JSON.stringify(mod)});
        const a = TunHost.open({ name: 'ovtq%d' });
        const b = TunHost.open({ name: 'ovtq%d', txQueueLen: 64 });
        for (const h of [a, b]) console.log('QLEN', /qlen (\\d+)/.exec(execFileSync('ip', ['link', 'show', h.name], { encoding: 'utf8' }))?.[1]);
        a.close();
        b.close();`;
      const args = [...(ts ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script];
      const proc = spawnIn(topo.a.ns, process.execPath, args);
      const code = await proc.waitForExit(15_000);
      assert.equal(code, 0, `script failed:\n${proc.stderr()}\n${proc.stdout()}`);
      assert.deepEqual(
        [...proc.stdout().matchAll(/^QLEN (\d+)$/gm)].map((m) => Number(m[1])),
        [1000, 64],
      );
    } finally {
      await topo.destroy();
    }
  });

  for (const mode of ['offload', 'no-offload'])
    it(`${mode}: writes grouped and gathered packets, counts a bad one, reads into the offer, flags truncation`, async () => {
      const topo = await createTopology({ prefix: 'tunhost' });
      try {
        const proc = spawnIn(topo.a.ns, process.execPath, [...helperCmd, mode]);
        const code = await proc.waitForExit(15_000);
        assert.equal(code, 0, `helper failed:\n${proc.stderr()}\n${proc.stdout()}`);
        const m = /^RESULT (.*)$/m.exec(proc.stdout());
        assert.ok(m, proc.stdout());
        const r = JSON.parse(m[1]!) as {
          name: string;
          recycled: boolean;
          got: string[];
          n1: number;
          lens1: number[];
          dst: string;
          n2: number;
          lens2: number[];
          stats: Record<string, number>;
        };
        assert.match(r.name, /^ovth\d+$/);
        assert.equal(r.recycled, true, 'deliverRx returns true: buffers recycle at once');
        assert.deepEqual(r.got.sort(), ['one', 'split-in-three', 'three', 'two']);
        assert.equal(r.stats['writeFrames'], 4);
        assert.equal(r.stats['writeErrors'], 1, 'the non-IP frame is dropped and counted');
        assert.deepEqual([r.n1, r.lens1, r.dst], [1, [128], '10.202.0.9']);
        assert.deepEqual([r.n2, r.lens2], [1, [0]], 'a cut-short read is posted as length 0 (Ignore)');
        assert.equal(r.stats['readTruncated'], 1);
      } finally {
        await topo.destroy();
      }
    });

  it('offload: a real TCP socket through the TUN; TSO frames read as MTU packets, merged segments accepted', async () => {
    const topo = await createTopology({ prefix: 'tunoff' });
    try {
      const proc = spawnIn(topo.a.ns, process.execPath, offloadHelperCmd);
      const code = await proc.waitForExit(20_000);
      assert.equal(code, 0, `helper failed:\n${proc.stderr()}\n${proc.stdout()}`);
      const m = /^RESULT (.*)$/m.exec(proc.stdout());
      assert.ok(m, proc.stdout());
      const r = JSON.parse(m[1]!) as {
        streamIntact: boolean;
        tso: { frames: number; segments: number };
        downIntact: boolean;
        gro: { writes: number; packets: number };
        problems: string[];
      };
      assert.deepEqual(r.problems, [], 'every packet read has valid checksums, fits the MTU, in sequence');
      assert.equal(r.streamIntact, true, '200000 bytes sent by the socket arrive whole and in order');
      assert.ok(
        r.tso.frames > 0 && r.tso.segments > r.tso.frames,
        `Linux sent super-segments: ${JSON.stringify(r.tso)}`,
      );
      assert.equal(r.downIntact, true, 'the socket reads the 40000 bytes sent as merged segments');
      assert.ok(r.gro.writes >= 1 && r.gro.packets >= 2, `segments went up merged: ${JSON.stringify(r.gro)}`);
    } finally {
      await topo.destroy();
    }
  });
});
