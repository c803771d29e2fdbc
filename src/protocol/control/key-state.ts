// One key state (one key_id): its reliability windows, its TLS session and its key-method-2
// exchange (openvpn-protocol.md §B4, §C). The session (session.ts) owns the packets; a key state
// only sees reliable messages in and out.
//
// Flow
//   1. reset      msg id 0 (HARD/SOFT reset) queued by the session; the peer's reset arrives as
//                 msg id 0 too (`peerResetSeen`).
//   2. TLS        started by the session (client: own reset ACKed and peer reset seen; server:
//                 peer reset seen). Client writes its key-method-2 at once; node holds it until
//                 the handshake is done.
//   3. ciphertext TLS output is cut into payloads ≤ maxPayload and queued as P_CONTROL_V1
//                 (the first one as P_CONTROL_WKC_V1 when the v2 server asked for WKc).
//   4. plaintext  first the peer's key-method-2, then NUL-separated control messages.
//   5. active     TLS secure, both key-method-2 messages exchanged.
import { Opcode } from './constants.js';
import { type KeyMethod2Message, decodeKeyMethod2, encodeKeyMethod2 } from './key-method2.js';
import { ControlTextSplitter } from './messages.js';
import { ReliableRecv, ReliableSend } from './reliable.js';
import { TlsChannel, type TlsConfig } from './tls-channel.js';

export type KeyPhase = 'pre-start' | 'tls' | 'active' | 'failed';

export interface KeyStateEvents {
  /** New packets may be due: the session should flush. */
  wake(): void;
  secure(ks: KeyState): void;
  /** Peer's key-method-2 arrived. The server answers from here with `writeKeyMethod2`. */
  peerKeyMethod2(ks: KeyState, msg: KeyMethod2Message): void;
  active(ks: KeyState): void;
  controlText(ks: KeyState, text: string): void;
  failed(ks: KeyState, code: string, message: string): void;
}

export interface KeyStateOptions {
  keyId: number;
  role: 'client' | 'server';
  tlsTimeoutMs: number;
  maxPayload: number;
  startedAt: number;
  /** 1 when the first own message (the reset) was sent statelessly outside the window. */
  firstSendId?: number;
}

export class KeyState {
  readonly keyId: number;
  readonly role: 'client' | 'server';
  readonly send: ReliableSend;
  readonly recv = new ReliableRecv();
  readonly startedAt: number;
  phase: KeyPhase = 'pre-start';
  peerResetSeen = false;
  /** Send the next P_CONTROL_V1 as P_CONTROL_WKC_V1 (tls-crypt-v2 early negotiation). */
  wkcOnNextControl = false;
  /** Hold ACK-only packets until TLS produced its first flight (the ACK rides on it instead). */
  holdAcks = false;
  tls: TlsChannel | undefined;
  localKm2: KeyMethod2Message | undefined;
  remoteKm2: KeyMethod2Message | undefined;
  private km2Buf: Buffer = Buffer.alloc(0);
  private readonly splitter = new ControlTextSplitter();
  private readonly maxPayload: number;
  private secure = false;

  constructor(
    opts: KeyStateOptions,
    private readonly ev: KeyStateEvents,
  ) {
    this.keyId = opts.keyId;
    this.role = opts.role;
    this.startedAt = opts.startedAt;
    this.maxPayload = opts.maxPayload;
    this.send = new ReliableSend({ timeoutMs: opts.tlsTimeoutMs, firstMessageId: opts.firstSendId ?? 0 });
  }

  /** Starts TLS; the client's key-method-2 is written immediately. */
  startTls(cfg: TlsConfig, clientKm2: KeyMethod2Message | undefined): void {
    if (this.tls !== undefined || this.phase === 'failed') return;
    this.phase = 'tls';
    const handlers = {
      ciphertext: (c: Buffer) => this.onCiphertext(c),
      plaintext: (p: Buffer) => this.onPlaintext(p),
      secure: () => {
        this.secure = true;
        this.ev.secure(this);
        this.checkActive();
      },
      error: (e: Error & { code?: string }) => this.fail(e.code ?? 'TLS_ERROR', e.message),
    };
    if (this.role === 'client') {
      this.holdAcks = true;
      this.tls = TlsChannel.client(cfg, handlers);
      if (clientKm2 !== undefined) this.writeKeyMethod2(clientKm2);
    } else {
      this.tls = TlsChannel.server(cfg, handlers);
    }
  }

  writeKeyMethod2(m: KeyMethod2Message): void {
    this.localKm2 = m;
    this.tls?.write(encodeKeyMethod2(m));
    this.checkActive();
  }

  /** Writes bytes (a NUL-terminated control message) into TLS. */
  writePlain(b: Buffer): void {
    this.tls?.write(b);
  }

  /**
   * Hands in-order reliable messages to the reset flag or to TLS. TLS payloads stay buffered in
   * the receive window until TLS has been started, so nothing is lost when a reset and the
   * following records arrive in one burst. Call after each receive and after startTls.
   */
  deliver(): void {
    for (let m = this.recv.peekInOrder(); m !== undefined; m = this.recv.peekInOrder()) {
      const isReset =
        m.opcode === Opcode.HARD_RESET_CLIENT_V2 ||
        m.opcode === Opcode.HARD_RESET_CLIENT_V3 ||
        m.opcode === Opcode.HARD_RESET_SERVER_V2 ||
        m.opcode === Opcode.SOFT_RESET_V1;
      if (!isReset && this.tls === undefined && this.phase !== 'failed') return;
      this.recv.takeInOrder();
      if (m.messageId === 0 && isReset) this.peerResetSeen = true;
      else if (!isReset && m.payload.length > 0) this.tls?.feed(m.payload);
    }
  }

  fail(code: string, message: string): void {
    if (this.phase === 'failed') return;
    this.phase = 'failed';
    this.tls?.destroy();
    this.ev.failed(this, code, message);
  }

  close(): void {
    this.tls?.destroy();
    this.tls = undefined;
  }

  private onCiphertext(chunk: Buffer): void {
    this.holdAcks = false;
    for (let o = 0; o < chunk.length; o += this.maxPayload) {
      const op = this.wkcOnNextControl ? Opcode.CONTROL_WKC_V1 : Opcode.CONTROL_V1;
      this.wkcOnNextControl = false;
      this.send.enqueue(op, Buffer.from(chunk.subarray(o, o + this.maxPayload)));
    }
    this.ev.wake();
  }

  private onPlaintext(p: Buffer): void {
    if (this.remoteKm2 === undefined) {
      this.km2Buf = Buffer.concat([this.km2Buf, p]);
      const r = decodeKeyMethod2(this.km2Buf, this.role === 'server');
      if (r.status === 'incomplete') return;
      if (r.status === 'error') {
        this.fail('KM2_DECODE', `peer key-method-2 message rejected: ${r.reason}`);
        return;
      }
      this.remoteKm2 = r.message;
      const rest = this.km2Buf.subarray(r.consumed);
      this.km2Buf = Buffer.alloc(0);
      this.ev.peerKeyMethod2(this, r.message);
      this.checkActive();
      if (rest.length > 0) this.onText(rest);
      return;
    }
    this.onText(p);
  }

  private onText(b: Buffer): void {
    for (const text of this.splitter.push(b)) this.ev.controlText(this, text);
  }

  private checkActive(): void {
    if (this.phase !== 'tls' || !this.secure) return;
    if (this.localKm2 === undefined || this.remoteKm2 === undefined) return;
    this.phase = 'active';
    this.ev.active(this);
  }

  /** Control texts dropped for non-printable bytes. */
  get rejectedTexts(): number {
    return this.splitter.rejected;
  }
}
