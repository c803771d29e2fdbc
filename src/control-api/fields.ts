// Field descriptors for the control-API schema: each one yields a TypeScript type (ValueOf), a
// validator (validateField) and a help line (describeField). schema.ts lists the commands with them.

import { isIP } from 'node:net';
import type { SockAddr } from '../transport/addr.js';
import type { Transport } from '../transport/types.js';
import { ControlApiError, ErrorCode } from '../util/errors.js';

interface Base {
  help: string;
  optional?: boolean;
}
export interface IntField extends Base {
  kind: 'int';
  min: number;
  max: number;
}
export interface BoolField extends Base {
  kind: 'bool';
}
export interface EnumField<V extends string = string> extends Base {
  kind: 'enum';
  values: readonly V[];
}
/** Binary data: a Uint8Array from library callers, hex or base64 text in JSON. */
export interface BytesField extends Base {
  kind: 'bytes';
  encoding: 'hex' | 'base64';
  minLen: number;
  maxLen: number;
}
/** An IP literal; family 0 accepts both. */
export interface IpField extends Base {
  kind: 'ip';
  family: 0 | 4 | 6;
}
/** { address: IP literal, port: 0..65535 } */
export interface SockAddrField extends Base {
  kind: 'sockaddr';
}
export interface ObjectField<F extends Fields = Fields> extends Base {
  kind: 'object';
  fields: F;
}
/** A live Transport object: only library callers can pass one (never over the socket). */
export interface TransportField extends Base {
  kind: 'transport';
}

export type Field =
  IntField | BoolField | EnumField | BytesField | IpField | SockAddrField | ObjectField | TransportField;
export type Fields = Record<string, Field>;

export type ValueOf<F> = F extends IntField
  ? number
  : F extends BoolField
    ? boolean
    : F extends EnumField<infer V>
      ? V
      : F extends BytesField
        ? Uint8Array
        : F extends IpField
          ? string
          : F extends SockAddrField
            ? SockAddr
            : F extends ObjectField<infer O>
              ? ArgsOf<O>
              : F extends TransportField
                ? Transport
                : never;

type Simplify<T> = { [K in keyof T]: T[K] };
/** The validated argument object described by `F` (optional fields become `?:`). */
export type ArgsOf<F extends Fields> = Simplify<
  { [K in keyof F as F[K] extends { optional: true } ? never : K]: ValueOf<F[K]> } & {
    [K in keyof F as F[K] extends { optional: true } ? K : never]?: ValueOf<F[K]>;
  }
>;

// ---- constructors (they keep literal types so ArgsOf can see enum values and optionality) ----

export const int = (min: number, max: number, help: string): IntField => ({ kind: 'int', min, max, help });
export const bool = (help: string): BoolField => ({ kind: 'bool', help });
export const oneOf = <const V extends string>(values: readonly V[], help: string): EnumField<V> => ({
  kind: 'enum',
  values,
  help,
});
export const bytes = (
  encoding: 'hex' | 'base64',
  minLen: number,
  maxLen: number,
  help: string,
): BytesField => ({
  kind: 'bytes',
  encoding,
  minLen,
  maxLen,
  help,
});
export const ip = (family: 0 | 4 | 6, help: string): IpField => ({ kind: 'ip', family, help });
export const sockaddr = (help: string): SockAddrField => ({ kind: 'sockaddr', help });
export const object = <const F extends Fields>(fields: F, help: string): ObjectField<F> => ({
  kind: 'object',
  fields,
  help,
});
export const transport = (help: string): TransportField => ({ kind: 'transport', help });
export const optional = <F extends Field>(f: F): F & { optional: true } => ({ ...f, optional: true });

// ---- validation ----

export function invalid(field: string, message: string): ControlApiError {
  return new ControlApiError(ErrorCode.INVALID_FIELD, `${field}: ${message}`, field);
}

const show = (v: unknown): string => {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? typeof v : s.length > 40 ? `${s.slice(0, 40)}...` : s;
  } catch {
    return typeof v;
  }
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Validate an object of fields at dotted path `path`; unknown keys are rejected (typo guard). */
export function validateFields<F extends Fields>(fields: F, raw: unknown, path: string): ArgsOf<F> {
  const src = raw === undefined || raw === null ? {} : raw;
  if (!isPlainObject(src)) throw invalid(path, `expected an object, got ${show(raw)}`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(src)) {
    if (!(key in fields)) {
      const known = Object.keys(fields);
      const hint = known.length ? `expected one of ${known.join(', ')}` : 'this command takes no arguments';
      throw invalid(`${path}.${key}`, `unknown field; ${hint}`);
    }
  }
  for (const [key, spec] of Object.entries(fields)) {
    const v = src[key];
    if (v === undefined) {
      if (spec.optional) continue;
      throw invalid(`${path}.${key}`, `required; ${describeType(spec)}`);
    }
    out[key] = validateField(spec, v, `${path}.${key}`);
  }
  return out as ArgsOf<F>;
}

export function validateField(spec: Field, v: unknown, path: string): unknown {
  switch (spec.kind) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < spec.min || v > spec.max) {
        throw invalid(path, `expected an integer ${spec.min}..${spec.max}, got ${show(v)}`);
      }
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw invalid(path, `expected true or false, got ${show(v)}`);
      return v;
    case 'enum':
      if (typeof v !== 'string' || !spec.values.includes(v)) {
        throw invalid(path, `expected one of ${spec.values.join(', ')}, got ${show(v)}`);
      }
      return v;
    case 'bytes':
      return validateBytes(spec, v, path);
    case 'ip':
      return validateIp(spec.family, v, path);
    case 'sockaddr':
      return validateSockAddr(v, path);
    case 'object':
      return validateFields(spec.fields, v, path);
    case 'transport':
      if (!isPlainTransport(v)) {
        throw invalid(path, `expected a Transport object (library callers only), got ${show(v)}`);
      }
      return v;
  }
}

function isPlainTransport(v: unknown): v is Transport {
  const t = v as Partial<Transport> | null;
  return (
    typeof t === 'object' && t !== null && typeof t.send === 'function' && typeof t.onReceive === 'function'
  );
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function validateBytes(spec: BytesField, v: unknown, path: string): Uint8Array {
  let b: Uint8Array;
  if (v instanceof Uint8Array) b = v;
  else if (typeof v === 'string' && spec.encoding === 'hex' && HEX_RE.test(v)) b = Buffer.from(v, 'hex');
  else if (typeof v === 'string' && spec.encoding === 'base64' && B64_RE.test(v) && v.length % 4 === 0) {
    b = Buffer.from(v, 'base64');
  } else throw invalid(path, `expected ${describeType(spec)}, got ${show(v)}`);
  if (b.length < spec.minLen || b.length > spec.maxLen) {
    throw invalid(path, `expected ${lenText(spec)}, got ${b.length} bytes`);
  }
  return new Uint8Array(b); // a private copy: callers may reuse their buffer afterwards
}

function validateIp(family: 0 | 4 | 6, v: unknown, path: string): string {
  const f = typeof v === 'string' ? isIP(v) : 0;
  if (f === 0 || (family !== 0 && f !== family)) {
    throw invalid(
      path,
      `expected ${family === 0 ? 'an IPv4 or IPv6' : `an IPv${family}`} address, got ${show(v)}`,
    );
  }
  return v as string;
}

function validateSockAddr(v: unknown, path: string): SockAddr {
  if (!isPlainObject(v))
    throw invalid(path, `expected {"address": "<ip>", "port": 0..65535}, got ${show(v)}`);
  for (const k of Object.keys(v)) {
    if (k !== 'address' && k !== 'port')
      throw invalid(`${path}.${k}`, 'unknown field; expected address, port');
  }
  const address = validateIp(0, v.address, `${path}.address`);
  const port = v.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalid(`${path}.port`, `expected an integer 0..65535, got ${show(port)}`);
  }
  return { address, port };
}

// ---- help text ----

const lenText = (s: BytesField): string =>
  s.minLen === s.maxLen ? `exactly ${s.minLen} bytes` : `${s.minLen}..${s.maxLen} bytes`;

/** The accepted form of a field, e.g. "an integer 0..7" or "one of udp, tcp". */
export function describeType(spec: Field): string {
  switch (spec.kind) {
    case 'int':
      return `an integer ${spec.min}..${spec.max}`;
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'bytes':
      return `${lenText(spec)} as ${spec.encoding} text (or a Uint8Array)`;
    case 'ip':
      return spec.family === 0 ? 'an IPv4 or IPv6 address' : `an IPv${spec.family} address`;
    case 'sockaddr':
      return '{"address": "<ip>", "port": 0..65535}';
    case 'object':
      return `an object {${Object.keys(spec.fields).join(', ')}}`;
    case 'transport':
      return 'a Transport object (library callers only)';
  }
}

/** Help lines for a field tree, indented by depth. */
export function describeFields(fields: Fields, indent = '  '): string[] {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const opt = spec.optional ? ' (optional)' : '';
    lines.push(`${indent}${name}${opt}: ${describeType(spec)}. ${spec.help}`);
    if (spec.kind === 'object') lines.push(...describeFields(spec.fields, `${indent}  `));
  }
  return lines;
}

/** Convert validated values to their JSON wire form (bytes → hex/base64). */
export function fieldsToJson(fields: Fields, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(fields)) {
    const v = value[key];
    if (v === undefined) continue;
    if (spec.kind === 'bytes' && v instanceof Uint8Array) out[key] = Buffer.from(v).toString(spec.encoding);
    else if (spec.kind === 'object' && isPlainObject(v)) out[key] = fieldsToJson(spec.fields, v);
    else out[key] = v;
  }
  return out;
}
