// The control server: a Unix socket speaking JSON lines (wire.ts) in front of a ControlApi.
//
// Per connection:
//   1. bytes → LineSplitter (≤ 64 KiB per line; longer lines get OVPN_ERR_LINE_TOO_LONG)
//   2. line → JSON.parse → {id, cmd, args} (malformed → OVPN_ERR_BAD_REQUEST, connection kept)
//   3. cmd "subscribe" is handled here; anything else goes to ControlApi.execute (validation and
//      mode rules) and the target; the reply carries the same id. At most MAX_PENDING requests
//      per client run at once (more → OVPN_ERR_BUSY).
//   4. Events and received control packets are pushed to clients that subscribed to them. A
//      client whose socket is backed up beyond maxOutBytes misses pushes (counted in `dropped`).
//
// Bounds (what a hostile or stuck client can make the engine hold):
//   - input: one partial line (maxLineBytes) per connection; an over-long line is skipped, not
//     buffered.
//   - requests: MAX_PENDING in flight per connection.
//   - output (replies not yet read): above maxOutBytes/4 the socket is paused, i.e. we stop reading
//     its requests until the client reads (backpressure; the kernel buffer then fills and the
//     client's own writes block). A connection still paused after stallMs, or whose unsent output
//     passes maxOutBytes (one 64 KiB chunk of tiny requests can produce that much), or that would
//     take the total unsent output of all connections past maxTotalOutBytes, is destroyed.
//   - connections: maxClients. When full, a new connection evicts the longest-idle one (idle:
//     no request line received since), preferring connections without a subscription; so idle
//     connections can never lock others out (a subscriber that never sends anything can be evicted
//     only when maxClients connections are open at once).
//   Every drop is counted in `stats` by reason and reported through opts.log. On close everything
//   of the connection (splitter, timers, output) is released.
//
// A client that half-closes (shutdown(SHUT_WR), e.g. `printf ... | nc -U`) still gets the replies
// to what it sent; the server ends its side when they are written.
//
// The socket file is created with mode 0600 (umask held during bind, then chmod) and removed on
// close. A stale file from a dead server is replaced; a live one is refused.

import fs from 'node:fs';
import net from 'node:net';
import { ControlApi, type ControlTarget } from './target.js';
import {
  LineSplitter,
  MAX_LINE_BYTES,
  SUBSCRIBE,
  controlLine,
  eventLine,
  replyError,
  replyOk,
  type RequestId,
} from './wire.js';
import { validateFields, bool, optional } from './fields.js';
import { ControlApiError, ErrorCode, isOvpnError, type OvpnError } from '../util/errors.js';

const MAX_PENDING = 64;
const SUBSCRIBE_ARGS = {
  events: optional(bool('Receive {"event":...} pushes.')),
  control: optional(bool('Receive {"control":...} pushes (received control packets).')),
} as const;

export interface ControlServerOptions {
  /** Filesystem path of the Unix socket. */
  path: string;
  maxLineBytes?: number;
  /** Open connections; when full the longest-idle one is evicted for a new one (default 64). */
  maxClients?: number;
  /**
   * A client's unsent output: above a quarter of this its socket is paused (no more requests read);
   * above it pushes are dropped and a reply destroys the connection (default 1 MiB).
   */
  maxOutBytes?: number;
  /** Unsent output of all connections together; past it the writing connection is destroyed (default 8 MiB). */
  maxTotalOutBytes?: number;
  /** A connection paused this long because its replies are not read is destroyed (default 10 s). */
  stallMs?: number;
  /** One line per dropped connection, with the reason. */
  log?: (line: string) => void;
}

/** Why connections were closed by the server (counts since start). */
export interface ControlServerStats {
  /** Paused for stallMs without reading its replies. */
  stalled: number;
  /** Unsent output past maxOutBytes. */
  outputLimit: number;
  /** Total unsent output of all connections past maxTotalOutBytes. */
  totalOutputLimit: number;
  /** Evicted (longest idle) to make room for a new connection. */
  evictedIdle: number;
  /** Refused because the server was closing. */
  refused: number;
  /** Times a connection was paused because it did not read its replies. */
  paused: number;
}

type DropReason = Exclude<keyof ControlServerStats, 'paused'>;

class Client {
  events = false;
  control = false;
  pending = 0;
  dropped = 0;
  /** Last time a request line arrived (or the connection opened). */
  lastActive = Date.now();
  paused = false;
  /** The client half-closed: end our side once the pending replies are written. */
  ended = false;
  stallTimer: NodeJS.Timeout | null = null;
  constructor(readonly socket: net.Socket) {}
}

export class ControlServer {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;
  private dropsByServer = 0;
  readonly stats: ControlServerStats = {
    stalled: 0,
    outputLimit: 0,
    totalOutputLimit: 0,
    evictedIdle: 0,
    refused: 0,
    paused: 0,
  };

  constructor(
    readonly api: ControlApi,
    readonly path: string,
    private readonly server: net.Server,
    private readonly opts: Required<Omit<ControlServerOptions, 'path'>>,
  ) {
    server.on('connection', (s: net.Socket) => this.accept(s));
    this.unsubscribe.push(
      api.target.onEvent((e) => this.push((c) => c.events, eventLine(e))),
      api.target.onControlPacket((p) => this.push((c) => c.control, controlLine(p))),
    );
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Pushes dropped because a client was not reading. */
  get droppedPushes(): number {
    let n = this.dropsByServer;
    for (const c of this.clients) n += c.dropped;
    return n;
  }

  /** Bytes written to clients' sockets and not yet taken by the kernel, all connections. */
  get unsentBytes(): number {
    let n = 0;
    for (const c of this.clients) n += c.socket.writableLength;
    return n;
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      this.stats.refused++;
      socket.destroy();
      return;
    }
    if (this.clients.size >= this.opts.maxClients) this.evictIdlest();
    const client = new Client(socket);
    this.clients.add(client);
    const tooLong = new ControlApiError(
      ErrorCode.LINE_TOO_LONG,
      `request line longer than ${this.opts.maxLineBytes} bytes; the line was skipped`,
    );
    const splitter = new LineSplitter(
      this.opts.maxLineBytes,
      (line) => {
        client.lastActive = Date.now();
        if (!socket.destroyed) this.onLine(client, line);
      },
      () => this.write(client, replyError(null, tooLong)),
    );
    socket.on('data', (chunk: Buffer) => {
      splitter.push(chunk);
      this.backpressure(client);
    });
    socket.on('drain', () => this.resume(client));
    socket.on('end', () => {
      client.ended = true;
      this.endIfDone(client);
    });
    socket.on('error', () => undefined); // the 'close' that follows does the cleanup
    socket.on('close', () => {
      this.clients.delete(client);
      if (client.stallTimer) clearTimeout(client.stallTimer);
      client.stallTimer = null;
      this.dropsByServer += client.dropped;
      client.dropped = 0;
    });
  }

  /** Make room: destroy the longest-idle connection, one without a subscription if there is one. */
  private evictIdlest(): void {
    let victim: Client | null = null;
    for (const c of this.clients) {
      const better =
        victim === null ||
        (!hasSubscription(c) && hasSubscription(victim)) ||
        (hasSubscription(c) === hasSubscription(victim) && c.lastActive < victim.lastActive);
      if (better) victim = c;
    }
    if (victim) this.drop(victim, 'evictedIdle', `idle for ${Date.now() - victim.lastActive} ms`);
  }

  private drop(c: Client, reason: DropReason, detail: string): void {
    if (c.socket.destroyed) return;
    this.stats[reason]++;
    this.opts.log(`control socket: dropped a connection (${reason}: ${detail})`);
    c.socket.destroy();
  }

  /** After a chunk was read: stop reading while its replies are not being taken. */
  private backpressure(c: Client): void {
    if (c.paused || c.socket.destroyed) return;
    if (c.socket.writableLength <= this.opts.maxOutBytes / 4) return;
    c.paused = true;
    this.stats.paused++;
    c.socket.pause();
    c.stallTimer = setTimeout(() => {
      c.stallTimer = null;
      this.drop(c, 'stalled', `replies unread for ${this.opts.stallMs} ms`);
    }, this.opts.stallMs);
    c.stallTimer.unref();
  }

  private resume(c: Client): void {
    if (!c.paused || c.socket.destroyed) return;
    c.paused = false;
    if (c.stallTimer) clearTimeout(c.stallTimer);
    c.stallTimer = null;
    c.socket.resume();
  }

  private endIfDone(c: Client): void {
    if (c.ended && c.pending === 0 && !c.socket.destroyed) c.socket.end();
  }

  private onLine(client: Client, line: string): void {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch (e) {
      const why = e instanceof Error ? e.message : 'parse error';
      this.write(
        client,
        replyError(null, badRequest(`malformed JSON (${why}); send one JSON object per line`)),
      );
      return;
    }
    const r = req as { id?: unknown; cmd?: unknown; args?: unknown } | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      this.write(client, replyError(null, badRequest('expected a JSON object {"id", "cmd", "args"}')));
      return;
    }
    const id: RequestId = typeof r.id === 'number' || typeof r.id === 'string' ? r.id : null;
    if (typeof r.cmd !== 'string') {
      this.write(client, replyError(id, badRequest('missing "cmd": expected a command name string')));
    } else if (client.pending >= MAX_PENDING) {
      this.write(
        client,
        replyError(
          id,
          new ControlApiError(
            ErrorCode.BUSY,
            `more than ${MAX_PENDING} requests in flight; wait for replies`,
          ),
        ),
      );
    } else {
      void this.run(client, id, r.cmd, r.args);
    }
  }

  private async run(client: Client, id: RequestId, cmd: string, args: unknown): Promise<void> {
    client.pending++;
    try {
      const result = cmd === SUBSCRIBE ? this.subscribe(client, args) : await this.api.execute(cmd, args);
      this.write(client, replyOk(id, result));
    } catch (e) {
      const err: OvpnError = isOvpnError(e)
        ? e
        : new ControlApiError(ErrorCode.INTERNAL, `${cmd}: ${e instanceof Error ? e.message : String(e)}`);
      this.write(client, replyError(id, err));
    } finally {
      client.pending--;
      this.endIfDone(client);
    }
  }

  private subscribe(client: Client, raw: unknown): { events: boolean; control: boolean } {
    const a = validateFields(SUBSCRIBE_ARGS, raw, SUBSCRIBE);
    client.events = a.events ?? client.events;
    client.control = a.control ?? client.control;
    return { events: client.events, control: client.control };
  }

  private push(wants: (c: Client) => boolean, line: string): void {
    for (const c of this.clients) {
      if (!wants(c) || c.socket.destroyed) continue;
      if (c.socket.writableLength + line.length > this.opts.maxOutBytes) c.dropped++;
      else this.write(c, line);
    }
  }

  /** A reply: must reach the client, so a connection that cannot take it is dropped. */
  private write(c: Client, line: string): void {
    if (c.socket.destroyed || c.socket.writableEnded) return;
    if (c.socket.writableLength + line.length > this.opts.maxOutBytes) {
      this.drop(c, 'outputLimit', `more than ${this.opts.maxOutBytes} bytes of replies unread`);
      return;
    }
    if (this.unsentBytes + line.length > this.opts.maxTotalOutBytes) {
      this.drop(c, 'totalOutputLimit', `all connections hold more than ${this.opts.maxTotalOutBytes} bytes`);
      return;
    }
    c.socket.write(line);
  }

  /** Stop listening, disconnect clients, remove the socket file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    const done = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of this.clients) c.socket.destroy();
    await done;
    fs.rmSync(this.path, { force: true });
  }
}

function hasSubscription(c: Client): boolean {
  return c.events || c.control;
}

function badRequest(message: string): ControlApiError {
  return new ControlApiError(ErrorCode.BAD_REQUEST, message);
}

/** Remove a stale socket file left by a dead server; refuse if something is listening. */
async function clearStale(path: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new ControlApiError(
      ErrorCode.ADDRESS_IN_USE,
      `control socket ${path}: a non-socket file exists there; remove it or choose another path`,
      'path',
    );
  }
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) {
    throw new ControlApiError(
      ErrorCode.ADDRESS_IN_USE,
      `control socket ${path}: another server is listening; stop it or choose another path`,
      'path',
    );
  }
  fs.rmSync(path, { force: true });
}

/** Listen on a Unix socket (mode 0600) and serve `target` (or an existing ControlApi). */
export async function startControlServer(
  target: ControlTarget | ControlApi,
  opts: ControlServerOptions,
): Promise<ControlServer> {
  const api = target instanceof ControlApi ? target : new ControlApi(target);
  await clearStale(opts.path);
  // allowHalfOpen: a client that shuts down its sending side still gets its replies.
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: Error) =>
      reject(
        new ControlApiError(ErrorCode.ADDRESS_IN_USE, `control socket ${opts.path}: ${e.message}`, 'path'),
      ),
    );
    // The bind happens synchronously inside listen(); the umask makes the file 0600 from birth.
    const old = process.umask(0o177);
    try {
      server.listen(opts.path, () => resolve());
    } finally {
      process.umask(old);
    }
  });
  fs.chmodSync(opts.path, 0o600);
  return new ControlServer(api, opts.path, server, {
    maxLineBytes: opts.maxLineBytes ?? MAX_LINE_BYTES,
    maxClients: opts.maxClients ?? 64,
    maxOutBytes: opts.maxOutBytes ?? 1024 * 1024,
    maxTotalOutBytes: opts.maxTotalOutBytes ?? 8 * 1024 * 1024,
    stallMs: opts.stallMs ?? 10_000,
    log: opts.log ?? (() => undefined),
  });
}
