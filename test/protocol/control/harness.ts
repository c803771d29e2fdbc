// In-memory client <-> mini-server link with an injected clock, optional seeded loss, and packet
// capture. `run` alternates packet delivery, event-loop turns (node:tls works asynchronously) and,
// when everything is idle, jumps the clock to the earliest session timeout.
import { readFileSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { ManualClock } from '../../../src/util/clock.js';
import { buildOptionsString, buildPeerInfo } from '../../../src/protocol/control/key-method2.js';
import {
  ControlSession,
  type ControlEvent,
  type ControlSessionOptions,
} from '../../../src/protocol/control/session.js';
import type { TlsConfig } from '../../../src/protocol/control/tls-channel.js';
import type { ControlWrap } from '../../../src/protocol/control/wrap.js';
import type { LabPki } from '../../util/lab.js';
import { MiniServer, type MiniServerOptions } from './mini-server.js';
import { Prng } from './prng.js';

export function clientTls(pki: LabPki, extra: Partial<TlsConfig> = {}): TlsConfig {
  return {
    secure: {
      ca: readFileSync(pki.ca.crt),
      cert: readFileSync(pki.client.crt),
      key: readFileSync(pki.client.key),
    },
    verify: { remoteCertTls: 'server' },
    ...extra,
  };
}

export function serverTls(pki: LabPki, extra: Partial<TlsConfig> = {}): TlsConfig {
  return {
    secure: {
      ca: readFileSync(pki.ca.crt),
      cert: readFileSync(pki.server.crt),
      key: readFileSync(pki.server.key),
    },
    verify: { remoteCertTls: 'client' },
    ...extra,
  };
}

export interface PairOptions {
  clientWrap: ControlWrap;
  server: Omit<MiniServerOptions, 'send' | 'clock'>;
  client?: Partial<Omit<ControlSessionOptions, 'role' | 'sink' | 'clock' | 'wrap'>> & { tls: TlsConfig };
  /** Drop probability per packet, both directions (seeded). */
  loss?: number;
  seed?: number;
}

export class Pair {
  readonly clock = new ManualClock(1_000_000);
  readonly client: ControlSession;
  readonly server: MiniServer;
  readonly clientEvents: ControlEvent[] = [];
  /** Every packet the client / server put on the wire, in order. */
  readonly c2s: Buffer[] = [];
  readonly s2c: Buffer[] = [];
  private toServer: Buffer[] = [];
  private toClient: Buffer[] = [];
  private readonly rng: Prng;
  private readonly loss: number;

  constructor(o: PairOptions) {
    this.rng = new Prng(o.seed ?? 1);
    this.loss = o.loss ?? 0;
    this.server = new MiniServer({
      ...o.server,
      clock: this.clock,
      send: (w) => {
        this.s2c.push(w);
        if (!this.lost()) this.toClient.push(w);
      },
    });
    const c = o.client ?? { tls: o.server.tls };
    this.client = new ControlSession({
      options: buildOptionsString({ role: 'client' }),
      peerInfo: buildPeerInfo({ ciphers: ['AES-256-GCM', 'CHACHA20-POLY1305'] }),
      ...c,
      role: 'client',
      clock: this.clock,
      wrap: o.clientWrap,
      sink: {
        send: (w) => {
          this.c2s.push(w);
          if (!this.lost()) this.toServer.push(w);
        },
        event: (e) => this.clientEvents.push(e),
      },
    });
  }

  private lost(): boolean {
    return this.loss > 0 && this.rng.next() < this.loss;
  }

  /** Runs until `done()` or the bounds are hit; returns whether done() became true. */
  async run(done: () => boolean, maxRounds = 3000, maxClockMs = 120_000): Promise<boolean> {
    const clockLimit = this.clock.now() + maxClockMs;
    let idle = 0;
    for (let round = 0; round < maxRounds; round++) {
      if (done()) return true;
      const s = this.toServer;
      const c = this.toClient;
      this.toServer = [];
      this.toClient = [];
      for (const w of s) this.server.session.receive(w);
      for (const w of c) this.client.receive(w);
      await turn();
      if (s.length > 0 || c.length > 0 || this.toServer.length > 0 || this.toClient.length > 0) {
        idle = 0;
        continue;
      }
      if (++idle < 3) continue;
      const next = Math.min(
        this.client.nextTimeout() ?? Infinity,
        this.server.session.nextTimeout() ?? Infinity,
      );
      if (next === Infinity || next > clockLimit) return done();
      this.clock.advance(Math.max(0, next - this.clock.now()));
      this.client.tick();
      this.server.session.tick();
      idle = 0;
    }
    return done();
  }

  clientHas(type: ControlEvent['type'], pred: (e: ControlEvent) => boolean = () => true): boolean {
    return this.clientEvents.some((e) => e.type === type && pred(e));
  }

  serverHas(type: ControlEvent['type'], pred: (e: ControlEvent) => boolean = () => true): boolean {
    return this.server.events.some((e) => e.type === type && pred(e));
  }

  close(): void {
    this.client.close();
    this.server.session.close();
  }
}
