import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PacketClass,
  classifyFirstByte,
  classifyPacket,
  dataV2HeaderWord,
  isControlOpcode,
  keyIdOf,
  makeByte0,
  opcodeOf,
  readPeerId,
  readU32BE,
  writeDataV1Header,
  writeDataV2Header,
  P_ACK_V1,
  P_CONTROL_HARD_RESET_CLIENT_V2,
  P_CONTROL_V1,
  P_CONTROL_WKC_V1,
  P_DATA_V1,
  P_DATA_V2,
  PEER_ID_UNDEF,
} from '../../src/protocol/data/header.js';

test('byte0 packs opcode in the high 5 bits and key-id in the low 3 (spec examples)', () => {
  assert.equal(makeByte0(P_DATA_V2, 0), 0x48);
  assert.equal(makeByte0(P_DATA_V1, 0), 0x30);
  assert.equal(makeByte0(P_CONTROL_HARD_RESET_CLIENT_V2, 0), 0x38);
  assert.equal(makeByte0(P_DATA_V2, 7), 0x4f);
  assert.equal(makeByte0(P_DATA_V2, 9), 0x49, 'key-id is masked to 3 bits');
  for (let b = 0; b < 256; b++) assert.equal(makeByte0(opcodeOf(b), keyIdOf(b)), b);
});

test('V2 header is one big-endian u32 (9<<3|kid)<<24 | peer_id', () => {
  assert.equal(dataV2HeaderWord(0, 0), 0x48000000);
  assert.equal(dataV2HeaderWord(3, PEER_ID_UNDEF), 0x4bffffff);
  assert.equal(dataV2HeaderWord(1, 0x76706e), 0x4976706e);
  const buf = new Uint8Array(6);
  writeDataV2Header(buf, 1, 5, 0x123456);
  assert.deepEqual([...buf], [0, 0x4d, 0x12, 0x34, 0x56, 0]);
  assert.equal(readU32BE(buf, 1), dataV2HeaderWord(5, 0x123456));
  assert.equal(readPeerId(buf, 1), 0x123456);
  writeDataV1Header(buf, 0, 2);
  assert.equal(buf[0], 0x32);
});

test('classification: 6 → V1, 9 → V2, other 3..11 → control, rest invalid', () => {
  const seen = new Map<number, PacketClass>();
  for (let op = 0; op < 32; op++) {
    for (let kid = 0; kid < 8; kid++) {
      const c = classifyFirstByte((op << 3) | kid);
      if (kid > 0) assert.equal(c, seen.get(op), 'key-id does not change the class');
      seen.set(op, c);
    }
  }
  assert.equal(seen.get(P_DATA_V1), PacketClass.DATA_V1);
  assert.equal(seen.get(P_DATA_V2), PacketClass.DATA_V2);
  for (const op of [3, 4, 5, 7, 8, 10, 11]) assert.equal(seen.get(op), PacketClass.CONTROL, `op ${op}`);
  for (const op of [0, 1, 2, 12, 13, 31]) assert.equal(seen.get(op), PacketClass.INVALID, `op ${op}`);
  assert.ok(isControlOpcode(P_CONTROL_V1) && isControlOpcode(P_ACK_V1) && isControlOpcode(P_CONTROL_WKC_V1));
  assert.ok(!isControlOpcode(P_DATA_V1) && !isControlOpcode(P_DATA_V2) && !isControlOpcode(1));
  assert.equal(classifyPacket(new Uint8Array(0), 0, 0), PacketClass.INVALID, 'empty datagram');
  assert.equal(classifyPacket(Uint8Array.of(0, 0x48), 1, 1), PacketClass.DATA_V2);
});
