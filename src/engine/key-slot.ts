// A key slot: one data-channel key pair (ovpn-dco's OVPN_CRYPTO_DATA), ready for batches.
//
//   encrypt: AEAD context + 8-byte nonce tail + Tx packet-id counter (fresh per key)
//   decrypt: AEAD context + 8-byte nonce tail + replay window (fresh per key)
//
// Peers hold a primary and a secondary slot; Tx always uses the primary, Rx picks the slot whose
// key id matches the packet, so the old key keeps decrypting after a swap until it is replaced.

import { createAead } from '../crypto/aead.js';
import type { AeadContext, AeadImpl, CipherName } from '../crypto/aead.js';
import { PacketIdTx } from '../protocol/data/packet-id.js';
import { ReplayWindow } from '../protocol/data/replay.js';

export interface KeyMaterial {
  key: Uint8Array;
  nonceTail: Uint8Array;
}

export interface KeySlotOptions {
  replayWindow?: number;
  replayTimeSeconds?: number;
  aeadImpl?: AeadImpl;
}

export class KeySlot {
  readonly encrypt: AeadContext;
  readonly encryptIv: Uint8Array;
  readonly txIds = new PacketIdTx();
  readonly decrypt: AeadContext;
  readonly decryptIv: Uint8Array;
  readonly replay: ReplayWindow;
  /** Set once the renewal event for this key was raised (raise it once). */
  renewalRaised = false;

  constructor(
    readonly cipher: CipherName,
    readonly keyId: number,
    enc: KeyMaterial,
    dec: KeyMaterial,
    options: KeySlotOptions = {},
  ) {
    const impl = options.aeadImpl === undefined ? {} : { impl: options.aeadImpl };
    this.encrypt = createAead(cipher, enc.key, true, impl);
    this.decrypt = createAead(cipher, dec.key, false, impl);
    this.encryptIv = Uint8Array.from(enc.nonceTail);
    this.decryptIv = Uint8Array.from(dec.nonceTail);
    this.replay = new ReplayWindow({
      ...(options.replayWindow === undefined ? {} : { size: options.replayWindow }),
      ...(options.replayTimeSeconds === undefined ? {} : { timeSeconds: options.replayTimeSeconds }),
    });
  }

  free(): void {
    this.encrypt.free();
    this.decrypt.free();
  }
}
