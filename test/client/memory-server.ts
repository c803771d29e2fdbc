// The server side of in-memory client tests: test/protocol/control/mini-server.ts for the control
// channel plus a second Engine (in P2P mode, one peer) for its data channel, both behind an
// in-memory transport pair that the client's engine opens through its transportFactory.
//
// Key policy mirrors 2.6: a new key is loaded into the secondary slot as soon as it is ready (so
// it decrypts at once) and becomes the Tx key only `swapDelayMs` later (2.6 keeps sending on
// the old key until auth_deferred_expire), so the client has installed it by then.

import { readFileSync } from 'node:fs';
import { Engine, type TransportFactory } from '../../src/engine/engine.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { splitKeyBlock } from '../../src/protocol/control/keys.js';
import type { StaticKey } from '../../src/protocol/control/static-key.js';
import { NoWrap, TlsCryptWrap } from '../../src/protocol/control/wrap.js';
import { createMemoryPair, type MemoryTransport } from '../../src/transport/memory.js';
import type { CipherName } from '../../src/crypto/aead.js';
import type { LabPki } from '../util/lab.js';
import { MiniServer } from '../protocol/control/mini-server.js';

export interface MemoryServerOptions {
  pki: LabPki;
  tlsCryptKey?: StaticKey;
  pushOptions: string[];
  cipher: CipherName;
  method: 'ekm' | 'prf';
  swapDelayMs?: number;
  /** Answer PUSH_REQUEST with this control message instead (e.g. 'AUTH_FAILED'). */
  replyInstead?: string;
}

export class MemoryServer {
  readonly host = new MemoryHost({ frameSize: 200 });
  engine!: Engine;
  mini: MiniServer | undefined;
  /** Every server-side key install, in order: [keyId, slot]. */
  readonly installs: [number, string][] = [];
  connections = 0;
  /** Remote addresses newPeer asked for, in order. */
  readonly requests: string[] = [];
  readonly unreachable = new Set<string>();
  private readonly blackholes: MemoryTransport[] = [];
  private seen = 0;
  private timer: NodeJS.Timeout | undefined;
  private swapTimers: NodeJS.Timeout[] = [];

  constructor(private readonly o: MemoryServerOptions) {}

  async start(): Promise<void> {
    this.engine = await Engine.create({ host: this.host });
    this.engine.onControlPacket((p) => this.mini?.session.receive(Buffer.from(p.data)));
    this.timer = setInterval(() => this.poll(), 10);
  }

  /** For the client engine: each newPeer gets a fresh memory pair, the server a fresh session. */
  readonly factory: TransportFactory = async (req) => {
    const [tc, ts] = createMemoryPair({ rxSlotSize: 2048, rxSlotCount: 1024, maxInFlight: 512 });
    this.requests.push(req.remote?.address ?? '');
    // An address nobody answers at: the other end is never read.
    if (this.unreachable.has(req.remote?.address ?? '')) {
      this.blackholes.push(ts);
      return { transport: tc, local: { address: '10.255.0.1', port: 1194 } };
    }
    await this.attach(ts);
    return { transport: tc, local: { address: '10.255.0.1', port: 1194 } };
  };

  private async attach(t: MemoryTransport): Promise<void> {
    this.mini?.session.close();
    await this.engine.api.call('delPeer', {}).catch(() => undefined);
    await this.engine.api.call('newPeer', { transport: t });
    this.connections++;
    this.seen = 0;
    const tls = {
      secure: {
        ca: readFileSync(this.o.pki.ca.crt),
        cert: readFileSync(this.o.pki.server.crt),
        key: readFileSync(this.o.pki.server.key),
      },
      verify: { remoteCertTls: 'client' as const },
    };
    const k = this.o.tlsCryptKey;
    this.mini = new MiniServer({
      tls,
      wrap: k === undefined ? new NoWrap() : new TlsCryptWrap({ key: k, role: 'server' }),
      clock: { now: () => performance.now() },
      pushOptions: this.o.pushOptions,
      ...(this.o.replyInstead !== undefined ? { replyInstead: this.o.replyInstead } : {}),
      statelessCookie: true,
      send: (w) => void this.engine.api.call('writeControl', { data: w }).catch(() => undefined),
    });
    // React to session events synchronously, as openvpn installs keys the moment they exist
    // (a polling delay would let the client use a key the server has not loaded yet).
    const events = this.mini.events;
    const mini = this.mini;
    events.push = (...items) => {
      const n = Array.prototype.push.apply(events, items);
      this.drain(mini);
      return n;
    };
  }

  private drain(m: MiniServer): void {
    for (; this.seen < m.events.length; this.seen++) {
      const e = m.events[this.seen]!;
      if (e.type === 'key-ready') void this.install(m, e.keyId);
    }
  }

  private poll(): void {
    const m = this.mini;
    if (m === undefined) return;
    m.session.tick();
  }

  private async install(m: MiniServer, keyId: number): Promise<void> {
    const block = m.session.deriveKeyBlock(keyId, this.o.method);
    const k = splitKeyBlock(block, this.o.cipher, 'server');
    const slot = keyId === 0 ? 'primary' : 'secondary';
    await this.engine.api.call('newKey', {
      cipher: this.o.cipher,
      keyId,
      slot,
      peerId: 0,
      encrypt: { key: k.encrypt.cipherKey, nonceTail: k.encrypt.implicitIv },
      decrypt: { key: k.decrypt.cipherKey, nonceTail: k.decrypt.implicitIv },
    });
    this.installs.push([keyId, slot]);
    if (keyId === 0) {
      await this.engine.api.call('setPeer', { keepaliveInterval: 0, keepaliveTimeout: 0, mss: 0 });
      await this.engine.api.call('startVpn', {});
      return;
    }
    this.swapTimers.push(
      setTimeout(
        () => void this.engine.api.call('swapKeys', {}).catch(() => undefined),
        this.o.swapDelayMs ?? 300,
      ),
    );
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const t of this.swapTimers) clearTimeout(t);
    this.mini?.session.close();
    await Promise.all(this.blackholes.map((t) => t.close()));
    await this.engine.close();
  }
}
