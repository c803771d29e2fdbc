// TUN through the addon, inside a test-owned namespace (root only): reads what the kernel routes
// to the TUN subnet, writes packets the kernel delivers to a socket. The body runs in a child
// (tun-helper) under `ip netns exec`, so the device and addresses never touch the host.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createTopology, skipUnless, spawnIn } from '../util/netns.js';
import { requireNative } from './require-native.js';

const here = fileURLToPath(import.meta.url);
const isTs = here.endsWith('.ts');
const helper = here.replace(/tun\.test\.(ts|js)$/, `tun-helper.${isTs ? 'ts' : 'js'}`);

describe('native TUN', { skip: skipUnless('root', 'tun', 'ip') }, () => {
  it('reads a routed UDP datagram with readBatch and delivers writeBatch packets', async (t) => {
    if (!requireNative(t)) return;
    const topo = await createTopology({ prefix: 'tun' });
    try {
      const proc = spawnIn(topo.a.ns, process.execPath, [...(isTs ? ['--import', 'tsx'] : []), helper]);
      const code = await proc.waitForExit(15_000);
      assert.equal(code, 0, `helper failed:\n${proc.stderr()}\n${proc.stdout()}`);
      const line = /^RESULT (.*)$/m.exec(proc.stdout());
      assert.ok(line, proc.stdout());
      const r = JSON.parse(line[1]!) as Record<string, unknown>;
      assert.match(String(r['name']), /^ovt\d+$/);
      assert.equal(r['empty'], 0, 'readBatch on a TUN that is still down returns 0 (EAGAIN)');
      assert.equal(r['src'], '10.200.0.1');
      assert.equal(r['dst'], '10.200.0.2');
      assert.equal(r['dport'], 5555);
      assert.equal(r['payload'], 'hello tun');
      assert.equal(r['frameLen'], 28 + 9, 'one IPv4/UDP packet, no PI header');
      assert.equal(r['totalLen'], r['frameLen']);
      assert.equal(r['written'], 3);
      const received = r['received'] as { data: string; from: string }[];
      assert.deepEqual(received.map((m) => m.data).sort(), ['one', 'three', 'two']);
      for (const m of received) assert.equal(m.from, '10.200.0.2:6666');
      assert.deepEqual(r['mq'], ['ovtmq0', 'ovtmq0'], 'two queues attach to one multi-queue device');
    } finally {
      await topo.destroy();
    }
  });
});
