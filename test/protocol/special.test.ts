import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isOccExit,
  isPing,
  occType,
  writeOcc,
  writeOccExit,
  writePing,
} from '../../src/protocol/data/special.js';
import { OCC_EXIT, OCC_REPLY, OCC_REQUEST } from '../../src/protocol/constants.js';

const PING_HEX = '2a187bf3641eb4cb07ed2d0a981fc748';
const OCC_HEX = '287f346bd4ef7a812d56b8d3afc5459c';

test('ping: written bytes are the spec magic; only an exact 16-byte payload is a ping', () => {
  const buf = new Uint8Array(40);
  assert.equal(writePing(buf, 3), 16);
  assert.equal(Buffer.from(buf.subarray(3, 19)).toString('hex'), PING_HEX);
  assert.equal(isPing(buf, 3, 16), true);
  assert.equal(isPing(buf, 3, 17), false, 'longer payload');
  assert.equal(isPing(buf, 3, 15), false, 'shorter payload');
  assert.equal(isPing(buf, 30, 16), false, 'range beyond the buffer');
  buf[18] = (buf[18] ?? 0) ^ 1;
  assert.equal(isPing(buf, 3, 16), false, 'one bit differs');
});

test('OCC: magic + type; EXIT recognised and built', () => {
  const buf = new Uint8Array(40);
  assert.equal(writeOccExit(buf, 1), 17);
  assert.equal(Buffer.from(buf.subarray(1, 18)).toString('hex'), OCC_HEX + '06');
  assert.equal(isOccExit(buf, 1, 17), true);
  assert.equal(occType(buf, 1, 17), OCC_EXIT);
  assert.equal(occType(buf, 1, 16), -1, 'magic without a type byte');
  writeOcc(buf, 0, OCC_REQUEST);
  assert.equal(occType(buf, 0, 17), OCC_REQUEST);
  assert.equal(isOccExit(buf, 0, 17), false);
  writeOcc(buf, 0, OCC_REPLY);
  assert.equal(occType(buf, 0, 30), OCC_REPLY, 'reply carries data after the type');
  buf[0] = 0;
  assert.equal(occType(buf, 0, 30), -1);
  assert.equal(isPing(Buffer.from(OCC_HEX, 'hex'), 0, 16), false);
});
