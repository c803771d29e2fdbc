// Static-key test mode, like ovpn-dco's test client with its key file: set up an engine's data
// channel from an OpenVPN static key file through the control API, with no control channel.
// Two engines use the same file with opposite directions (0 and 1).

import { deriveStaticDataKeys, parseStaticKey } from '../protocol/static-key.js';
import type { ControlApi } from '../control-api/target.js';
import type { CipherName } from '../crypto/aead.js';

export interface StaticKeySetup {
  /** Text of the key file (`-----BEGIN OpenVPN Static key V1-----` ...). */
  keyText: string;
  cipher: CipherName;
  /** 0 on one side, 1 on the other. */
  direction: 0 | 1;
  /** Peer id carried in DATA_V2 headers (both sides use the same); default 0. */
  peerId?: number;
  keyId?: number;
  keepaliveInterval?: number;
  keepaliveTimeout?: number;
  mss?: number;
}

/** newKey (primary) + setPeer + startVpn for a P2P engine whose peer exists (newPeer done). */
export async function applyStaticKey(api: ControlApi, s: StaticKeySetup): Promise<void> {
  const keys = deriveStaticDataKeys(parseStaticKey(s.keyText), s.cipher, s.direction);
  await api.call('newKey', {
    cipher: s.cipher,
    keyId: s.keyId ?? 0,
    slot: 'primary',
    peerId: s.peerId ?? 0,
    encrypt: { key: keys.encrypt.key, nonceTail: keys.encrypt.implicitIv },
    decrypt: { key: keys.decrypt.key, nonceTail: keys.decrypt.implicitIv },
  });
  await api.call('setPeer', {
    keepaliveInterval: s.keepaliveInterval ?? 0,
    keepaliveTimeout: s.keepaliveTimeout ?? 0,
    mss: s.mss ?? 0,
  });
  await api.call('startVpn', {});
}
