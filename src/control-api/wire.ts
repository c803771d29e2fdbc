// JSON-lines wire format of the control socket. One JSON object per line, UTF-8, '\n'-terminated.
//
//   client → server   {"id":1,"cmd":"getStats","args":{}}
//                     {"id":2,"cmd":"subscribe","args":{"events":true,"control":true}}
//   server → client   {"id":1,"ok":true,"result":{...}}
//                     {"id":1,"ok":false,"error":{"code":"OVPN_ERR_...","message":"...","field":"..."}}
//                     {"event":{"type":"float","peerId":3,"address":{"address":"…","port":1194}}}
//                     {"control":{"data":"<base64>","remote":{...}}}
//
// Binary fields: keys as hex, control packets as base64. `id` is echoed (number or string; null
// when the request could not be parsed). Lines longer than MAX_LINE_BYTES are rejected.

import type { ControlEvent, ControlPacket } from './schema.js';
import type { SockAddr } from '../transport/addr.js';
import { ALL_ERROR_CODES, ControlApiError, ErrorCode, type OvpnError } from '../util/errors.js';

export const MAX_LINE_BYTES = 64 * 1024;
/** Server-level command (not part of the engine schema): choose which pushes this client gets. */
export const SUBSCRIBE = 'subscribe';

export type RequestId = number | string | null;

export interface WireError {
  code: string;
  message: string;
  field?: string;
}

export type WireReply =
  { id: RequestId; ok: true; result: unknown } | { id: RequestId; ok: false; error: WireError };

export function replyOk(id: RequestId, result: unknown): string {
  return `${JSON.stringify({ id, ok: true, result: result ?? null })}\n`;
}

export function replyError(id: RequestId, err: OvpnError): string {
  const error: WireError = { code: err.code, message: err.message };
  if (err instanceof ControlApiError && err.field) error.field = err.field;
  return `${JSON.stringify({ id, ok: false, error })}\n`;
}

export function eventLine(e: ControlEvent): string {
  return `${JSON.stringify({ event: e })}\n`;
}

export function controlLine(p: ControlPacket): string {
  const control: { data: string; remote?: SockAddr } = { data: Buffer.from(p.data).toString('base64') };
  if (p.remote) control.remote = p.remote;
  return `${JSON.stringify({ control })}\n`;
}

export function decodeControl(raw: unknown): ControlPacket | null {
  const c = raw as { data?: unknown; remote?: SockAddr } | null;
  if (typeof c !== 'object' || c === null || typeof c.data !== 'string') return null;
  const p: ControlPacket = { data: new Uint8Array(Buffer.from(c.data, 'base64')) };
  if (c.remote) p.remote = c.remote;
  return p;
}

/** Rebuild a typed error from a reply (unknown codes become OVPN_ERR_INTERNAL). */
export function errorFromWire(e: WireError | undefined): ControlApiError {
  const code = e && ALL_ERROR_CODES.has(e.code) ? (e.code as ErrorCode) : ErrorCode.INTERNAL;
  return new ControlApiError(code, e?.message ?? 'malformed error reply', e?.field ?? '');
}

/**
 * Splits a byte stream into lines with a length bound. Chunks are kept as a list and joined once
 * per line (never re-concatenated per chunk). An over-long line is reported once and skipped up
 * to its newline, so one bad line does not kill the connection.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, nl), true);
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start), false);
  }

  private take(piece: Buffer, complete: boolean): void {
    if (!this.skipping) {
      this.size += piece.length;
      if (this.size > this.maxLine) {
        this.parts = [];
        this.size = 0;
        this.skipping = true;
        this.onTooLong();
      } else {
        this.parts.push(piece);
      }
    }
    if (!complete) return;
    if (!this.skipping) {
      const line = Buffer.concat(this.parts, this.size).toString('utf8').trim();
      if (line.length > 0) this.onLine(line);
    }
    this.parts = [];
    this.size = 0;
    this.skipping = false;
  }
}
