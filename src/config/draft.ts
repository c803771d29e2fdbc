// Mutable state built while options are applied in order (file lines and argv alike). Later
// lines overwrite earlier ones, lists append: openvpn's "last one wins" for scalars.
// finalize.ts turns a Draft into the read-only ClientOptions after the cross-option checks.

import type { ConfigWarning, SourcePos } from './errors.js';
import type {
  AuthUserPass,
  ClientOptions,
  DataCipher,
  Digest,
  Material,
  MssFix,
  PullFilter,
  Route,
  RouteIpv6,
  TlsVersion,
} from './options.js';
import { DEFAULTS } from './options.js';
import type { ProtoSpec } from './values.js';

export interface RemoteDraft {
  host: string;
  port: number | undefined;
  proto: ProtoSpec | undefined;
  pos: SourcePos;
}

/** Options that openvpn keeps per connection entry (allowed inside `<connection>`). */
export interface ConnDraft {
  remotes: RemoteDraft[];
  proto: ProtoSpec | undefined;
  rport: number | undefined;
  lport: number | undefined;
  bind: boolean | undefined;
  localAddress: string | undefined;
  float: boolean;
  connectRetry: { initial: number; max: number } | undefined;
  connectTimeout: number | undefined;
  explicitExitNotify: number | undefined;
  tunMtu: number | undefined;
  mssfix: MssFix | undefined;
  tlsAuth: Material | undefined;
  tlsCrypt: Material | undefined;
  tlsCryptV2: Material | undefined;
  /** Shared by `key-direction` and `tls-auth FILE DIR` (openvpn's ce.key_direction). */
  keyDirection: 0 | 1 | undefined;
  pos: SourcePos;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface Draft {
  client: boolean;
  pull: boolean;
  tlsClient: boolean;
  conn: ConnDraft;
  blocks: ConnDraft[];
  remoteRandom: boolean;
  remoteRandomHostname: boolean;
  resolvRetry: number | 'infinite';
  connectRetryMax: number;
  dev: { name: string; pos: SourcePos } | undefined;
  devType: { type: string; pos: SourcePos } | undefined;
  topology: ClientOptions['topology'];
  ifconfig: ClientOptions['ifconfig'];
  ifconfigIpv6: ClientOptions['ifconfigIpv6'];
  routes: Route[];
  routesIpv6: RouteIpv6[];
  routeGateway: string | undefined;
  redirectGateway: string[] | undefined;
  dhcpOptions: { type: string; value: string | undefined }[];
  routeNopull: boolean;
  pullFilters: PullFilter[];
  blockOutsideDns: boolean;
  tls: Mutable<Omit<ClientOptions['tls'], 'wrap' | 'peerFingerprints'>> & { peerFingerprints: string[] };
  tlsVersionMinPos: SourcePos | undefined;
  dataCiphers: readonly DataCipher[];
  dataCiphersFallback: DataCipher | undefined;
  legacyCipher: { name: string; pos: SourcePos } | undefined;
  compress: { requested: ClientOptions['compression']['requested']; pos: SourcePos } | undefined;
  allowCompression: { value: 'no' | 'asym' | 'yes'; pos: SourcePos } | undefined;
  replayWindow: { size: number; time: number };
  muteReplayWarnings: boolean;
  ping: number;
  pingRestart: number;
  pingExit: number;
  authUserPass: AuthUserPass | undefined;
  authNocache: boolean;
  authRetry: ClientOptions['authRetry'];
  staticChallenge: ClientOptions['staticChallenge'];
  pushPeerInfo: boolean;
  persistTun: boolean;
  persistKey: boolean;
  sndbuf: number | undefined;
  rcvbuf: number | undefined;
  fastIo: boolean;
  verb: number;
  mute: number;
  scriptSecurity: number;
  /** Script hooks seen (`up`, `down`, ...): refused or ignored once script-security is known. */
  scripts: { name: string; pos: SourcePos }[];
  setenv: { name: string; value: string }[];
  ignoreUnknownOptions: string[];
  /** Unknown options, reported at the end so a later ignore-unknown-option still applies. */
  unknown: { name: string; pos: SourcePos; optional: boolean }[];
  warnings: ConfigWarning[];
  /** First file parsed (for messages about missing options). */
  topFile: string;
}

export function newConnDraft(pos: SourcePos): ConnDraft {
  return {
    remotes: [],
    proto: undefined,
    rport: undefined,
    lport: undefined,
    bind: undefined,
    localAddress: undefined,
    float: false,
    connectRetry: undefined,
    connectTimeout: undefined,
    explicitExitNotify: undefined,
    tunMtu: undefined,
    mssfix: undefined,
    tlsAuth: undefined,
    tlsCrypt: undefined,
    tlsCryptV2: undefined,
    keyDirection: undefined,
    pos,
  };
}

/** A `<connection>` starts from the connection options set so far (openvpn copies options->ce). */
export function inheritConnDraft(base: ConnDraft, pos: SourcePos): ConnDraft {
  return { ...base, remotes: [], pos };
}

export function newDraft(topFile: string): Draft {
  const tlsVersion: { version: TlsVersion; orHighest: boolean } = { ...DEFAULTS.tlsVersionMin };
  return {
    client: false,
    pull: false,
    tlsClient: false,
    conn: newConnDraft({ file: topFile, line: 0 }),
    blocks: [],
    remoteRandom: false,
    remoteRandomHostname: false,
    resolvRetry: DEFAULTS.resolvRetry,
    connectRetryMax: DEFAULTS.connectRetryMax,
    dev: undefined,
    devType: undefined,
    topology: DEFAULTS.topology,
    ifconfig: undefined,
    ifconfigIpv6: undefined,
    routes: [],
    routesIpv6: [],
    routeGateway: undefined,
    redirectGateway: undefined,
    dhcpOptions: [],
    routeNopull: false,
    pullFilters: [],
    blockOutsideDns: false,
    tls: {
      ca: undefined,
      cert: undefined,
      key: undefined,
      extraCerts: undefined,
      pkcs12: undefined,
      crlVerify: undefined,
      peerFingerprints: [],
      askpass: undefined,
      remoteCertTls: undefined,
      nsCertType: undefined,
      remoteCertEku: undefined,
      remoteCertKu: undefined,
      verifyX509Name: undefined,
      versionMin: tlsVersion,
      versionMax: undefined,
      cipherList: undefined,
      ciphersuites: undefined,
      groups: undefined,
      certProfile: undefined,
      timeout: DEFAULTS.tlsTimeout,
      handWindow: DEFAULTS.handWindow,
      tranWindow: DEFAULTS.tranWindow,
      renegSec: { ...DEFAULTS.renegSec },
      renegBytes: undefined,
      renegPkts: undefined,
      auth: DEFAULTS.auth as Digest,
      maxPacketSize: DEFAULTS.maxPacketSize,
    },
    tlsVersionMinPos: undefined,
    dataCiphers: DEFAULTS.dataCiphers,
    dataCiphersFallback: undefined,
    legacyCipher: undefined,
    compress: undefined,
    allowCompression: undefined,
    replayWindow: { ...DEFAULTS.replayWindow },
    muteReplayWarnings: false,
    ping: DEFAULTS.ping,
    pingRestart: DEFAULTS.pingRestart,
    pingExit: DEFAULTS.pingExit,
    authUserPass: undefined,
    authNocache: false,
    authRetry: DEFAULTS.authRetry,
    staticChallenge: undefined,
    pushPeerInfo: false,
    persistTun: false,
    persistKey: false,
    sndbuf: undefined,
    rcvbuf: undefined,
    fastIo: false,
    verb: DEFAULTS.verb,
    mute: DEFAULTS.mute,
    scriptSecurity: DEFAULTS.scriptSecurity,
    scripts: [],
    setenv: [],
    ignoreUnknownOptions: [],
    unknown: [],
    warnings: [],
    topFile,
  };
}
