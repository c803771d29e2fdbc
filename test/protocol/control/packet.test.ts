import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/util/errors.js';
import { Opcode } from '../../../src/protocol/control/constants.js';
import {
  type ControlPacket,
  StreamDeframer,
  decodeControlPacket,
  encodeControlPacket,
  frameForStream,
} from '../../../src/protocol/control/packet.js';
import { Prng } from './prng.js';

const SID = Buffer.from('0102030405060708', 'hex');
const PEER = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
const OPS = [3, 4, 5, 7, 8, 10, 11] as const;

function randomPacket(r: Prng): ControlPacket {
  const opcode = r.pick(OPS) as Opcode;
  const isAck = opcode === Opcode.ACK_V1;
  const n = isAck ? 1 + r.int(8) : r.int(9);
  const acks = Array.from({ length: n }, () => r.int(2 ** 32));
  return {
    opcode,
    keyId: r.int(8),
    sessionId: r.bytes(8),
    acks,
    ackSessionId: n > 0 ? r.bytes(8) : undefined,
    messageId: isAck ? undefined : r.int(2 ** 32),
    payload: isAck ? Buffer.alloc(0) : r.bytes(r.int(100)),
  };
}

test('client hard reset V2 (no wrapping) is the 14-byte layout of §B1/§B2', () => {
  const wire = encodeControlPacket({
    opcode: Opcode.HARD_RESET_CLIENT_V2,
    keyId: 0,
    sessionId: SID,
    acks: [],
    ackSessionId: undefined,
    messageId: 0,
    payload: Buffer.alloc(0),
  });
  assert.equal(wire.toString('hex'), '38' + '0102030405060708' + '00' + '00000000');
});

test('server reset acking id 0 carries 4-byte ack ids and the peer sid (26 bytes)', () => {
  const wire = encodeControlPacket({
    opcode: Opcode.HARD_RESET_SERVER_V2,
    keyId: 0,
    sessionId: PEER,
    acks: [0],
    ackSessionId: SID,
    messageId: 0,
    payload: Buffer.alloc(0),
  });
  assert.equal(wire.length, 26);
  assert.equal(
    wire.toString('hex'),
    '40' + PEER.toString('hex') + '01' + '00000000' + SID.toString('hex') + '00000000',
  );
});

test('P_ACK_V1 has no message id; P_CONTROL_V1 keeps key id and payload', () => {
  const ack = encodeControlPacket({
    opcode: Opcode.ACK_V1,
    keyId: 3,
    sessionId: SID,
    acks: [1, 2],
    ackSessionId: PEER,
    messageId: undefined,
    payload: Buffer.alloc(0),
  });
  assert.equal(ack.length, 1 + 8 + 1 + 8 + 8);
  assert.equal(ack[0], (5 << 3) | 3);
  const d = decodeControlPacket(ack);
  assert.ok(d.ok);
  assert.deepEqual(d.packet.acks, [1, 2]);
  assert.equal(d.packet.messageId, undefined);
});

test('round trip: every opcode, 0..8 acks, random payloads (seeded)', () => {
  const r = new Prng(0xc0ffee);
  for (let i = 0; i < 2000; i++) {
    const p = randomPacket(r);
    const wire = encodeControlPacket(p);
    const d = decodeControlPacket(wire);
    assert.ok(d.ok, `seed 0xc0ffee iteration ${i}`);
    assert.equal(d.packet.opcode, p.opcode);
    assert.equal(d.packet.keyId, p.keyId);
    assert.deepEqual(d.packet.sessionId, p.sessionId);
    assert.deepEqual(d.packet.acks, p.acks);
    assert.deepEqual(d.packet.ackSessionId, p.ackSessionId);
    assert.equal(d.packet.messageId, p.messageId);
    assert.deepEqual(d.packet.payload, p.payload);
  }
});

test('hostile input: decode never throws, and whatever it accepts re-encodes to the same bytes', () => {
  const r = new Prng(1234);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    let buf: Buffer;
    if (i % 2 === 0) {
      buf = r.bytes(r.int(80));
    } else {
      buf = Buffer.from(encodeControlPacket(randomPacket(r)));
      const flips = 1 + r.int(3);
      for (let k = 0; k < flips; k++) buf[r.int(buf.length)] = r.int(256);
      if (r.int(4) === 0) buf = buf.subarray(0, r.int(buf.length + 1));
    }
    const d = decodeControlPacket(buf);
    if (d.ok) {
      accepted++;
      assert.deepEqual(encodeControlPacket(d.packet), buf, `seed 1234 iteration ${i}`);
    }
  }
  assert.ok(accepted > 1000, 'the mutation mix must exercise the accept path too');
});

test('drop reasons for malformed packets', () => {
  const reset = encodeControlPacket({
    opcode: Opcode.HARD_RESET_CLIENT_V2,
    keyId: 0,
    sessionId: SID,
    acks: [],
    ackSessionId: undefined,
    messageId: 0,
    payload: Buffer.alloc(0),
  });
  const reason = (b: Buffer): string => {
    const d = decodeControlPacket(b);
    return d.ok ? 'ok' : d.reason;
  };
  assert.equal(reason(reset.subarray(0, 9)), 'too-short');
  assert.equal(reason(reset.subarray(0, 12)), 'missing-msg-id');
  for (const op of [0, 1, 2, 6, 9, 12, 31]) {
    const b = Buffer.from(reset);
    b[0] = op << 3;
    assert.equal(reason(b), 'bad-opcode', `opcode ${op}`);
  }
  const nine = Buffer.from(reset);
  nine[9] = 9;
  assert.equal(reason(nine), 'ack-count');
  const truncated = Buffer.from(reset);
  truncated[9] = 2;
  assert.equal(reason(truncated), 'truncated-acks');
  const ack = encodeControlPacket({
    opcode: Opcode.ACK_V1,
    keyId: 0,
    sessionId: SID,
    acks: [7],
    ackSessionId: PEER,
    messageId: undefined,
    payload: Buffer.alloc(0),
  });
  assert.equal(reason(Buffer.concat([ack, Buffer.from([0])])), 'ack-trailing-bytes');
  const emptyAck = Buffer.from(ack.subarray(0, 10));
  emptyAck[9] = 0;
  assert.equal(reason(emptyAck), 'ack-without-ids');
});

test('encode rejects caller misuse with ConfigError naming the field', () => {
  const base: ControlPacket = {
    opcode: Opcode.CONTROL_V1,
    keyId: 0,
    sessionId: SID,
    acks: [],
    ackSessionId: undefined,
    messageId: 1,
    payload: Buffer.alloc(0),
  };
  assert.throws(
    () => encodeControlPacket({ ...base, acks: [1, 2, 3, 4, 5, 6, 7, 8, 9], ackSessionId: PEER }),
    ConfigError,
  );
  assert.throws(() => encodeControlPacket({ ...base, acks: [1] }), /ackSessionId/);
  assert.throws(() => encodeControlPacket({ ...base, messageId: undefined }), /messageId/);
  assert.throws(() => encodeControlPacket({ ...base, opcode: 6 as Opcode }), /opcode/);
  assert.throws(() => encodeControlPacket({ ...base, keyId: 8 }), /keyId/);
});

test('TCP framing: packets split across arbitrary chunks come out whole; bad length is sticky', () => {
  const r = new Prng(99);
  const pkts = Array.from({ length: 50 }, () => r.bytes(1 + r.int(300)));
  const stream = Buffer.concat(pkts.map(frameForStream));
  const d = new StreamDeframer();
  const got: Buffer[] = [];
  for (let o = 0; o < stream.length;) {
    const n = 1 + r.int(200);
    const out = d.push(stream.subarray(o, o + n));
    assert.notEqual(out, 'error');
    if (out !== 'error') got.push(...out);
    o += n;
  }
  assert.deepEqual(got, pkts);
  const bad = new StreamDeframer(1000);
  assert.equal(bad.push(Buffer.from([0x10, 0x00, 1])), 'error');
  assert.equal(bad.push(Buffer.from([0x00, 0x01, 1])), 'error');
  assert.equal(new StreamDeframer().push(Buffer.from([0, 0])), 'error');
});
