// Typed client for the control socket (what `ovpn-ts stats` and other processes use).
//
//   const c = await ControlClient.connect('/run/ovpn-ts.sock');
//   const stats = await c.call('getStats', {});
//   await c.call('newKey', { cipher: 'AES-256-GCM', keyId: 0, slot: 'primary', encrypt: {...}, decrypt: {...} });
//
// Arguments are validated locally first (same messages as the server, minus mode rules, which
// only the server knows), then sent with bytes as hex/base64. Replies are matched by id.
// Received control packets wait in a bounded queue for readControl() (oldest dropped when full).

import net from 'node:net';
import {
  argsToJson,
  isCommandName,
  validateArgs,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type ControlEvent,
  type ControlPacket,
} from './schema.js';
import {
  LineSplitter,
  MAX_LINE_BYTES,
  SUBSCRIBE,
  decodeControl,
  errorFromWire,
  type WireReply,
} from './wire.js';
import { ControlApiError, ErrorCode } from '../util/errors.js';

const MAX_PENDING = 64;
const CONTROL_QUEUE_MAX = 64;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class ControlClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly eventListeners = new Set<(e: ControlEvent) => void>();
  private readonly controlListeners = new Set<(p: ControlPacket) => void>();
  private readonly controlQueue: ControlPacket[] = [];
  private controlWaiters: Pending[] = [];
  private closed = false;
  /** Control packets discarded because nobody read them in time. */
  controlDropped = 0;

  private constructor(private readonly socket: net.Socket) {
    const splitter = new LineSplitter(
      MAX_LINE_BYTES * 4,
      (line) => this.onLine(line),
      () => undefined,
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
  }

  static connect(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path);
      s.once('error', (e: Error) =>
        reject(
          new ControlApiError(
            ErrorCode.NOT_CONNECTED,
            `control socket ${path}: ${e.message}; is the engine running?`,
          ),
        ),
      );
      s.once('connect', () => {
        s.removeAllListeners('error');
        resolve(new ControlClient(s));
      });
    });
  }

  /** Run one command; rejects with ControlApiError (stable code) on failure. */
  call<C extends CommandName>(
    cmd: C,
    args: CommandArgs<C> | Record<string, never>,
  ): Promise<CommandResult<C>> {
    if (!isCommandName(cmd)) {
      return Promise.reject(
        new ControlApiError(ErrorCode.UNKNOWN_COMMAND, `unknown command "${String(cmd)}"`, 'cmd'),
      );
    }
    try {
      // Mode-dependent rules are the server's (it knows the mode): validate with the mode under
      // which the arguments make sense, so only genuine field errors fail here.
      validateArgs(cmd, args, cmd === 'writeControl' && 'remote' in args ? 'mp' : 'p2p');
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.request(cmd, argsToJson(cmd, args)) as Promise<CommandResult<C>>;
  }

  /** Choose which pushes this connection receives. */
  async subscribe(opts: { events?: boolean; control?: boolean }): Promise<void> {
    await this.request(SUBSCRIBE, opts);
  }

  onEvent(listener: (e: ControlEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onControlPacket(listener: (p: ControlPacket) => void): () => void {
    this.controlListeners.add(listener);
    return () => this.controlListeners.delete(listener);
  }

  /** The next received control packet (needs subscribe({control: true})). */
  readControl(): Promise<ControlPacket> {
    const queued = this.controlQueue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(notConnected());
    return new Promise((resolve, reject) =>
      this.controlWaiters.push({ resolve: (v) => resolve(v as ControlPacket), reject }),
    );
  }

  /** Send one raw control packet (MP: with the peer's address). */
  writeControl(data: Uint8Array, remote?: { address: string; port: number }): Promise<void> {
    return this.call('writeControl', remote ? { data, remote } : { data });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => {
      this.socket.once('close', () => r());
      this.socket.end();
    });
  }

  private request(cmd: string, args: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(notConnected());
    if (this.pending.size >= MAX_PENDING) {
      return Promise.reject(
        new ControlApiError(ErrorCode.BUSY, `more than ${MAX_PENDING} requests in flight`),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // the server only sends JSON; ignore anything else
    }
    if ('event' in msg) {
      for (const l of this.eventListeners) l(msg.event as ControlEvent);
    } else if ('control' in msg) {
      const p = decodeControl(msg.control);
      if (p) this.deliverControl(p);
    } else if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      const r = msg as WireReply;
      if (r.ok) p.resolve(r.result);
      else p.reject(errorFromWire(r.error));
    }
  }

  private deliverControl(p: ControlPacket): void {
    for (const l of this.controlListeners) l(p);
    const waiter = this.controlWaiters.shift();
    if (waiter) return waiter.resolve(p);
    if (this.controlQueue.length >= CONTROL_QUEUE_MAX) {
      this.controlQueue.shift();
      this.controlDropped++;
    }
    this.controlQueue.push(p);
  }

  private onClose(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(notConnected());
    this.pending.clear();
    for (const w of this.controlWaiters.splice(0)) w.reject(notConnected());
  }
}

function notConnected(): ControlApiError {
  return new ControlApiError(ErrorCode.NOT_CONNECTED, 'control connection closed');
}
