// The default transport factory: what a caller gets without options (the CLI uses it that way).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RX_SLOT_COUNT, RX_SLOT_SIZE } from '../../src/engine/constants.js';
import { DEFAULT_UDP_SOCKET_BUFFER, defaultTransportFactory } from '../../src/engine/transport-factory.js';
import { loadNative } from '../../src/native/index.js';

test('defaultTransportFactory() opens UDP with the engine receive slots, and honours explicit ones', async () => {
  const open = defaultTransportFactory();
  const { transport: t } = await open({ proto: 'udp', local: { address: '127.0.0.1', port: 0 } });
  assert.equal(t.rxSlotSize, RX_SLOT_SIZE);
  assert.equal(t.rxSlotCount, RX_SLOT_COUNT);
  await t.close();
  const small = defaultTransportFactory({ rxSlotCount: 64, rxSlotSize: 1600 });
  const { transport: u } = await small({ proto: 'udp', local: { address: '127.0.0.1', port: 0 } });
  assert.deepEqual([u.rxSlotSize, u.rxSlotCount], [1600, 64]);
  await u.close();
});

test('defaultTransportFactory() uses native UDP with GSO when the addon loads', async (t) => {
  const native = loadNative();
  if (native === null) return t.skip('needs the native addon (npm run install)');
  const open = defaultTransportFactory();
  const { transport } = await open({ proto: 'udp', local: { address: '127.0.0.1', port: 0 } });
  assert.equal(transport.constructor.name, 'NativeUdpTransport');
  assert.equal((transport as unknown as { gso: boolean }).gso, native.caps().udpGso);
  assert.ok(DEFAULT_UDP_SOCKET_BUFFER >= 1 << 20);
  await transport.close();
});
