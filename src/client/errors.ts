// Client failures as typed errors with stable codes, and the translation of low-level failure
// codes (node:tls / OpenSSL verify codes, control-session codes) into messages a user can act on.
//
// Every message names what failed and what to check, e.g.
//   TLS handshake failed: server certificate verify failed: certificate has expired (check the
//   server's certificate dates)

import { OvpnError } from '../util/errors.js';
import type { ErrorCode } from '../util/errors.js';

/** Stable codes of OpenVpnClient failures (strings, part of the public contract; append only). */
export const ClientErrorCode = {
  /** The profile cannot be used as given (missing ca, unsupported mode, unreadable file...). */
  CONFIG: 'OVPN_CLIENT_CONFIG',
  /** TLS failed (certificate verification, protocol, alert from the server). */
  TLS: 'OVPN_CLIENT_TLS',
  /** Nothing valid came back from the server in time (wrong key, address, firewall). */
  NO_REPLY: 'OVPN_CLIENT_NO_REPLY',
  /** The server refused the credentials (AUTH_FAILED). */
  AUTH_FAILED: 'OVPN_CLIENT_AUTH_FAILED',
  /** The server told us to stop (HALT). */
  HALT: 'OVPN_CLIENT_HALT',
  /** The push reply could not be used (cipher not allowed, pull-filter reject, ...). */
  PUSH: 'OVPN_CLIENT_PUSH',
  /** connect-retry-max attempts were used up. */
  RETRIES_EXHAUSTED: 'OVPN_CLIENT_RETRIES_EXHAUSTED',
  /** Credentials are needed but cannot be obtained (no TTY for the prompt). */
  CREDENTIALS: 'OVPN_CLIENT_CREDENTIALS',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ClientError extends OvpnError {
  readonly clientCode: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code as unknown as ErrorCode, message, options);
    this.name = 'ClientError';
    this.clientCode = code;
  }
}

/** Why an OpenSSL verify code failed, with the check the user should make. */
const VERIFY_REASONS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: "certificate has expired (check the server's certificate dates)",
  CERT_NOT_YET_VALID: "certificate is not yet valid (check the server's certificate dates and this clock)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "certificate is not signed by the configured CA (check that 'ca' is the CA that issued the server certificate)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "certificate is not signed by the configured CA (check that 'ca' is the CA that issued the server certificate)",
  UNABLE_TO_GET_ISSUER_CERT:
    "certificate is not signed by the configured CA (check that 'ca' is the CA that issued the server certificate)",
  SELF_SIGNED_CERT_IN_CHAIN:
    "certificate is not signed by the configured CA: its chain ends in another CA (check the 'ca' option)",
  DEPTH_ZERO_SELF_SIGNED_CERT:
    "server certificate is self-signed and not the configured CA (check the 'ca' option)",
  CERT_SIGNATURE_FAILURE: 'certificate signature is invalid (corrupt or forged certificate)',
  CERT_REVOKED: 'certificate has been revoked (crl-verify)',
  CERT_CHAIN_TOO_LONG: 'certificate chain is too long',
  INVALID_CA: "a CA in the chain is not a valid CA (check the server's chain and 'ca')",
  OVPN_CERT_VERIFY: '',
};

/** Alerts the server sends when it rejects *our* certificate (OpenSSL error code suffixes). */
const PEER_ALERTS: readonly (readonly [RegExp, string])[] = [
  [
    /CERTIFICATE_EXPIRED/,
    "the server rejected our certificate: it has expired (check the client certificate's dates)",
  ],
  [
    /UNKNOWN_CA/,
    "the server rejected our certificate: not signed by a CA it trusts (check 'cert' and the server's 'ca')",
  ],
  [
    /BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_UNKNOWN/,
    'the server rejected our certificate (check cert, key and the server log)',
  ],
  [/CERTIFICATE_REVOKED/, 'the server rejected our certificate: it has been revoked'],
  [/CERTIFICATE_REQUIRED/, "the server requires a client certificate (add 'cert' and 'key')"],
  [
    /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE/,
    'no common TLS version (check tls-version-min/max on both sides)',
  ],
  [
    /HANDSHAKE_FAILURE|NO_SHARED_CIPHER/,
    'no common TLS cipher or signature algorithm (check tls-cipher / tls-groups on both sides)',
  ],
  [/DECRYPT_ERROR/, 'the server could not verify our handshake signature (does key match cert?)'],
];

/**
 * One line explaining a failed control session. `code`/`reason` come from the ControlSession
 * 'failed' event (TLS error codes, HAND_WINDOW, KM2_DECODE...); `ctx` adds what we saw on the wire.
 */
export function explainSessionFailure(
  code: string,
  reason: string,
  ctx: { wrapMode: string; handWindowSec: number; peerSeen: boolean; wrapDrops: number },
): { code: ClientErrorCode; message: string } {
  if (code === 'HAND_WINDOW') return explainNoReply(ctx);
  if (code === 'OVPN_CERT_VERIFY') {
    return {
      code: ClientErrorCode.TLS,
      message: `TLS handshake failed: server certificate rejected: ${reason}`,
    };
  }
  const verify = VERIFY_REASONS[code];
  if (verify !== undefined) {
    return {
      code: ClientErrorCode.TLS,
      message: `TLS handshake failed: server certificate verify failed: ${verify}`,
    };
  }
  for (const [re, text] of PEER_ALERTS) {
    if (re.test(code) || re.test(reason.toUpperCase().replace(/\s+/g, '_'))) {
      return { code: ClientErrorCode.TLS, message: `TLS handshake failed: ${text}` };
    }
  }
  if (code === 'KM2_DECODE') {
    return {
      code: ClientErrorCode.TLS,
      message: `key exchange failed: ${reason} (is this an OpenVPN 2.x server?)`,
    };
  }
  return { code: ClientErrorCode.TLS, message: `TLS handshake failed: ${reason} (${code})` };
}

/** Nothing usable from the server within hand-window: name the likely culprit. */
export function explainNoReply(ctx: {
  wrapMode: string;
  handWindowSec: number;
  peerSeen: boolean;
  wrapDrops: number;
}): { code: ClientErrorCode; message: string } {
  const window = `within hand-window (${ctx.handWindowSec} s)`;
  if (ctx.wrapDrops > 0 && !ctx.peerSeen) {
    return {
      code: ClientErrorCode.NO_REPLY,
      message: `no valid reply from the server ${window}: ${ctx.wrapDrops} packet(s) failed ${ctx.wrapMode} authentication: check ${ctx.wrapMode} key (it must match the server's)`,
    };
  }
  if (ctx.peerSeen) {
    return {
      code: ClientErrorCode.NO_REPLY,
      message: `TLS key negotiation did not finish ${window} (packet loss, or the server is overloaded; see the server log)`,
    };
  }
  const keyHint =
    ctx.wrapMode === 'none'
      ? 'check the remote address and port, the proto (udp/tcp) and firewalls'
      : `check ${ctx.wrapMode} key (the server drops packets signed with another key), the remote address and port, and firewalls`;
  return { code: ClientErrorCode.NO_REPLY, message: `no valid reply from the server ${window}: ${keyHint}` };
}
