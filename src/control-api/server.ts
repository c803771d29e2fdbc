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
  /** Further connections are closed at once (default 16). */
  maxClients?: number;
  /** A client's unsent output above this is considered stuck: pushes are dropped (default 1 MiB). */
  maxOutBytes?: number;
}

class Client {
  events = false;
  control = false;
  pending = 0;
  dropped = 0;
  constructor(readonly socket: net.Socket) {}
}

export class ControlServer {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;

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
    let n = 0;
    for (const c of this.clients) n += c.dropped;
    return n;
  }

  private accept(socket: net.Socket): void {
    if (this.closed || this.clients.size >= this.opts.maxClients) {
      socket.destroy();
      return;
    }
    const client = new Client(socket);
    this.clients.add(client);
    const tooLong = new ControlApiError(
      ErrorCode.LINE_TOO_LONG,
      `request line longer than ${this.opts.maxLineBytes} bytes; the line was skipped`,
    );
    const splitter = new LineSplitter(
      this.opts.maxLineBytes,
      (line) => this.onLine(client, line),
      () => this.write(client, replyError(null, tooLong)),
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => undefined); // the 'close' that follows does the cleanup
    socket.on('close', () => this.clients.delete(client));
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
      if (!wants(c)) continue;
      if (c.socket.writableLength > this.opts.maxOutBytes) c.dropped++;
      else this.write(c, line);
    }
  }

  private write(c: Client, line: string): void {
    if (!c.socket.destroyed) c.socket.write(line);
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
  const server = net.createServer();
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
    maxClients: opts.maxClients ?? 16,
    maxOutBytes: opts.maxOutBytes ?? 1024 * 1024,
  });
}
