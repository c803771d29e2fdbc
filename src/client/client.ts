// OpenVpnClient: the user-space half of ovpn-dco's split. It runs the OpenVPN control channel
// (ControlSession) and drives the data-channel engine ONLY through the control API, exactly as
// openvpn drives ovpn-dco, so either side can be replaced (another engine behind the same API,
// or another control plane in front of the engine).
//
// Flow of one connection attempt
//   1. connecting  resolve `remote`, newPeer {remote, proto}: the engine opens the socket. Control
//                  packets leave with writeControl and arrive through onControlPacket (the
//                  engine passes every non-data opcode up unchanged). HARD_RESET sent.
//   2. tls         the server's reset arrived; TLS runs inside P_CONTROL_V1.
//   3. auth        TLS is up; key-method-2 (credentials, peer-info) both ways.
//   4. push        PUSH_REQUEST until PUSH_REPLY (AUTH_PENDING extends the wait).
//   5. connected   cipher checked against data-ciphers, keys derived (EKM if pushed, else the
//                  PRF), newKey primary with the pushed peer-id, setPeer (ping, ping-restart,
//                  mss), TUN configured, startVpn.
//   6. renegotiation (either side, reneg-sec or the engine's keyRenewalNeeded): the new key goes
//                  into the SECONDARY slot, then swapKeys, so Tx moves to it while the old key,
//                  now secondary, keeps decrypting late packets until the next renegotiation.
//   7. reconnecting on ping-restart (peerDeleted expired), TCP reset, RESTART/EXIT, errors:
//                  delPeer, clear the TUN settings, back off, next `remote`.
//   8. exiting     stop(): explicit-exit-notify (EXIT control message with cc-exit, else OCC
//                  EXIT through the engine), delPeer, clear TUN settings; `done` resolves.
//
// Ownership: the client owns the ControlSession and the engine's peer (newPeer..delPeer); the
// caller owns the engine and the TUN device. Key material never reaches the log.

import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import type { AddressFamily, ClientOptions, Connection } from '../config/options.js';
import { type PushedOptions, parsePushOptions } from '../config/push.js';
import type { ControlEvent as EngineEvent } from '../control-api/schema.js';
import type { ControlApi } from '../control-api/target.js';
import { splitKeyBlock } from '../protocol/control/keys.js';
import type { ControlMessage } from '../protocol/control/messages.js';
import { ControlSession, type ControlEvent } from '../protocol/control/session.js';
import type { TlsConfig } from '../protocol/control/tls-channel.js';
import { type CompressMode, parseCompressOption } from '../protocol/data/compress.js';
import type { SockAddr } from '../transport/addr.js';
import { type Clock, type ClockTimer, RealClock } from '../util/clock.js';
import { type CredentialPrompt, type Credentials, resolveCredentials } from './credentials.js';
import { ClientError, ClientErrorCode, explainNoReply, explainSessionFailure } from './errors.js';
import { type NetConfigurator, type TunPlan, describePlan, planTun } from './net-config.js';
import { buildClientPeerInfo, buildOptions, buildTlsConfig, buildWrap } from './profile.js';

export type ClientState =
  'idle' | 'connecting' | 'tls' | 'auth' | 'push' | 'connected' | 'reconnecting' | 'exiting' | 'exited';

export interface ConnectionInfo {
  readonly remote: SockAddr;
  readonly proto: 'udp' | 'tcp';
  readonly cipher: string;
  /** undefined = DATA_V1 (no peer-id pushed). */
  readonly peerId: number | undefined;
  readonly keyDerivation: 'ekm' | 'prf';
  readonly tlsProtocol: string | null;
  readonly peerSubject: string | undefined;
  readonly ping: number;
  readonly pingRestart: number;
  readonly plan: TunPlan;
  readonly pushed: PushedOptions;
}

export type ClientEvent =
  | { type: 'state'; state: ClientState; previous: ClientState; reason: string | undefined }
  | { type: 'connected'; info: ConnectionInfo }
  | { type: 'key-installed'; keyId: number; renegotiation: boolean }
  | { type: 'error'; code: ClientErrorCode; message: string; fatal: boolean }
  | { type: 'exited'; code: number; error: ClientError | undefined };

export interface OpenVpnClientOptions {
  profile: ClientOptions;
  /** The engine's control API; its target also carries the event and control-packet streams. */
  api: ControlApi;
  /** Applies TUN addresses/routes (IpNetConfigurator on Linux); none = nothing applied. */
  net?: NetConfigurator;
  clock?: Clock;
  /** One log line (already filtered by `verb`). Default: stderr. */
  log?: (line: string) => void;
  /** Asks for auth-user-pass credentials the profile does not hold (TTY prompt). */
  prompt?: CredentialPrompt;
  resolve?: (host: string, family: AddressFamily) => Promise<string>;
  /** OCC EXIT through the data channel (the engine's sendExitNotify); used without cc-exit. */
  occExit?: () => number;
  /** Sets the data-channel compression framing when the server pushes comp-lzo/compress. */
  setCompress?: (mode: CompressMode) => void;
  /** Reported as IV_VER. */
  version?: string;
  random?: (n: number) => Buffer;
}

/** Per-attempt state; a new object per connection attempt, so late callbacks can tell they are stale. */
interface Attempt {
  readonly conn: Connection;
  readonly remote: SockAddr;
  readonly startedAt: number;
  session: ControlSession | undefined;
  peerSeen: boolean;
  pushDeadline: number;
  tlsProtocol: string | null;
  peerSubject: string | undefined;
  cipher: string | undefined;
  method: 'ekm' | 'prf';
  peerId: number | undefined;
  ccExit: boolean;
  connected: boolean;
  keyStartedAt: number;
  /** Data-channel bytes and packets (both directions) when the current key became primary. */
  keyUsageAtStart: { bytes: number; pkts: number } | undefined;
  /** Bumped whenever the primary key changes, so a stats reply from before is ignored. */
  keyEpoch: number;
  statsInFlight: boolean;
  renegPending: boolean;
  /** Renegotiated keys that became ready before the push was applied. */
  pendingKeys: number[];
}

const TICK_MS = 200;
const EXIT_NOTIFY_MAX_S = 5;

export class OpenVpnClient {
  private readonly o: OpenVpnClientOptions;
  private readonly p: ClientOptions;
  private readonly clock: Clock;
  private readonly tls: TlsConfig;
  private readonly listeners = new Set<(e: ClientEvent) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private st: ClientState = 'idle';
  private att: Attempt | undefined;
  private connIndex = 0;
  private failures = 0;
  private ops: Promise<void> = Promise.resolve();
  private tickTimer: ClockTimer | undefined;
  private retryTimer: ClockTimer | undefined;
  private creds: Credentials | undefined;
  private authToken: string | undefined;
  private lastError: ClientError | undefined;
  private resolveDone!: (code: number) => void;
  /** Resolves with the exit code (0 after stop(), 1 after a fatal error). */
  readonly done: Promise<number>;

  constructor(o: OpenVpnClientOptions) {
    this.o = o;
    this.p = o.profile;
    this.clock = o.clock ?? new RealClock();
    if (!this.p.pull) {
      throw new ClientError(
        ClientErrorCode.CONFIG,
        "P2P TLS mode (no 'client' or 'pull' in the profile) is not supported by ovpn-ts connect: add 'client'",
      );
    }
    if (this.p.connections.length === 0) {
      throw new ClientError(ClientErrorCode.CONFIG, "no 'remote': add 'remote HOST [PORT]' to the profile");
    }
    this.tls = buildTlsConfig(this.p, (w) => this.log(1, `WARNING: ${w}`));
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get state(): ClientState {
    return this.st;
  }

  on(listener: (e: ClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts connecting (credentials first). Returns at once; watch events or await `done`. */
  start(): void {
    if (this.st !== 'idle') return;
    const target = this.o.api.target;
    this.unsubscribe.push(
      target.onControlPacket((pkt) => this.onControlPacket(pkt.data)),
      target.onEvent((e) => this.onEngineEvent(e)),
    );
    this.tickTimer = this.clock.setInterval(() => this.tick(), TICK_MS);
    void this.begin();
  }

  private async begin(): Promise<void> {
    try {
      this.creds = await resolveCredentials(this.p.authUserPass, this.o.prompt);
    } catch (e) {
      return this.fatal(
        e instanceof ClientError ? e : new ClientError(ClientErrorCode.CREDENTIALS, String(e)),
      );
    }
    void this.connect();
  }

  /** Leaves cleanly: exit notify, delPeer, TUN settings removed. Resolves with the exit code. */
  async stop(reason = 'SIGTERM'): Promise<number> {
    if (this.st === 'exiting' || this.st === 'exited') return this.done;
    const att = this.att;
    this.setState('exiting', reason);
    if (this.retryTimer !== undefined) this.clock.clear(this.retryTimer);
    if (att?.connected === true && att.conn.transport === 'udp' && att.conn.explicitExitNotify > 0) {
      await this.exitNotify(att, Math.min(att.conn.explicitExitNotify, EXIT_NOTIFY_MAX_S));
    }
    await this.finish(0, undefined);
    return this.done;
  }

  /** Starts a renegotiation now (tests, or an operator's request). */
  renegotiate(): void {
    const att = this.att;
    if (att?.connected !== true || att.session === undefined) return;
    att.renegPending = true;
    att.session.renegotiate();
  }

  // ---- attempts ---------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (this.st === 'exiting' || this.st === 'exited') return;
    const conn = this.p.connections[this.connIndex] as Connection;
    this.setState('connecting', `${conn.host}:${conn.port}/${conn.transport}`);
    let address: string;
    try {
      address = await (this.o.resolve ?? defaultResolve)(conn.host, conn.family);
    } catch (e) {
      return this.restart(`cannot resolve ${conn.host}: ${(e as Error).message}`, {
        error: ClientErrorCode.NO_REPLY,
      });
    }
    const remote = { address, port: conn.port };
    try {
      await this.openPeer(conn, remote);
    } catch (e) {
      return this.restart(
        `cannot open ${conn.transport} to ${address}:${conn.port}: ${(e as Error).message}`,
        {
          error: ClientErrorCode.NO_REPLY,
        },
      );
    }
    if (this.st !== 'connecting') return; // stopped meanwhile
    const att = this.newAttempt(conn, remote);
    this.att = att;
    this.log(
      1,
      `${conn.transport.toUpperCase()} link remote: [AF_INET${isIPv6(address) ? '6' : ''}]${address}:${conn.port}`,
    );
    att.session = this.newSession(att);
    att.session.start();
  }

  /**
   * newPeer, bounded by connect-timeout (a TCP SYN to a silent host can take minutes). A newPeer
   * that completes after the deadline is undone at once, so no stale peer blocks the next attempt.
   */
  private async openPeer(conn: Connection, remote: SockAddr): Promise<void> {
    const opened = this.o.api.call('newPeer', { remote, proto: conn.transport });
    let timer: ClockTimer | undefined;
    const deadline = new Promise<'timeout'>((r) => {
      timer = this.clock.setTimeout(() => r('timeout'), conn.connectTimeout * 1000);
    });
    const won = await Promise.race([opened.then(() => 'opened' as const), deadline]).finally(() => {
      if (timer !== undefined) this.clock.clear(timer);
    });
    if (won === 'timeout') {
      opened.then(() => this.o.api.call('delPeer', {})).catch(() => undefined);
      throw new Error(`no connection within connect-timeout (${conn.connectTimeout} s)`);
    }
  }

  private newAttempt(conn: Connection, remote: SockAddr): Attempt {
    const now = this.clock.now();
    return {
      conn,
      remote,
      startedAt: now,
      session: undefined,
      peerSeen: false,
      pushDeadline: Infinity,
      tlsProtocol: null,
      peerSubject: undefined,
      cipher: undefined,
      method: 'prf',
      peerId: undefined,
      ccExit: false,
      connected: false,
      keyStartedAt: now,
      keyUsageAtStart: undefined,
      keyEpoch: 0,
      statsInFlight: false,
      renegPending: false,
      pendingKeys: [],
    };
  }

  private newSession(att: Attempt): ControlSession {
    const password = this.authToken ?? this.creds?.password;
    return new ControlSession({
      role: 'client',
      clock: this.clock,
      sink: {
        send: (w) => this.sendControl(att, w),
        event: (e) => this.onSessionEvent(att, e),
      },
      wrap: buildWrap(att.conn.tlsWrap, this.p),
      tls: this.tls,
      options: buildOptions(att.conn, isIPv6(att.remote.address)),
      ...(this.creds !== undefined ? { username: this.creds.username } : {}),
      ...(password !== undefined ? { password } : {}),
      peerInfo: buildClientPeerInfo(this.p, this.o.version ?? '2.6.14'),
      tlsTimeoutMs: this.p.tls.timeout * 1000,
      handWindowMs: this.p.tls.handWindow * 1000,
      maxPacketSize: this.p.tls.maxPacketSize,
      ...(this.o.random !== undefined ? { random: this.o.random } : {}),
    });
  }

  private sendControl(att: Attempt, wire: Buffer): void {
    if (att !== this.att) return;
    // writeControl validates and hands the packet to the engine synchronously, so order is kept.
    this.o.api.call('writeControl', { data: wire }).catch((e: unknown) => {
      this.log(4, `control packet not sent (${(e as Error).message}); the reliability layer resends it`);
    });
  }

  private onControlPacket(data: Uint8Array): void {
    const att = this.att;
    const s = att?.session;
    if (att === undefined || s === undefined) return;
    s.receive(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (!att.peerSeen && s.peerSessionId !== undefined) {
      att.peerSeen = true;
      if (this.st === 'connecting') this.setState('tls', 'server answered');
    }
  }

  private tick(): void {
    const att = this.att;
    const s = att?.session;
    if (att === undefined || s === undefined) return;
    s.tick();
    const now = this.clock.now();
    if (!att.peerSeen && now - att.startedAt >= att.conn.connectTimeout * 1000) {
      const why = explainNoReply(this.failureContext(att, s));
      return this.restart(
        why.message.replace(/hand-window \(\d+ s\)/, `server-poll-timeout (${att.conn.connectTimeout} s)`),
        {
          error: why.code,
        },
      );
    }
    if (this.st === 'push' && now >= att.pushDeadline) {
      return this.restart(
        `no PUSH_REPLY within hand-window (${this.p.tls.handWindow} s): see the server log`,
        {
          error: ClientErrorCode.PUSH,
        },
      );
    }
    const renegMs = this.p.tls.renegSec.max * 1000;
    if (att.connected && renegMs > 0 && !att.renegPending && now - att.keyStartedAt >= renegMs) {
      this.log(2, `reneg-sec ${this.p.tls.renegSec.max} reached: renegotiating`);
      this.tryRenegotiate(att);
    }
    const { renegBytes = 0, renegPkts = 0 } = this.p.tls;
    if (att.connected && (renegBytes > 0 || renegPkts > 0) && !att.renegPending && !att.statsInFlight)
      this.checkKeyUsage(att, renegBytes, renegPkts);
  }

  private keyStarted(att: Attempt): void {
    att.keyStartedAt = this.clock.now();
    att.keyUsageAtStart = undefined;
    att.keyEpoch++;
  }

  /**
   * reneg-bytes / reneg-pkts: data-channel bytes and packets, sent plus received, under the current
   * key (the engine's counters, read every tick); at either limit, renegotiate. The first reading
   * after a key change is its baseline. 0 means no limit.
   */
  private checkKeyUsage(att: Attempt, maxBytes: number, maxPkts: number): void {
    att.statsInFlight = true;
    const epoch = att.keyEpoch;
    this.o.api.call('getStats', {}).then(
      (s) => {
        att.statsInFlight = false;
        if (att !== this.att || !att.connected || att.renegPending || epoch !== att.keyEpoch) return;
        const now = {
          bytes: s.tunBytesSent + s.tunBytesReceived,
          pkts: s.sentDataPackets + s.receivedDataPackets,
        };
        const base = att.keyUsageAtStart;
        if (base === undefined) {
          att.keyUsageAtStart = now;
          return;
        }
        const bytes = now.bytes - base.bytes;
        const pkts = now.pkts - base.pkts;
        const why =
          maxBytes > 0 && bytes >= maxBytes
            ? `reneg-bytes ${maxBytes} reached (${bytes} bytes)`
            : maxPkts > 0 && pkts >= maxPkts
              ? `reneg-pkts ${maxPkts} reached (${pkts} packets)`
              : undefined;
        if (why === undefined) return;
        this.log(2, `${why}: renegotiating`);
        this.tryRenegotiate(att);
      },
      () => {
        att.statsInFlight = false;
      },
    );
  }

  private tryRenegotiate(att: Attempt): void {
    try {
      att.renegPending = true;
      att.session?.renegotiate();
    } catch (e) {
      att.renegPending = false;
      this.log(3, `renegotiation not started: ${(e as Error).message}`);
    }
  }

  private failureContext(att: Attempt, s: ControlSession) {
    return {
      wrapMode: att.conn.tlsWrap?.mode ?? 'none',
      handWindowSec: this.p.tls.handWindow,
      peerSeen: att.peerSeen,
      wrapDrops: s.drops.get('wrap') ?? 0,
    };
  }

  // ---- control-session events -------------------------------------------------------------------

  private onSessionEvent(att: Attempt, e: ControlEvent): void {
    if (att !== this.att) return;
    switch (e.type) {
      case 'tls-secure':
        if (e.keyId !== 0) return this.log(3, `TLS key_id ${e.keyId}: ${e.protocol ?? '?'}`);
        att.tlsProtocol = e.protocol;
        att.peerSubject = e.peerSubject;
        this.log(2, `Control Channel: ${e.protocol ?? '?'}, peer certificate: ${e.peerSubject ?? '?'}`);
        return this.setState('auth', 'TLS established');
      case 'key-ready':
        if (e.keyId === 0) {
          att.pushDeadline = this.clock.now() + this.p.tls.handWindow * 1000;
          return this.setState('push', 'key exchange done');
        }
        return this.serial(att, () => this.installRenegotiated(att, e.keyId));
      case 'renegotiation':
        att.renegPending = true;
        return this.log(
          2,
          `renegotiation to key_id ${e.keyId} started by ${e.initiator === 'local' ? 'us' : 'the server'}`,
        );
      case 'push-reply':
        return this.serial(att, () => this.applyPush(att, e.options));
      case 'message':
        return this.onMessage(att, e.message);
      case 'key-failed':
        if (e.keyId !== 0)
          this.restart(`renegotiation of key_id ${e.keyId} failed: ${e.reason}`, {
            error: ClientErrorCode.TLS,
          });
        return;
      case 'failed': {
        const why = explainSessionFailure(
          e.code,
          e.reason,
          this.failureContext(att, att.session as ControlSession),
        );
        return this.restart(why.message, { error: why.code });
      }
      case 'push-request':
        return;
    }
  }

  private onMessage(att: Attempt, m: ControlMessage): void {
    switch (m.type) {
      case 'auth-failed':
        return this.onAuthFailed(m);
      case 'auth-pending':
        att.pushDeadline = this.clock.now() + (m.timeoutSec ?? this.p.tls.handWindow) * 1000;
        return this.log(
          1,
          `authentication pending${m.timeoutSec !== undefined ? ` (up to ${m.timeoutSec} s)` : ''}: complete it as the server asks`,
        );
      case 'info-pre':
      case 'info':
        return this.log(1, `${m.type === 'info' ? 'INFO' : 'INFO_PRE'}: ${m.text}`);
      case 'restart':
        return this.restart(`server sent RESTART${m.message !== '' ? `: ${m.message}` : ''}`, {
          advance: m.nextRemote,
          delayMs: 0,
        });
      case 'halt':
        return void this.fatal(
          new ClientError(
            ClientErrorCode.HALT,
            `server sent HALT${m.message !== '' ? `: ${m.message}` : ''}: not reconnecting`,
          ),
        );
      case 'exit':
        return this.restart('server is shutting down (EXIT)', {
          delayMs: this.p.connections[0]!.connectRetry.initial * 1000,
        });
      default:
        return this.log(3, `control message ignored: ${m.type === 'unknown' ? m.text : m.type}`);
    }
  }

  private onAuthFailed(m: Extract<ControlMessage, { type: 'auth-failed' }>): void {
    if (m.kind === 'session' && this.authToken !== undefined) {
      this.authToken = undefined;
      return this.restart(
        'auth-token expired (AUTH_FAILED,SESSION): reconnecting with the saved credentials',
        { delayMs: 0, advance: false },
      );
    }
    if (m.kind === 'temp') {
      const delay = (m.backoffSec ?? 10) * 1000;
      return this.restart(
        `AUTH_FAILED,TEMP: ${m.message || 'temporary failure'}; retrying in ${delay / 1000} s`,
        {
          delayMs: delay,
          advance: m.advance === 'remote' || m.advance === 'addr',
          error: ClientErrorCode.AUTH_FAILED,
        },
      );
    }
    const text = `AUTH_FAILED${m.message !== '' ? `: ${m.message}` : ''}: the server refused our credentials`;
    if (this.p.authRetry === 'none' || m.kind === 'crv1') {
      return void this.fatal(
        new ClientError(ClientErrorCode.AUTH_FAILED, `${text} (auth-retry none: exiting)`),
      );
    }
    this.authToken = undefined;
    this.restart(text, { error: ClientErrorCode.AUTH_FAILED, advance: false });
  }

  // ---- push and keys ----------------------------------------------------------------------------

  private async applyPush(att: Attempt, options: string[]): Promise<void> {
    this.log(3, `PUSH: Received control message: 'PUSH_REPLY,${redactPush(options).join(',')}'`);
    const parsed = parsePushOptions(options, this.p);
    // Inside the serial chain: fatal() waits for the chain, so it must not be awaited here.
    if (!parsed.ok)
      return void this.fatal(new ClientError(ClientErrorCode.PUSH, `push reply refused: ${parsed.reason}`));
    for (const w of parsed.warnings) this.log(3, `push: ${w}`);
    for (const e of parsed.errors) this.log(1, `WARNING: push: ${e}`);
    const pushed = parsed.options;
    const cipher = pushed.cipher ?? this.p.dataCiphersFallback;
    if (cipher === undefined) {
      return void this.fatal(
        new ClientError(
          ClientErrorCode.PUSH,
          'the server pushed no cipher and data-ciphers-fallback is not set: the server does not support cipher negotiation',
        ),
      );
    }
    if (pushed.compression !== undefined && !this.applyCompression(pushed.compression)) return;
    att.cipher = cipher;
    att.method = pushed.keyDerivation === 'tls-ekm' || pushed.protocolFlags?.tlsEkm === true ? 'ekm' : 'prf';
    att.peerId = pushed.peerId;
    att.ccExit = pushed.protocolFlags?.ccExit === true;
    if (pushed.authToken !== undefined) {
      // The token replaces the password from now on: reconnects and renegotiations alike.
      this.authToken = pushed.authToken;
      (att.session as ControlSession).setCredentials(this.creds?.username, pushed.authToken);
    }
    await this.installKey(att, 0, 'primary');
    const ping = pushed.ping ?? this.p.ping;
    const pingRestart = pushed.pingRestart ?? (this.p.pingRestart || this.p.pingExit);
    await this.o.api.call('setPeer', {
      keepaliveInterval: ping,
      keepaliveTimeout: pingRestart,
      mss: mssFor(att.conn, att.remote),
    });
    const plan = planTun(pushed, this.p, att.remote.address);
    for (const w of plan.warnings) this.log(1, `WARNING: ${w}`);
    const notes = this.o.net === undefined ? [] : await this.o.net.apply(plan);
    for (const n of notes) this.log(1, n);
    await this.o.api.call('startVpn', {});
    if (att !== this.att) return;
    att.connected = true;
    this.keyStarted(att);
    this.failures = 0;
    const info: ConnectionInfo = {
      remote: att.remote,
      proto: att.conn.transport,
      cipher,
      peerId: att.peerId,
      keyDerivation: att.method,
      tlsProtocol: att.tlsProtocol,
      peerSubject: att.peerSubject,
      ping,
      pingRestart,
      plan,
      pushed,
    };
    this.log(
      1,
      `Data Channel: cipher '${cipher}', peer-id: ${att.peerId ?? 'none (DATA_V1)'}, key derivation ${att.method === 'ekm' ? 'TLS-EKM' : 'OpenVPN PRF'}`,
    );
    for (const line of describePlan(plan)) this.log(1, line);
    this.setState('connected', 'Initialization Sequence Completed');
    this.emit({ type: 'connected', info });
    for (const k of att.pendingKeys.splice(0)) await this.installRenegotiated(att, k);
  }

  private applyCompression(kind: NonNullable<PushedOptions['compression']>): boolean {
    const mode = parseCompressOption(
      kind === 'comp-lzo' ? 'comp-lzo no' : kind === 'compress' ? 'compress stub' : 'compress stub-v2',
    );
    if (this.o.setCompress === undefined) {
      void this.fatal(
        new ClientError(
          ClientErrorCode.PUSH,
          `the server pushed compression framing (${kind}), which this engine cannot switch to: use 'allow-compression no' on the server`,
        ),
      );
      return false;
    }
    this.o.setCompress(mode);
    this.log(1, `WARNING: server pushed ${kind}: stub framing only, nothing is compressed`);
    return true;
  }

  /** Derives key `keyId` and loads it into `slot`; the key bytes are wiped after the call. */
  private async installKey(att: Attempt, keyId: number, slot: 'primary' | 'secondary'): Promise<void> {
    const s = att.session as ControlSession;
    const block = s.deriveKeyBlock(keyId, att.method);
    const k = splitKeyBlock(block, att.cipher as string, 'client');
    block.fill(0);
    // At verb 7 (where OpenVPN prints the keys themselves) show SHA-256 fingerprints, so a
    // derivation can be checked against the peer's log without ever logging key material.
    if (this.p.verb >= 7) {
      const fp = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 16);
      this.log(
        7,
        `Data Channel key_id ${keyId}: encrypt key sha256:${fp(k.encrypt.cipherKey)}, decrypt key sha256:${fp(k.decrypt.cipherKey)}`,
      );
    }
    try {
      await this.o.api.call('newKey', {
        cipher: k.cipher as 'AES-256-GCM',
        keyId,
        slot,
        ...(att.peerId !== undefined ? { peerId: att.peerId } : {}),
        encrypt: { key: k.encrypt.cipherKey, nonceTail: k.encrypt.implicitIv },
        decrypt: { key: k.decrypt.cipherKey, nonceTail: k.decrypt.implicitIv },
      });
    } finally {
      for (const d of [k.encrypt, k.decrypt])
        for (const b of [d.cipherKey, d.implicitIv, d.hmacHalf]) b.fill(0);
    }
    this.log(3, `key_id ${keyId} installed (${slot})`);
  }

  private async installRenegotiated(att: Attempt, keyId: number): Promise<void> {
    if (!att.connected) {
      att.pendingKeys.push(keyId);
      return;
    }
    await this.installKey(att, keyId, 'secondary');
    await this.o.api.call('swapKeys', {});
    this.keyStarted(att);
    att.renegPending = false;
    this.log(1, `renegotiation done: key_id ${keyId} is now primary, the previous key still decrypts`);
    this.emit({ type: 'key-installed', keyId, renegotiation: true });
  }

  /** Engine operations run one after another, and never for a superseded attempt. */
  private serial(att: Attempt, fn: () => Promise<void>): void {
    this.ops = this.ops
      .then(() => (att === this.att && this.st !== 'exited' ? fn() : undefined))
      .catch((e: unknown) => {
        if (att !== this.att) return;
        this.restart(`data channel setup failed: ${(e as Error).message}`, { error: ClientErrorCode.PUSH });
      });
  }

  // ---- engine events ------------------------------------------------------------------------------

  private onEngineEvent(e: EngineEvent): void {
    const att = this.att;
    if (att === undefined) return;
    if (e.type === 'peerDeleted') {
      if (e.reason === 'expired') {
        if (this.p.pingRestart === 0 && this.p.pingExit > 0 && att.connected) {
          void this.fatal(
            new ClientError(
              ClientErrorCode.NO_REPLY,
              `Inactivity timeout (--ping-exit ${this.p.pingExit}), exiting`,
            ),
          );
          return;
        }
        this.restart('Inactivity timeout (--ping-restart), restarting', { error: ClientErrorCode.NO_REPLY });
      } else if (e.reason === 'transport_disconnect' || e.reason === 'transport_error') {
        this.restart(
          `connection ${e.reason === 'transport_disconnect' ? 'closed by the server' : 'failed'} (${att.conn.transport})`,
          {
            error: ClientErrorCode.NO_REPLY,
          },
        );
      }
    } else if (e.type === 'keyRenewalNeeded') {
      if (att.connected && !att.renegPending) this.tryRenegotiate(att);
    } else if (e.type === 'exitNotify') {
      this.restart('server sent OCC EXIT: it is shutting down', {});
    } else if (e.type === 'keySwapped') {
      this.log(4, `engine: key_id ${e.keyId} is primary`);
    }
  }

  // ---- restart, exit ------------------------------------------------------------------------------

  /** Ends the current attempt and schedules the next (backoff, next remote). */
  private restart(reason: string, o: { error?: ClientErrorCode; advance?: boolean; delayMs?: number }): void {
    if (this.st === 'exiting' || this.st === 'exited' || this.st === 'reconnecting') return;
    const att = this.att;
    const wasConnected = att?.connected === true;
    this.att = undefined;
    att?.session?.close();
    if (o.error !== undefined) {
      this.lastError = new ClientError(o.error, reason);
      this.emit({ type: 'error', code: o.error, message: reason, fatal: false });
    }
    this.log(0, reason);
    this.failures = wasConnected ? 0 : this.failures + 1;
    const n = this.p.connections.length;
    if (this.p.connectRetryMax > 0 && this.failures >= this.p.connectRetryMax * n) {
      const last = this.lastError?.message ?? reason;
      void this.fatal(
        new ClientError(
          ClientErrorCode.RETRIES_EXHAUSTED,
          `giving up after ${this.failures} failed attempt(s) (connect-retry-max ${this.p.connectRetryMax}): ${last}`,
        ),
      );
      return;
    }
    if (o.advance ?? !wasConnected) this.connIndex = (this.connIndex + 1) % n;
    this.setState('reconnecting', reason);
    const delay = o.delayMs ?? this.backoffMs(wasConnected);
    this.ops = this.ops
      .then(() => this.teardown())
      .then(() => {
        if (this.st !== 'reconnecting') return;
        this.log(1, `Restart pause, ${Math.round(delay / 100) / 10} second(s)`);
        this.retryTimer = this.clock.setTimeout(() => void this.connect(), delay);
      });
  }

  /** connect-retry n [max]: n between attempts; after 5 failures per remote, doubling up to max. */
  private backoffMs(wasConnected: boolean): number {
    const conn = this.p.connections[this.connIndex] as Connection;
    const { initial, max } = conn.connectRetry;
    if (wasConnected) return initial * 1000;
    const over = this.failures - 5 * this.p.connections.length;
    const s = over > 0 ? Math.min(initial * 2 ** Math.min(over, 16), max) : initial;
    return s * 1000;
  }

  /** delPeer (closes the socket, frees keys) and removes the TUN settings. Never throws. */
  private async teardown(): Promise<void> {
    try {
      await this.o.api.call('delPeer', {});
    } catch (e) {
      this.log(4, `delPeer: ${(e as Error).message}`);
    }
    try {
      await this.o.net?.clear();
    } catch (e) {
      this.log(1, `WARNING: removing TUN settings failed: ${(e as Error).message}`);
    }
  }

  private async exitNotify(att: Attempt, seconds: number): Promise<void> {
    if (att.ccExit && att.session !== undefined) {
      this.log(1, 'SIGTERM: sending EXIT to the server (explicit-exit-notify, cc-exit)');
      att.session.sendControlMessage('EXIT');
      await sleep(this.clock, Math.min(1000, seconds * 1000));
      return;
    }
    if (this.o.occExit === undefined) return;
    this.log(1, `SIGTERM: sending OCC EXIT to the server for ${seconds} s (explicit-exit-notify)`);
    for (let i = 0; i < seconds; i++) {
      this.o.occExit();
      await sleep(this.clock, 1000);
    }
  }

  private async fatal(err: ClientError): Promise<void> {
    if (this.st === 'exiting' || this.st === 'exited') return;
    this.lastError = err;
    this.emit({ type: 'error', code: err.clientCode, message: err.message, fatal: true });
    this.log(0, `FATAL: ${err.message}`);
    this.setState('exiting', err.message);
    await this.finish(1, err);
  }

  private async finish(code: number, err: ClientError | undefined): Promise<void> {
    if (this.tickTimer !== undefined) this.clock.clear(this.tickTimer);
    if (this.retryTimer !== undefined) this.clock.clear(this.retryTimer);
    const att = this.att;
    this.att = undefined;
    att?.session?.close();
    await this.ops.catch(() => undefined);
    await this.teardown();
    for (const u of this.unsubscribe.splice(0)) u();
    this.setState('exited', err?.message ?? 'stopped');
    this.emit({ type: 'exited', code, error: err });
    this.resolveDone(code);
  }

  // ---- plumbing -----------------------------------------------------------------------------------

  private setState(state: ClientState, reason: string | undefined): void {
    if (state === this.st) return;
    const previous = this.st;
    this.st = state;
    this.log(2, `state ${previous} -> ${state}${reason !== undefined ? ` (${reason})` : ''}`);
    this.emit({ type: 'state', state, previous, reason });
  }

  private emit(e: ClientEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Level 0 = errors (always shown), 1 = normal, 2-3 = details, 4+ = debug (openvpn's verb). */
  private log(level: number, text: string): void {
    if (level > this.p.verb) return;
    (this.o.log ?? ((l: string) => process.stderr.write(l + '\n')))(text);
  }

  /** The last non-fatal or fatal error seen (for a summary on exit). */
  get lastFailure(): ClientError | undefined {
    return this.lastError;
  }
}

async function defaultResolve(host: string, family: AddressFamily): Promise<string> {
  if (isIP(host) !== 0) return host;
  const r = await lookup(host, { family: family === 'inet' ? 4 : family === 'inet6' ? 6 : 0 });
  return r.address;
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((r) => clock.setTimeout(r, ms));
}

/** auth-token values never reach the log. */
function redactPush(options: readonly string[]): string[] {
  return options.map((o) =>
    /^\s*auth-token\b/.test(o) ? o.replace(/^(\s*auth-token\S*\s+).*/, '$1[redacted]') : o,
  );
}

/**
 * TCP MSS clamp for `mssfix` (openvpn 2.6 semantics): the encapsulated packet, data-channel
 * overhead included (24 bytes for AEAD with DATA_V2), must fit `size`; with `mtu` the IP/UDP
 * header counts too. MSS = that budget minus 40 bytes of inner IPv4+TCP headers.
 */
export function mssFor(conn: Connection, remote: SockAddr): number {
  const m = conn.mssfix;
  if (m.size === 0) return 0;
  const outer = m.mtu ? (isIPv6(remote.address) ? 40 : 20) + (conn.transport === 'udp' ? 8 : 20) : 0;
  const overhead = m.fixed ? 0 : 24;
  return Math.max(0, m.size - outer - overhead - 40);
}
