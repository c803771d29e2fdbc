// The typed model of a client profile: what `openvpn --config client.ovpn` would run with, after
// ovpn-ts's refusals. Every default lives here (openvpn 2.6.14 `init_options`, confirmed against
// the installed binary's `verb 4` parameter dump), so later code reads one place.
//
// Ownership: parse.ts builds a ClientOptions and freezes nothing; treat it as read-only.

import type { SourcePos } from './errors.js';

/** The AEAD data-channel ciphers ovpn-ts implements (canonical openvpn spelling). */
export const SUPPORTED_DATA_CIPHERS = [
  'AES-128-GCM',
  'AES-192-GCM',
  'AES-256-GCM',
  'CHACHA20-POLY1305',
] as const;
export type DataCipher = (typeof SUPPORTED_DATA_CIPHERS)[number];

/** HMAC digests accepted for `auth` (tls-auth HMAC). Upper-case OpenSSL names. */
export const SUPPORTED_DIGESTS = ['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'MD5'] as const;
export type Digest = (typeof SUPPORTED_DIGESTS)[number] | 'none';

export type Transport = 'udp' | 'tcp';
/** `udp`/`tcp` = any family; `udp4`/`tcp4` = inet; `udp6`/`tcp6` = inet6. */
export type AddressFamily = 'any' | 'inet' | 'inet6';

/** Key or certificate material: named file or inline block. `text` is set once the content is known. */
export interface Material {
  readonly origin: 'file' | 'inline';
  /** File path as written (resolved against `cd` if one was given); undefined when inline. */
  readonly path?: string;
  /** Content (text formats). Undefined for a file when the parser was given no reader. */
  readonly text?: string;
  /** Content of binary formats (pkcs12): file bytes, or the decoded base64 of an inline block. */
  readonly bytes?: Uint8Array;
  readonly pos: SourcePos;
}

/** Control-channel wrapping (openvpn-protocol.md §B2/B3). */
export type TlsWrap =
  | { readonly mode: 'tls-auth'; readonly key: Material; readonly direction: 0 | 1 | undefined }
  | { readonly mode: 'tls-crypt'; readonly key: Material }
  | { readonly mode: 'tls-crypt-v2'; readonly key: Material };

/** One way to reach the server: a `remote` line (with the globals) or a `<connection>` block. */
export interface Connection {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  readonly family: AddressFamily;
  /** false with `nobind` (the usual client case): the OS picks the source port. */
  readonly bind: boolean;
  readonly localAddress: string | undefined;
  readonly localPort: number;
  readonly float: boolean;
  readonly connectRetry: { readonly initial: number; readonly max: number };
  /** `connect-timeout` / `server-poll-timeout` seconds. */
  readonly connectTimeout: number;
  /** `explicit-exit-notify` count (0 = off). Ignored over TCP (protocol §G). */
  readonly explicitExitNotify: number;
  readonly tunMtu: number;
  readonly mssfix: MssFix;
  /** tls-auth / tls-crypt / tls-crypt-v2 in force for this connection (block's own or global). */
  readonly tlsWrap: TlsWrap | undefined;
  readonly pos: SourcePos;
}

export interface MssFix {
  /** 0 disables mssfix. */
  readonly size: number;
  /** `mssfix n mtu`: n is the whole packet size including IP/UDP headers. */
  readonly mtu: boolean;
  /** `mssfix n fixed`: n is the final UDP packet size, no overhead accounting. */
  readonly fixed: boolean;
}

export interface Route {
  readonly network: string;
  readonly netmask: string | undefined;
  readonly gateway: string | undefined;
  readonly metric: number | undefined;
  readonly pos: SourcePos;
}

export interface RouteIpv6 {
  readonly network: string;
  readonly gateway: string | undefined;
  readonly metric: number | undefined;
  readonly pos: SourcePos;
}

export interface PullFilter {
  readonly action: 'accept' | 'ignore' | 'reject';
  /** Prefix matched against each pushed option's text (openvpn: strncmp). */
  readonly text: string;
}

export type AuthUserPass =
  | { readonly source: 'prompt' }
  | {
      readonly source: 'file' | 'inline';
      readonly path?: string;
      /** Undefined when the file was not read (no reader given). */
      readonly username?: string;
      /** Undefined when the file/block has only a username: the password is prompted for. */
      readonly password?: string;
    };

export type TlsVersion = '1.0' | '1.1' | '1.2' | '1.3';

export interface CompressionSettings {
  /** What was configured (`comp-lzo` counts as 'lzo', `comp-lzo no` as 'lzo-stub'). */
  readonly requested: 'none' | 'lzo-stub' | 'lzo' | 'stub' | 'lz4' | 'stub-v2' | 'lz4-v2';
  /**
   * Framing on the wire (protocol §A5): none; 'comp-lzo' = 0xFA prefix; 'compress' = 0xFB with
   * first byte swapped to the end; 'compress-v2' = 0x50 escape. ovpn-ts never compresses and
   * drops compressed packets it receives.
   */
  readonly framing: 'none' | 'comp-lzo' | 'compress' | 'compress-v2';
  readonly allow: 'no' | 'asym' | 'yes';
}

export interface ClientOptions {
  /** `client` or `pull`: ask the server for options (PUSH_REQUEST). false = P2P TLS (§H). */
  readonly pull: boolean;
  /** Always true: ovpn-ts only runs as the TLS client. */
  readonly tlsClient: true;
  readonly connections: readonly Connection[];
  readonly remoteRandom: boolean;
  readonly remoteRandomHostname: boolean;
  /** Seconds, or 'infinite'. */
  readonly resolvRetry: number | 'infinite';
  /** 0 = retry forever. */
  readonly connectRetryMax: number;

  readonly dev: { readonly name: string; readonly type: 'tun' };
  readonly topology: 'net30' | 'p2p' | 'subnet';
  /** P2P `ifconfig local remote-or-netmask`. */
  readonly ifconfig: { readonly local: string; readonly remoteOrNetmask: string } | undefined;
  readonly ifconfigIpv6: { readonly local: string; readonly remote: string } | undefined;
  readonly routes: readonly Route[];
  readonly routesIpv6: readonly RouteIpv6[];
  readonly routeGateway: string | undefined;
  readonly redirectGateway: readonly string[] | undefined;
  readonly dhcpOptions: readonly { readonly type: string; readonly value: string | undefined }[];
  readonly routeNopull: boolean;
  readonly pullFilters: readonly PullFilter[];
  readonly blockOutsideDns: boolean;

  readonly tls: {
    readonly ca: Material | undefined;
    readonly cert: Material | undefined;
    readonly key: Material | undefined;
    readonly extraCerts: Material | undefined;
    readonly pkcs12: Material | undefined;
    readonly crlVerify: Material | undefined;
    /** SHA-256 fingerprints (upper-case hex with colons) from `peer-fingerprint`. */
    readonly peerFingerprints: readonly string[];
    /** `askpass`: 'prompt', a file, or undefined (key not encrypted). */
    readonly askpass:
      | { readonly source: 'prompt' }
      | { readonly source: 'file'; readonly path: string; readonly text?: string }
      | undefined;
    readonly remoteCertTls: 'server' | 'client' | undefined;
    readonly nsCertType: 'server' | 'client' | undefined;
    /** `remote-cert-eku`: the EKU OID in dotted form (names are resolved when parsing). */
    readonly remoteCertEku: string | undefined;
    /**
     * `remote-cert-ku`: key usage values (OpenSSL X509_get_key_usage bits, e.g. 0xa0); [] when given
     * without values (only a keyUsage extension is required, as in OpenVPN 2.6).
     */
    readonly remoteCertKu: readonly number[] | undefined;
    readonly verifyX509Name:
      { readonly name: string; readonly type: 'subject' | 'name' | 'name-prefix' } | undefined;
    readonly versionMin: { readonly version: TlsVersion; readonly orHighest: boolean };
    readonly versionMax: TlsVersion | undefined;
    readonly cipherList: string | undefined;
    readonly ciphersuites: string | undefined;
    readonly groups: string | undefined;
    readonly certProfile: string | undefined;
    readonly timeout: number;
    readonly handWindow: number;
    readonly tranWindow: number;
    /** `reneg-sec max [min]`; 0 disables time-based renegotiation. */
    readonly renegSec: { readonly max: number; readonly min: number | undefined };
    readonly renegBytes: number | undefined;
    readonly renegPkts: number | undefined;
    /** Global wrap (each Connection has the one actually in force). */
    readonly wrap: TlsWrap | undefined;
    /** `auth` digest, used for the tls-auth HMAC. */
    readonly auth: Digest;
    /** openvpn's max-packet-size (control channel packet limit). */
    readonly maxPacketSize: number;
  };

  readonly dataCiphers: readonly DataCipher[];
  readonly dataCiphersFallback: DataCipher | undefined;
  /** Legacy `cipher` as written (only a warning in 2.6 when not in data-ciphers). */
  readonly legacyCipher: string | undefined;
  readonly compression: CompressionSettings;
  readonly replayWindow: { readonly size: number; readonly time: number };
  readonly muteReplayWarnings: boolean;

  readonly ping: number;
  readonly pingRestart: number;
  readonly pingExit: number;

  readonly authUserPass: AuthUserPass | undefined;
  readonly authNocache: boolean;
  readonly authRetry: 'none' | 'nointeract' | 'interact';
  readonly staticChallenge: { readonly text: string; readonly echo: boolean } | undefined;
  readonly pushPeerInfo: boolean;

  readonly persistTun: boolean;
  readonly persistKey: boolean;
  readonly sndbuf: number | undefined;
  readonly rcvbuf: number | undefined;
  readonly fastIo: boolean;
  readonly verb: number;
  readonly mute: number;
  readonly scriptSecurity: number;
  /** `setenv` pairs in order (IV_GUI_VER, UV_* etc. feed peer-info, protocol §C4). */
  readonly setenv: readonly { readonly name: string; readonly value: string }[];
  /** Option names listed by `ignore-unknown-option`. */
  readonly ignoreUnknownOptions: readonly string[];
}

/** openvpn 2.6 defaults for everything above that has one. */
export const DEFAULTS = {
  port: 1194,
  transport: 'udp' as Transport,
  family: 'any' as AddressFamily,
  connectRetry: { initial: 1, max: 300 },
  connectRetryMax: 0,
  connectTimeout: 120,
  resolvRetry: 'infinite' as const,
  explicitExitNotifyWhenGiven: 1,
  tunMtu: 1500,
  mssfix: { size: 1492, mtu: false, fixed: false } as MssFix,
  topology: 'net30' as const,
  tlsVersionMin: { version: '1.2' as TlsVersion, orHighest: false },
  tlsTimeout: 2,
  handWindow: 60,
  tranWindow: 3600,
  renegSec: { max: 3600, min: undefined },
  auth: 'SHA1' as Digest,
  maxPacketSize: 1250,
  maxPacketSizeRange: [154, 2048] as const,
  dataCiphers: ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'] as readonly DataCipher[],
  compression: { requested: 'none', framing: 'none', allow: 'no' } as CompressionSettings,
  replayWindow: { size: 64, time: 15 },
  replayWindowRange: { size: [0, 65536], time: [0, 600] } as const,
  ping: 0,
  pingRestart: 0,
  pingExit: 0,
  authRetry: 'none' as const,
  verb: 1,
  mute: 0,
  scriptSecurity: 1,
} as const;
