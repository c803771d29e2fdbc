// Control-channel session state machine, I/O-free (openvpn-protocol.md §B6, §C, §E, §F).
// Bytes in: `receive(wire)`. Bytes out: `sink.send(wire)`. Events: `sink.event(e)`. Time: the
// injected clock; call `tick()` at `nextTimeout()`. TLS runs in node:tls over an in-memory Duplex,
// so outputs can also appear asynchronously (after the event loop ran TLS); they go to the sink.
//
// Flow (client)
//   1. start()        HARD_RESET_CLIENT_V2 (V3 with tls-crypt-v2), msg id 0, retransmitted.
//   2. server reset   HARD_RESET_SERVER_V2 fixes the peer sid (the 2.6 stateless cookie). Its id 0
//                     is ACKed with that sid and kept in the MRU, so the ClientHello repeats it.
//   3. TLS            starts once our reset is ACKed; key-method-2 is written at once.
//   4. active         key-method-2 both ways -> 'key-ready' (derive keys with deriveKeyBlock).
//   5. push           PUSH_REQUEST now and every 5 s until PUSH_REPLY (parts collected) or a
//                     terminal message (AUTH_FAILED, HALT, RESTART).
//   6. renegotiation  SOFT_RESET_V1 from either side -> new key state with key_id 1..7 (wrapping to
//                     1); the previous key state stays as lame duck for late packets.
// The server role implements just enough for in-memory tests (see test/.../mini-server.ts).
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../util/clock.js';
import { ConfigError, ErrorCode, OvpnError } from '../../util/errors.js';
import {
  ACK_MAX,
  ACK_PIGGYBACK_MAX,
  DEFAULT_HAND_WINDOW_MS,
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_TLS_TIMEOUT_MS,
  EARLY_NEG_FLAG_RESEND_WKC,
  EARLY_NEG_MASK,
  EARLY_NEG_START,
  KEY_ID_MAX,
  LINK_HEADER_ALLOWANCE,
  MSG_ID_SIZE,
  Opcode,
  PRE_MASTER_SIZE,
  PUSH_REQUEST_INTERVAL_MS,
  RANDOM_SIZE,
  SID_SIZE,
} from './constants.js';
import { type KeyMethod2Message } from './key-method2.js';
import { KeyState, type KeyStateEvents } from './key-state.js';
import { EKM_DATAKEYS_LABEL, KEY_BLOCK_SIZE, deriveLegacyKeyBlock } from './keys.js';
import { type ControlMessage, encodeControlMessage, parseControlMessage } from './messages.js';
import {
  type ControlPacket,
  ackBlockSize,
  decodeControlPacket,
  encodeControlPacket,
  opcodeOf,
} from './packet.js';
import type { TlsConfig } from './tls-channel.js';
import {
  type TlsCryptV2ServerKey,
  encodeEarlyNegFlags,
  parseEarlyNegPayload,
  splitWkc,
  unwrapClientKey,
} from './tls-crypt-v2.js';
import { type ControlWrap, TlsCryptWrap } from './wrap.js';

export type ControlEvent =
  | { type: 'tls-secure'; keyId: number; protocol: string | null; peerSubject: string | undefined }
  /** key-method-2 done both ways: data keys for keyId can be derived. */
  | {
      type: 'key-ready';
      keyId: number;
      peerInfo: string;
      peerOptions: string;
      /** Server role: the client's credentials from its key-method-2 (for authentication). */
      credentials?: { username: string; password: string };
    }
  | { type: 'renegotiation'; keyId: number; initiator: 'local' | 'peer' }
  /** Client: all parts of the PUSH_REPLY, options in order (typed parsing lives in src/config/push.ts). */
  | { type: 'push-reply'; options: string[] }
  /** Server: the peer asked for its push options; answer with sendPushReply(). */
  | { type: 'push-request' }
  /** Every other control message (AUTH_FAILED, AUTH_PENDING, INFO, INFO_PRE, RESTART, HALT, EXIT, ...). */
  | { type: 'message'; message: ControlMessage }
  | { type: 'key-failed'; keyId: number; code: string; reason: string }
  /** The session is unusable (first key failed, hand-window expired); reconnect from scratch. */
  | { type: 'failed'; code: string; reason: string };

export interface ControlSink {
  send(wire: Buffer): void;
  event(e: ControlEvent): void;
}

export interface ControlSessionOptions {
  role: 'client' | 'server';
  clock: Pick<Clock, 'now'>;
  sink: ControlSink;
  /** Wrapping built with wrap.ts. A tls-crypt-v2 *server* passes `tlsCryptV2Server` instead. */
  wrap?: ControlWrap;
  tlsCryptV2Server?: TlsCryptV2ServerKey;
  tls: TlsConfig;
  /** Options string (key-method-2). */
  options: string;
  /** Client credentials (auth-user-pass or auth-token as password). */
  username?: string;
  password?: string;
  /** Client peer-info (buildPeerInfo). */
  peerInfo?: string;
  tlsTimeoutMs?: number;
  handWindowMs?: number;
  pushRequestIntervalMs?: number;
  maxPacketSize?: number;
  /** Unix seconds for the wrap replay time (default Date.now()). */
  unixTime?: () => number;
  /** Randomness for sids and key material (tests may inject a deterministic source). */
  random?: (n: number) => Buffer;
  /** Server role: answer resets statelessly like 2.6's HMAC-cookie server (§B6). */
  statelessCookie?: boolean;
}

export type SessionDropReason =
  | 'short'
  | 'wrap'
  | 'decode'
  | 'no-session'
  | 'sid-mismatch'
  | 'ack-sid-mismatch'
  | 'unknown-key-id'
  | 'cookie-not-acked'
  | 'recv-window'
  | 'wkc'
  | 'internal';

export class ControlSession {
  readonly role: 'client' | 'server';
  readonly sessionId: Buffer;
  private peerSid: Buffer | undefined;
  private wrap: ControlWrap | undefined;
  private primary: KeyState | undefined;
  private lameDuck: KeyState | undefined;
  private readonly o: Required<
    Omit<ControlSessionOptions, 'wrap' | 'tlsCryptV2Server' | 'username' | 'password' | 'peerInfo'>
  > &
    ControlSessionOptions;
  private readonly maxPayload: number;
  private dead = false;
  private cookieConfirmed = false;
  private earlyNegClient = false;
  private pushWanted = false;
  private nextPushAt = Infinity;
  private pushParts: string[] | undefined;
  readonly drops = new Map<SessionDropReason, number>();

  constructor(opts: ControlSessionOptions) {
    if (opts.wrap === undefined && opts.tlsCryptV2Server === undefined) {
      throw new ConfigError(
        'wrap',
        'pass a ControlWrap (NoWrap for no wrapping) or a tls-crypt-v2 server key',
      );
    }
    if (opts.role === 'client' && opts.tlsCryptV2Server !== undefined) {
      throw new ConfigError('tlsCryptV2Server', 'a tls-crypt-v2 server key is for the server role only');
    }
    this.o = {
      tlsTimeoutMs: DEFAULT_TLS_TIMEOUT_MS,
      handWindowMs: DEFAULT_HAND_WINDOW_MS,
      pushRequestIntervalMs: PUSH_REQUEST_INTERVAL_MS,
      maxPacketSize: DEFAULT_MAX_PACKET_SIZE,
      unixTime: () => Math.floor(Date.now() / 1000),
      random: randomBytes,
      statelessCookie: false,
      ...opts,
    };
    this.role = opts.role;
    this.wrap = opts.wrap;
    this.sessionId = this.newSid();
    const wrapOverhead = this.wrap?.overhead ?? 40;
    this.maxPayload =
      this.o.maxPacketSize -
      LINK_HEADER_ALLOWANCE -
      1 -
      SID_SIZE -
      wrapOverhead -
      ackBlockSize(ACK_PIGGYBACK_MAX) -
      MSG_ID_SIZE;
    if (this.maxPayload < 64)
      throw new ConfigError('max-packet-size', 'max-packet-size too small for control packets');
  }

  // ---- public API -------------------------------------------------------------------------------

  /** Client: sends the hard reset. */
  start(): void {
    if (this.role !== 'client') throw new OvpnError(ErrorCode.BAD_MODE, 'start() is for the client role');
    if (this.primary !== undefined) return;
    const v2 = this.wrap?.mode === 'tls-crypt-v2';
    this.primary = this.newKeyState(0);
    this.primary.send.enqueue(
      v2 ? Opcode.HARD_RESET_CLIENT_V3 : Opcode.HARD_RESET_CLIENT_V2,
      Buffer.alloc(0),
    );
    this.flush();
  }

  /** One packet from the link (UDP datagram, or one deframed TCP packet). Never throws. */
  receive(wire: Buffer): void {
    if (this.dead) return;
    try {
      this.receiveInner(wire);
    } catch {
      this.drop('internal');
    }
    this.flush();
  }

  /** Timers: retransmits, PUSH_REQUEST repeats, hand-window. */
  tick(): void {
    if (this.dead) return;
    const now = this.o.clock.now();
    for (const ks of this.keyStates()) {
      if (ks.phase !== 'active' && ks.phase !== 'failed' && now - ks.startedAt >= this.o.handWindowMs) {
        ks.fail('HAND_WINDOW', `key ${ks.keyId} not negotiated within hand-window ${this.o.handWindowMs} ms`);
      }
    }
    if (this.pushWanted && now >= this.nextPushAt) this.sendPushRequest();
    this.flush();
  }

  /** Absolute clock time of the next needed tick(), or undefined. */
  nextTimeout(): number | undefined {
    if (this.dead) return undefined;
    let t = this.pushWanted ? this.nextPushAt : Infinity;
    for (const ks of this.keyStates()) {
      const r = ks.send.nextTimeout();
      if (r !== undefined) t = Math.min(t, r);
      if (ks.phase !== 'active' && ks.phase !== 'failed') t = Math.min(t, ks.startedAt + this.o.handWindowMs);
    }
    return t === Infinity ? undefined : t;
  }

  /** Starts a renegotiation (soft reset) from this side. */
  renegotiate(): void {
    const cur = this.primary;
    if (cur === undefined || cur.phase !== 'active') {
      throw new OvpnError(ErrorCode.NOT_CONNECTED, 'renegotiate() needs an active key (wait for key-ready)');
    }
    this.beginSoftReset(nextKeyId(cur.keyId), 'local');
  }

  /** Sends a control message (e.g. 'EXIT', server: 'AUTH_FAILED', 'RESTART', 'HALT'). */
  sendControlMessage(text: string): void {
    const ks = this.activeKey();
    if (ks === undefined) throw new OvpnError(ErrorCode.NOT_CONNECTED, 'no active key for control messages');
    ks.writePlain(encodeControlMessage(text));
  }

  /** Server: answers a push request (already split into ≤1024-byte parts, see buildPushReplyParts). */
  sendPushReply(parts: readonly string[]): void {
    for (const p of parts) this.sendControlMessage(p);
  }

  /**
   * The 256-byte data key block of key `keyId`: 'ekm' (when the server pushed key-derivation
   * tls-ekm or protocol-flags tls-ekm) or the legacy 'prf'.
   */
  deriveKeyBlock(keyId: number, method: 'ekm' | 'prf'): Buffer {
    const ks = this.keyStates().find((k) => k.keyId === keyId && k.phase === 'active');
    if (ks === undefined || ks.tls === undefined) {
      throw new OvpnError(ErrorCode.NOT_CONNECTED, `no active key with key_id ${keyId}`);
    }
    if (method === 'ekm') return ks.tls.exportKeyingMaterial(KEY_BLOCK_SIZE, EKM_DATAKEYS_LABEL);
    const client = (this.role === 'client' ? ks.localKm2 : ks.remoteKm2) as KeyMethod2Message;
    const server = (this.role === 'client' ? ks.remoteKm2 : ks.localKm2) as KeyMethod2Message;
    return deriveLegacyKeyBlock({
      preMaster: client.preMaster as Buffer,
      clientRandom1: client.random1,
      clientRandom2: client.random2,
      serverRandom1: server.random1,
      serverRandom2: server.random2,
      clientSid: this.role === 'client' ? this.sessionId : (this.peerSid as Buffer),
      serverSid: this.role === 'client' ? (this.peerSid as Buffer) : this.sessionId,
    });
  }

  /** key_id of the current primary key, or undefined before start. */
  get keyId(): number | undefined {
    return this.primary?.keyId;
  }

  get peerSessionId(): Buffer | undefined {
    return this.peerSid;
  }

  /** Retransmissions so far over all key states still held. */
  get retransmits(): number {
    return this.keyStates().reduce((n, k) => n + k.send.retransmits, 0);
  }

  close(): void {
    this.dead = true;
    for (const ks of this.keyStates()) ks.close();
  }

  // ---- receive path ----------------------------------------------------------------------------

  private receiveInner(wire: Buffer): void {
    if (wire.length < 1 + SID_SIZE) return this.drop('short');
    const op = opcodeOf(wire[0] as number);
    let body = wire;
    if (
      this.o.tlsCryptV2Server !== undefined &&
      (op === Opcode.HARD_RESET_CLIENT_V3 || op === Opcode.CONTROL_WKC_V1)
    ) {
      const parts = splitWkc(wire);
      if (parts === undefined) return this.drop('wkc');
      if (this.wrap === undefined) {
        const un = unwrapClientKey(this.o.tlsCryptV2Server, parts.wkc);
        if (!un.ok) return this.drop('wkc');
        this.wrap = new TlsCryptWrap({ key: un.kc, role: 'server' });
      }
      body = parts.packet;
    }
    if (this.wrap === undefined) return this.drop('no-session');
    const un = this.wrap.unwrap(body);
    if (!un.ok) return this.drop('wrap');
    const d = decodeControlPacket(un.plain);
    if (!d.ok) return this.drop('decode');
    const p = d.packet;
    if (this.peerSid === undefined && !this.acceptFirst(p, un.packetId)) return;
    if (!(this.peerSid as Buffer).equals(p.sessionId)) return this.drop('sid-mismatch');
    if (p.ackSessionId !== undefined && !p.ackSessionId.equals(this.sessionId))
      return this.drop('ack-sid-mismatch');
    if (this.o.statelessCookie && !this.cookieConfirmed && !this.checkCookie(p)) return;
    const ks = this.keyStateFor(p);
    if (ks === undefined) return this.drop('unknown-key-id');
    ks.send.onAcks(p.acks);
    if (p.messageId !== undefined) {
      const v = ks.recv.receive(p.messageId, p.opcode, p.payload);
      if (v === 'out-of-window' || v === 'ack-full') this.drop('recv-window');
    }
    ks.deliver();
    if (this.advance(ks)) ks.deliver();
  }

  /** The very first packet fixes the peer sid: a server reset for clients, a client reset for servers. */
  private acceptFirst(p: ControlPacket, packetId: number | undefined): boolean {
    if (p.keyId !== 0) return this.reject('no-session');
    if (this.role === 'client') {
      if (p.opcode !== Opcode.HARD_RESET_SERVER_V2 || this.primary === undefined) {
        return this.reject('no-session');
      }
      // 2.6's stateless reply carries wrap packet id 1 and the instance continues at 2 under the
      // same or a later time (session_skip_to_pre_start), so one replay window covers both.
      this.peerSid = Buffer.from(p.sessionId);
      if (this.wrap?.mode === 'tls-crypt-v2' && (this.primary as KeyState).keyId === 0) {
        (this.primary as KeyState).wkcOnNextControl = parseEarlyNegPayload(p.payload).resendWkc;
      }
      return true;
    }
    if (p.opcode !== Opcode.HARD_RESET_CLIENT_V2 && p.opcode !== Opcode.HARD_RESET_CLIENT_V3) {
      return this.reject('no-session');
    }
    this.peerSid = Buffer.from(p.sessionId);
    this.earlyNegClient = packetId !== undefined && (packetId & EARLY_NEG_MASK) >>> 0 === EARLY_NEG_START;
    this.primary = this.newKeyState(0, this.o.statelessCookie ? 1 : 0);
    if (!this.o.statelessCookie) this.primary.send.enqueue(Opcode.HARD_RESET_SERVER_V2, Buffer.alloc(0));
    return true;
  }

  /** Stateless server: nothing but resets until the client ACKs our id 0 with our sid (§B6 step 3). */
  private checkCookie(p: ControlPacket): boolean {
    const isReset = p.opcode === Opcode.HARD_RESET_CLIENT_V2 || p.opcode === Opcode.HARD_RESET_CLIENT_V3;
    if (isReset) {
      this.sendStatelessReset();
      return false;
    }
    if (!p.acks.includes(0)) return this.reject('cookie-not-acked');
    this.cookieConfirmed = true;
    const ks = this.primary as KeyState;
    ks.recv.receive(0, Opcode.HARD_RESET_CLIENT_V2, Buffer.alloc(0));
    ks.recv.ackIds(ACK_MAX); // the reset was ACKed by the stateless reply already
    ks.deliver();
    return true;
  }

  private sendStatelessReset(): void {
    const payload = this.earlyNegClient ? encodeEarlyNegFlags(EARLY_NEG_FLAG_RESEND_WKC) : Buffer.alloc(0);
    this.emitPacket({
      opcode: Opcode.HARD_RESET_SERVER_V2,
      keyId: 0,
      sessionId: this.sessionId,
      acks: [0],
      ackSessionId: this.peerSid,
      messageId: 0,
      payload,
    });
  }

  private keyStateFor(p: ControlPacket): KeyState | undefined {
    for (const ks of this.keyStates()) if (ks.keyId === p.keyId) return ks;
    const cur = this.primary;
    if (
      p.opcode === Opcode.SOFT_RESET_V1 &&
      cur !== undefined &&
      cur.phase === 'active' &&
      p.keyId === nextKeyId(cur.keyId)
    ) {
      return this.beginSoftReset(p.keyId, 'peer');
    }
    return undefined;
  }

  /** State transitions after a packet: start TLS when the reset exchange is complete. */
  private advance(ks: KeyState): boolean {
    if (ks.tls !== undefined || ks.phase !== 'pre-start' || !ks.peerResetSeen) return false;
    if (this.role === 'server') {
      ks.startTls(this.o.tls, undefined);
      return true;
    }
    if (!ks.send.isAcked(0)) return false;
    ks.startTls(this.o.tls, this.clientKm2());
    return true;
  }

  // ---- send path -------------------------------------------------------------------------------

  /** Sends every due reliable message (with piggy-backed ACKs) and owed ACKs. */
  private flush(): void {
    if (this.dead) return;
    const now = this.o.clock.now();
    // A stateless server keeps nothing to send until the cookie came back (checkCookie replies).
    if (this.o.statelessCookie && !this.cookieConfirmed) return;
    for (const ks of this.keyStates()) {
      for (let m = ks.send.takeDue(now); m !== undefined; m = ks.send.takeDue(now)) {
        const acks = this.peerSid === undefined ? [] : ks.recv.ackIds(ACK_PIGGYBACK_MAX);
        this.emitPacket({
          opcode: m.opcode as Opcode,
          keyId: ks.keyId,
          sessionId: this.sessionId,
          acks,
          ackSessionId: acks.length > 0 ? this.peerSid : undefined,
          messageId: m.messageId,
          payload: m.payload,
        });
      }
      if (ks.recv.acksPending && !ks.holdAcks && this.peerSid !== undefined) {
        this.emitPacket({
          opcode: Opcode.ACK_V1,
          keyId: ks.keyId,
          sessionId: this.sessionId,
          acks: ks.recv.ackIds(ACK_MAX),
          ackSessionId: this.peerSid,
          messageId: undefined,
          payload: Buffer.alloc(0),
        });
      }
    }
  }

  private emitPacket(p: ControlPacket): void {
    const wrap = this.wrap as ControlWrap;
    this.o.sink.send(wrap.wrap(encodeControlPacket(p), this.o.unixTime()));
  }

  // ---- key states ------------------------------------------------------------------------------

  private newKeyState(keyId: number, firstSendId = 0): KeyState {
    return new KeyState(
      {
        keyId,
        role: this.role,
        tlsTimeoutMs: this.o.tlsTimeoutMs,
        maxPayload: this.maxPayload,
        startedAt: this.o.clock.now(),
        firstSendId,
      },
      this.keyEvents,
    );
  }

  private beginSoftReset(keyId: number, initiator: 'local' | 'peer'): KeyState {
    this.lameDuck?.close();
    this.lameDuck = this.primary;
    const ks = this.newKeyState(keyId);
    this.primary = ks;
    ks.send.enqueue(Opcode.SOFT_RESET_V1, Buffer.alloc(0));
    this.o.sink.event({ type: 'renegotiation', keyId, initiator });
    if (initiator === 'local') this.flush();
    return ks;
  }

  private keyStates(): KeyState[] {
    const out: KeyState[] = [];
    if (this.primary !== undefined) out.push(this.primary);
    if (this.lameDuck !== undefined) out.push(this.lameDuck);
    return out;
  }

  private activeKey(): KeyState | undefined {
    return this.keyStates().find((k) => k.phase === 'active');
  }

  /**
   * Credentials for the key-method-2 messages of later key states (renegotiations): a pushed
   * auth-token replaces the password, as OpenVPN does.
   */
  setCredentials(username: string | undefined, password: string | undefined): void {
    this.o.username = username;
    this.o.password = password;
  }

  private clientKm2(): KeyMethod2Message {
    return {
      preMaster: this.o.random(PRE_MASTER_SIZE),
      random1: this.o.random(RANDOM_SIZE),
      random2: this.o.random(RANDOM_SIZE),
      options: this.o.options,
      username: this.o.username ?? '',
      password: this.o.password ?? '',
      peerInfo: this.o.peerInfo ?? '',
    };
  }

  private readonly keyEvents: KeyStateEvents = {
    wake: () => this.flush(),
    secure: (ks) => {
      const cert = ks.tls?.peerCertificate();
      this.o.sink.event({
        type: 'tls-secure',
        keyId: ks.keyId,
        protocol: ks.tls?.protocol ?? null,
        peerSubject: cert?.subject.split('\n').join(', '),
      });
    },
    peerKeyMethod2: (ks) => {
      if (this.role !== 'server') return;
      ks.writeKeyMethod2({
        preMaster: undefined,
        random1: this.o.random(RANDOM_SIZE),
        random2: this.o.random(RANDOM_SIZE),
        options: this.o.options,
        username: '',
        password: '',
        peerInfo: '',
      });
    },
    active: (ks) => {
      const peer = ks.remoteKm2 as KeyMethod2Message;
      this.o.sink.event({
        type: 'key-ready',
        keyId: ks.keyId,
        peerInfo: peer.peerInfo,
        peerOptions: peer.options,
        ...(this.role === 'server'
          ? { credentials: { username: peer.username, password: peer.password } }
          : {}),
      });
      if (this.role === 'client' && ks.keyId === 0) {
        this.pushWanted = true;
        this.sendPushRequest();
      }
    },
    controlText: (_ks, text) => this.onControlText(text),
    failed: (ks, code, reason) => {
      this.o.sink.event({ type: 'key-failed', keyId: ks.keyId, code, reason });
      if (ks.keyId === 0 && ks === this.primary) this.fail(code, reason);
    },
  };

  // ---- control messages ------------------------------------------------------------------------

  private sendPushRequest(): void {
    this.nextPushAt = this.o.clock.now() + this.o.pushRequestIntervalMs;
    this.activeKey()?.writePlain(encodeControlMessage('PUSH_REQUEST'));
  }

  private onControlText(text: string): void {
    const m = parseControlMessage(text);
    if (m.type === 'push-request') {
      if (this.role === 'server') this.o.sink.event({ type: 'push-request' });
      return;
    }
    if (m.type === 'push-reply' && this.role === 'client') {
      this.pushWanted = false;
      this.pushParts = [...(this.pushParts ?? []), ...m.options];
      if (m.continuation === 2) return;
      const options = this.pushParts;
      this.pushParts = undefined;
      this.o.sink.event({ type: 'push-reply', options });
      return;
    }
    if (m.type === 'auth-failed' || m.type === 'halt' || m.type === 'restart') this.pushWanted = false;
    this.o.sink.event({ type: 'message', message: m });
  }

  private fail(code: string, reason: string): void {
    if (this.dead) return;
    this.o.sink.event({ type: 'failed', code, reason });
    this.close();
  }

  private drop(r: SessionDropReason): void {
    this.drops.set(r, (this.drops.get(r) ?? 0) + 1);
  }

  /** Counts a drop and answers "not accepted". */
  private reject(r: SessionDropReason): false {
    this.drop(r);
    return false;
  }

  private newSid(): Buffer {
    for (let i = 0; i < 8; i++) {
      const sid = Buffer.from(this.o.random(SID_SIZE));
      if (sid.some((b) => b !== 0)) return sid;
    }
    throw new OvpnError(ErrorCode.INTERNAL, 'random source returned zero session ids');
  }
}

/** key_id after `k`: 1..7, wrapping to 1 (never back to 0). */
export function nextKeyId(k: number): number {
  return k >= KEY_ID_MAX ? 1 : k + 1;
}
