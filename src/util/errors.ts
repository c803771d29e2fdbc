// Typed errors for API and configuration misuse (style practice 8).
//
// Bad network input never becomes an exception: it is dropped and counted. Everything a *caller*
// can get wrong (control-API arguments, options, mode rules) is reported with a subclass of
// `OvpnError` carrying a stable `code`. Codes are part of the public contract: they travel over the
// control socket as strings and user code switches on them, so never rename one.
//
// `instanceof` breaks when two copies of the package are loaded; `isOvpnError` checks a
// `Symbol.for` brand instead, which is shared across copies (the undici approach).

const BRAND: unique symbol = Symbol.for('ovpn-ts.error') as never;

/** Every stable error code. Grouped by layer; append only. */
export const ErrorCode = {
  // control API
  INVALID_FIELD: 'OVPN_ERR_INVALID_FIELD',
  BAD_MODE: 'OVPN_ERR_BAD_MODE',
  NO_PEER: 'OVPN_ERR_NO_PEER',
  ALREADY_INITIALIZED: 'OVPN_ERR_ALREADY_INITIALIZED',
  UNKNOWN_COMMAND: 'OVPN_ERR_UNKNOWN_COMMAND',
  BAD_REQUEST: 'OVPN_ERR_BAD_REQUEST',
  LINE_TOO_LONG: 'OVPN_ERR_LINE_TOO_LONG',
  BUSY: 'OVPN_ERR_BUSY',
  NOT_CONNECTED: 'OVPN_ERR_NOT_CONNECTED',
  ADDRESS_IN_USE: 'OVPN_ERR_ADDRESS_IN_USE',
  INTERNAL: 'OVPN_ERR_INTERNAL',
  // configuration / options
  INVALID_OPTION: 'OVPN_ERR_INVALID_OPTION',
  CONFIG: 'OVPN_ERR_CONFIG',
  // transports
  TRANSPORT_DISCONNECT: 'OVPN_ERR_TRANSPORT_DISCONNECT',
  TRANSPORT_FRAMING: 'OVPN_ERR_TRANSPORT_FRAMING',
  TRANSPORT_IO: 'OVPN_ERR_TRANSPORT_IO',
  TRANSPORT_CLOSED: 'OVPN_ERR_TRANSPORT_CLOSED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Root of the error tree. `code` is stable; `message` names the bad field and the fix. */
export class OvpnError extends Error {
  readonly code: ErrorCode;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'OvpnError';
  }
}

/** Control-API misuse: bad arguments, wrong mode, unknown peer or command, protocol violations. */
export class ControlApiError extends OvpnError {
  /** Dotted path of the offending field (`newKey.encrypt.key`), or '' when not about one field. */
  readonly field: string;

  constructor(code: ErrorCode, message: string, field = '', options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ControlApiError';
    this.field = field;
  }
}

/** A bad option passed to a constructor or factory (checked once, at the boundary). */
export class ConfigError extends OvpnError {
  readonly option: string;

  constructor(option: string, message: string) {
    super(ErrorCode.INVALID_OPTION, message);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/**
 * A transport-level event delivered through `Transport.onError` (never thrown out of the data
 * path). `remote` is the 20-byte address (see transport/addr.ts) of the affected connection, or
 * null when the whole transport is affected.
 */
export class TransportError extends OvpnError {
  readonly remote: Uint8Array | null;

  constructor(
    code: ErrorCode,
    message: string,
    remote: Uint8Array | null = null,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'TransportError';
    this.remote = remote;
  }
}

/** Brand check that works across duplicate package copies. */
export function isOvpnError(value: unknown): value is OvpnError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Every code as a set, for validating codes that arrive over the wire. */
export const ALL_ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));
