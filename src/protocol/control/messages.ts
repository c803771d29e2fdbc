// Control messages carried in TLS after key-method-2 (openvpn-protocol.md §C1, §E).
//
// Wire form: ASCII text + NUL; several may share a TLS record. Receivers split on NUL, strip
// trailing CR/LF and reject any message with a non-printable byte (OpenVPN's CC_PRINT check).
// Parsing maps text to a typed union and never throws: unknown text becomes { type: 'unknown' }.
import { ConfigError } from '../../util/errors.js';
import { CONTROL_TEXT_MAX } from './constants.js';

export type AuthFailedAdvance = 'addr' | 'remote' | 'no';

export type ControlMessage =
  | { type: 'push-request' }
  /** continuation: 0 = not split, 2 = more parts follow, 1 = last part. */
  | { type: 'push-reply'; options: string[]; continuation: 0 | 1 | 2 }
  | {
      type: 'auth-failed';
      /** Text after `AUTH_FAILED,` ('' when bare). */
      reason: string;
      kind: 'plain' | 'temp' | 'session' | 'crv1';
      /** TEMP only. */
      backoffSec: number | undefined;
      advance: AuthFailedAdvance | undefined;
      /** Message for the user (TEMP/SESSION/CRV1: the part after ':'). */
      message: string;
    }
  | { type: 'auth-pending'; timeoutSec: number | undefined; keywords: string[] }
  | { type: 'info-pre'; text: string }
  | { type: 'info'; text: string }
  | { type: 'restart'; keepPassword: boolean; nextRemote: boolean; message: string }
  | { type: 'halt'; message: string }
  | { type: 'exit' }
  | { type: 'cr-response'; response: string }
  | { type: 'unknown'; text: string };

/** `prefix` exactly, or `prefix,` + rest. Returns the rest ('' for bare) or undefined. */
function after(text: string, prefix: string): string | undefined {
  if (text === prefix) return '';
  if (text.startsWith(prefix + ',')) return text.slice(prefix.length + 1);
  return undefined;
}

export function parseControlMessage(text: string): ControlMessage {
  if (text === 'PUSH_REQUEST') return { type: 'push-request' };
  if (text === 'EXIT') return { type: 'exit' };
  let rest: string | undefined;
  if ((rest = after(text, 'PUSH_REPLY')) !== undefined) return parsePushReply(rest);
  if ((rest = after(text, 'AUTH_FAILED')) !== undefined) return parseAuthFailed(rest);
  if ((rest = after(text, 'AUTH_PENDING')) !== undefined) return parseAuthPending(rest);
  if ((rest = after(text, 'INFO_PRE')) !== undefined) return { type: 'info-pre', text: rest };
  if ((rest = after(text, 'INFO')) !== undefined) return { type: 'info', text: rest };
  if ((rest = after(text, 'RESTART')) !== undefined) return parseRestart(rest);
  if ((rest = after(text, 'HALT')) !== undefined) return { type: 'halt', message: rest };
  if ((rest = after(text, 'CR_RESPONSE')) !== undefined) return { type: 'cr-response', response: rest };
  return { type: 'unknown', text };
}

function parsePushReply(rest: string): ControlMessage {
  const options: string[] = [];
  let continuation: 0 | 1 | 2 = 0;
  for (const raw of rest.split(',')) {
    const opt = raw.trim();
    if (opt === '') continue;
    const m = /^push-continuation\s+(\d+)$/.exec(opt);
    if (m !== null) {
      continuation = m[1] === '2' ? 2 : 1;
      continue;
    }
    options.push(opt);
  }
  return { type: 'push-reply', options, continuation };
}

function parseAuthFailed(reason: string): ControlMessage {
  const base = { type: 'auth-failed' as const, reason, backoffSec: undefined, advance: undefined };
  if (reason.startsWith('TEMP')) {
    let body = reason.slice(4);
    let backoffSec: number | undefined;
    let advance: AuthFailedAdvance | undefined;
    if (body.startsWith('[')) {
      const close = body.indexOf(']');
      const flags = close < 0 ? body.slice(1) : body.slice(1, close);
      body = close < 0 ? '' : body.slice(close + 1);
      for (const f of flags.split(',').map((s) => s.trim())) {
        const b = /^backoff\s+(\d{1,9})$/.exec(f);
        if (b !== null) backoffSec = Number(b[1]);
        const a = /^advance\s+(addr|remote|no)$/.exec(f);
        if (a !== null) advance = a[1] as AuthFailedAdvance;
      }
    }
    const message = body.startsWith(':') ? body.slice(1) : body;
    return { ...base, kind: 'temp', backoffSec, advance, message };
  }
  if (reason.startsWith('SESSION:')) return { ...base, kind: 'session', message: reason.slice(8) };
  if (reason.startsWith('CRV1:')) return { ...base, kind: 'crv1', message: reason.slice(5) };
  return { ...base, kind: 'plain', message: reason };
}

function parseAuthPending(rest: string): ControlMessage {
  const keywords = rest === '' ? [] : rest.split(',').map((s) => s.trim());
  let timeoutSec: number | undefined;
  for (const k of keywords) {
    const m = /^timeout\s+(\d{1,9})$/.exec(k);
    if (m !== null) timeoutSec = Number(m[1]);
  }
  return { type: 'auth-pending', timeoutSec, keywords };
}

function parseRestart(rest: string): ControlMessage {
  let keepPassword = false;
  let nextRemote = false;
  let message = rest;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    const flags = close < 0 ? rest.slice(1) : rest.slice(1, close);
    keepPassword = flags.includes('P');
    nextRemote = flags.includes('N');
    message = close < 0 ? '' : rest.slice(close + 1);
  }
  return { type: 'restart', keepPassword, nextRemote, message };
}

/** True when every byte is printable ASCII (0x20..0x7E). */
function printable(b: Buffer): boolean {
  for (const c of b) if (c < 0x20 || c > 0x7e) return false;
  return true;
}

/** Text + NUL, ready to be written into TLS. Throws ConfigError on text a peer would reject. */
export function encodeControlMessage(text: string): Buffer {
  const b = Buffer.from(text, 'latin1');
  if (
    b.length === 0 ||
    !printable(b) ||
    Buffer.from(b.toString('latin1'), 'latin1').toString('latin1') !== text
  ) {
    throw new ConfigError('controlMessage', 'control messages must be non-empty printable ASCII');
  }
  return Buffer.concat([b, Buffer.from([0])]);
}

/**
 * Splits the TLS plaintext stream into messages. Text without a NUL is kept for the next chunk
 * (bounded by CONTROL_TEXT_MAX; beyond that it is discarded and counted as rejected).
 */
export class ControlTextSplitter {
  private pending: Buffer = Buffer.alloc(0);
  rejected = 0;

  push(chunk: Buffer): string[] {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: string[] = [];
    let start = 0;
    for (let nul = data.indexOf(0, start); nul >= 0; nul = data.indexOf(0, start)) {
      let end = nul;
      while (end > start && (data[end - 1] === 0x0a || data[end - 1] === 0x0d)) end--;
      const msg = data.subarray(start, end);
      if (msg.length > 0 && printable(msg)) out.push(msg.toString('latin1'));
      else if (msg.length > 0) this.rejected++;
      start = nul + 1;
    }
    this.pending = Buffer.from(data.subarray(start));
    if (this.pending.length > CONTROL_TEXT_MAX) {
      this.pending = Buffer.alloc(0);
      this.rejected++;
    }
    return out;
  }
}

/**
 * Server side: packs options into PUSH_REPLY messages of at most `maxBytes` (PUSH_BUNDLE_SIZE
 * 1024), adding `push-continuation 2` to all but the last and `push-continuation 1` to the last
 * when more than one message is needed.
 */
export function buildPushReplyParts(options: readonly string[], maxBytes = 1024): string[] {
  const reserve = ',push-continuation 2'.length;
  const parts: string[][] = [[]];
  let size = 'PUSH_REPLY'.length;
  for (const opt of options) {
    if (opt.includes(',') || !printable(Buffer.from(opt, 'latin1'))) {
      throw new ConfigError('push', `pushed option "${opt}" must be printable ASCII without commas`);
    }
    if ('PUSH_REPLY'.length + 1 + opt.length + reserve > maxBytes) {
      throw new ConfigError(
        'push',
        `pushed option "${opt.slice(0, 40)}..." does not fit in ${maxBytes} bytes`,
      );
    }
    if (size + 1 + opt.length + reserve > maxBytes) {
      parts.push([]);
      size = 'PUSH_REPLY'.length;
    }
    (parts[parts.length - 1] as string[]).push(opt);
    size += 1 + opt.length;
  }
  if (parts.length === 1) return [['PUSH_REPLY', ...(parts[0] as string[])].join(',')];
  return parts.map((p, i) =>
    ['PUSH_REPLY', ...p, `push-continuation ${i === parts.length - 1 ? 1 : 2}`].join(','),
  );
}
