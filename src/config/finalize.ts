// Cross-option rules (openvpn's options_postprocess_*), run once after every line is applied,
// then the Draft becomes a ClientOptions. Rules that depend on order-independent combinations
// live here so `up` before `script-security`, or `comp-lzo` before `allow-compression`, behave
// as in openvpn.

import { OvpnConfigError, makeWarning } from './errors.js';
import type { SourcePos } from './errors.js';
import type { ConnDraft, Draft } from './draft.js';
import type { ClientOptions, CompressionSettings, Connection, TlsWrap } from './options.js';
import { DEFAULTS } from './options.js';

const TLS_RANK = { '1.0': 0, '1.1': 1, '1.2': 2, '1.3': 3 } as const;

export function finalize(d: Draft): ClientOptions {
  const top: SourcePos = { file: d.topFile, line: 0 };
  checkMode(d, top);
  const dev = checkDev(d, top);
  const connections = buildConnections(d, top);
  checkCredentials(d, top);
  checkTlsPolicy(d, connections);
  const compression = resolveCompression(d);
  checkScripts(d);
  reportUnknown(d);
  return {
    pull: d.pull,
    tlsClient: true,
    connections,
    remoteRandom: d.remoteRandom,
    remoteRandomHostname: d.remoteRandomHostname,
    resolvRetry: d.resolvRetry,
    connectRetryMax: d.connectRetryMax,
    dev,
    topology: d.topology,
    ifconfig: d.ifconfig,
    ifconfigIpv6: d.ifconfigIpv6,
    routes: d.routes,
    routesIpv6: d.routesIpv6,
    routeGateway: d.routeGateway,
    redirectGateway: d.redirectGateway,
    dhcpOptions: d.dhcpOptions,
    routeNopull: d.routeNopull,
    pullFilters: d.pullFilters,
    blockOutsideDns: d.blockOutsideDns,
    tls: { ...d.tls, wrap: wrapOf(d.conn) },
    dataCiphers: d.dataCiphers,
    dataCiphersFallback: d.dataCiphersFallback,
    legacyCipher: d.legacyCipher?.name,
    compression,
    replayWindow: d.replayWindow,
    muteReplayWarnings: d.muteReplayWarnings,
    ping: d.ping,
    pingRestart: d.pingRestart,
    pingExit: d.pingExit,
    authUserPass: d.authUserPass,
    authNocache: d.authNocache,
    authRetry: d.authRetry,
    staticChallenge: d.staticChallenge,
    pushPeerInfo: d.pushPeerInfo,
    persistTun: d.persistTun,
    persistKey: d.persistKey,
    sndbuf: d.sndbuf,
    rcvbuf: d.rcvbuf,
    fastIo: d.fastIo,
    verb: d.verb,
    mute: d.mute,
    scriptSecurity: d.scriptSecurity,
    setenv: d.setenv,
    ignoreUnknownOptions: d.ignoreUnknownOptions,
  };
}

function checkMode(d: Draft, top: SourcePos): void {
  if (d.tlsClient) return;
  if (d.pull)
    throw new OvpnConfigError(top, 'pull', "pull needs TLS client mode: use 'client' (= pull + tls-client)");
  throw new OvpnConfigError(
    top,
    'client',
    "the profile has neither 'client' nor 'tls-client': add 'client' (server with push) or 'tls-client' (P2P)",
  );
}

function checkDev(d: Draft, top: SourcePos): ClientOptions['dev'] {
  if (d.dev === undefined) throw new OvpnConfigError(top, 'dev', "no TUN device defined: add 'dev tun'");
  if (d.devType === undefined && !d.dev.name.startsWith('tun')) {
    throw new OvpnConfigError(
      d.dev.pos,
      'dev',
      `cannot tell the type of device '${d.dev.name}': add 'dev-type tun'`,
    );
  }
  return { name: d.dev.name, type: 'tun' };
}

function buildConnections(d: Draft, top: SourcePos): Connection[] {
  if (d.blocks.length > 0) {
    if (d.conn.remotes.length > 0) {
      const pos = (d.conn.remotes[0] as { pos: SourcePos }).pos;
      d.warnings.push(
        makeWarning(pos, 'remote', 'ignored because <connection> blocks are present (as in openvpn)'),
      );
    }
    return d.blocks.map((b) => {
      const r = b.remotes[0];
      if (r === undefined)
        throw new OvpnConfigError(
          b.pos,
          'connection',
          "each <connection> block needs exactly one 'remote' line",
        );
      return resolveConnection(b, r.host, r.port, r.proto, r.pos);
    });
  }
  if (d.conn.remotes.length === 0) {
    throw new OvpnConfigError(top, 'remote', "no server given: add 'remote HOST [PORT] [PROTO]'");
  }
  return d.conn.remotes.map((r) => resolveConnection(d.conn, r.host, r.port, r.proto, r.pos));
}

function resolveConnection(
  c: ConnDraft,
  host: string,
  port: number | undefined,
  proto: ConnDraft['proto'],
  pos: SourcePos,
): Connection {
  const p = proto ?? c.proto;
  const wrap = wrapOf(c);
  return {
    host,
    port: port ?? c.rport ?? DEFAULTS.port,
    transport: p?.transport ?? DEFAULTS.transport,
    family: p?.family ?? DEFAULTS.family,
    bind: c.bind ?? true,
    localAddress: c.localAddress,
    localPort: c.lport ?? DEFAULTS.port,
    float: c.float,
    connectRetry: c.connectRetry ?? { ...DEFAULTS.connectRetry },
    connectTimeout: c.connectTimeout ?? DEFAULTS.connectTimeout,
    explicitExitNotify: c.explicitExitNotify ?? 0,
    tunMtu: c.tunMtu ?? DEFAULTS.tunMtu,
    mssfix: c.mssfix ?? { ...DEFAULTS.mssfix },
    tlsWrap: wrap,
    pos,
  };
}

/** At most one wrapping per connection entry (openvpn: "mutually exclusive"). */
function wrapOf(c: ConnDraft): TlsWrap | undefined {
  const set = [c.tlsAuth && 'tls-auth', c.tlsCrypt && 'tls-crypt', c.tlsCryptV2 && 'tls-crypt-v2'].filter(
    Boolean,
  );
  if (set.length > 1) {
    const m = (c.tlsCrypt ?? c.tlsCryptV2 ?? c.tlsAuth) as { pos: SourcePos };
    throw new OvpnConfigError(
      m.pos,
      set.join('/'),
      `${set.join(' and ')} are mutually exclusive: keep the one the server uses`,
    );
  }
  if (c.tlsAuth !== undefined) return { mode: 'tls-auth', key: c.tlsAuth, direction: c.keyDirection };
  if (c.tlsCrypt !== undefined) return { mode: 'tls-crypt', key: c.tlsCrypt };
  if (c.tlsCryptV2 !== undefined) return { mode: 'tls-crypt-v2', key: c.tlsCryptV2 };
  return undefined;
}

function checkCredentials(d: Draft, top: SourcePos): void {
  const t = d.tls;
  if (t.ca === undefined && t.pkcs12 === undefined && t.peerFingerprints.length === 0) {
    throw new OvpnConfigError(
      top,
      'ca',
      'no CA to verify the server: add ca FILE (or <ca>), or peer-fingerprint',
    );
  }
  if (t.pkcs12 !== undefined && (t.cert !== undefined || t.key !== undefined)) {
    const pos = (t.cert ?? t.key)?.pos ?? top;
    throw new OvpnConfigError(
      pos,
      t.cert ? 'cert' : 'key',
      'cannot be combined with pkcs12, which already holds the certificate and key',
    );
  }
  if ((t.cert === undefined) !== (t.key === undefined)) {
    const have = t.cert ?? t.key;
    throw new OvpnConfigError(
      have?.pos ?? top,
      t.cert ? 'key' : 'cert',
      'cert and key must be given together',
    );
  }
  if (t.cert === undefined && t.pkcs12 === undefined && d.authUserPass === undefined) {
    throw new OvpnConfigError(
      top,
      'auth-user-pass',
      'no client authentication: add cert/key, pkcs12, or auth-user-pass',
    );
  }
}

function checkTlsPolicy(d: Draft, conns: readonly Connection[]): void {
  const t = d.tls;
  for (const c of conns) {
    if (c.tlsWrap?.mode === 'tls-auth' && t.auth === 'none') {
      throw new OvpnConfigError(
        c.tlsWrap.key.pos,
        'auth',
        "'auth none' leaves tls-auth without an HMAC: remove 'auth none' or set e.g. 'auth SHA256'",
      );
    }
  }
  if (t.versionMax !== undefined && TLS_RANK[t.versionMax] < TLS_RANK[t.versionMin.version]) {
    throw new OvpnConfigError(
      d.tlsVersionMinPos ?? { file: d.topFile, line: 0 },
      'tls-version-min',
      `${t.versionMin.version} is above tls-version-max ${t.versionMax}`,
    );
  }
  const verifies =
    t.remoteCertTls ?? t.verifyX509Name ?? t.nsCertType ?? t.remoteCertEku ?? t.peerFingerprints[0];
  if (verifies === undefined) {
    d.warnings.push(
      makeWarning(
        { file: d.topFile, line: 0 },
        'remote-cert-tls',
        "no server certificate check is enabled: add 'remote-cert-tls server' (any certificate signed by the CA is accepted, including other clients')",
      ),
    );
  }
  const lc = d.legacyCipher;
  if (lc !== undefined && !d.dataCiphers.some((x) => x === lc.name.toUpperCase())) {
    d.warnings.push(
      makeWarning(
        lc.pos,
        'cipher',
        `'${lc.name}' is not in data-ciphers (${d.dataCiphers.join(':')}); it is not used for cipher negotiation`,
      ),
    );
  }
}

/** Real (de)compression is never done: see CompressionSettings. Mirrors 2.6's allow-compression rules. */
function resolveCompression(d: Draft): CompressionSettings {
  const allow = d.allowCompression?.value ?? 'no';
  const req = d.compress?.requested ?? 'none';
  const framing =
    req === 'none'
      ? 'none'
      : req.startsWith('lzo')
        ? 'comp-lzo'
        : req.endsWith('-v2')
          ? 'compress-v2'
          : 'compress';
  const real = req === 'lzo' || req === 'lz4' || req === 'lz4-v2';
  if (real && d.compress !== undefined) {
    if (allow === 'yes') {
      throw new OvpnConfigError(
        d.compress.pos,
        'compress',
        "real compression is not supported (and breaks encryption, e.g. VORACLE): use 'allow-compression no' with 'compress stub-v2', or remove compression",
      );
    }
    if (d.allowCompression?.value === 'no') {
      throw new OvpnConfigError(
        d.compress.pos,
        'compress',
        "compression is not allowed with 'allow-compression no': remove the compression option or use 'comp-lzo no' / 'compress stub-v2'",
      );
    }
    d.warnings.push(
      makeWarning(
        d.compress.pos,
        'compress',
        'ovpn-ts sends this framing uncompressed and drops compressed packets from the server (ask the server admin to disable compression)',
      ),
    );
    return { requested: req, framing, allow: 'asym' };
  }
  return { requested: req, framing, allow };
}

function checkScripts(d: Draft): void {
  for (const s of d.scripts) {
    if (d.scriptSecurity < 2) {
      throw new OvpnConfigError(
        s.pos,
        s.name,
        "scripts need 'script-security 2', and ovpn-ts does not run scripts anyway: remove the line",
      );
    }
    d.warnings.push(
      makeWarning(
        s.pos,
        s.name,
        'ovpn-ts does not run scripts; ignored (configure DNS/routes through the ovpn-ts API)',
      ),
    );
  }
}

function reportUnknown(d: Draft): void {
  const ignore = new Set(d.ignoreUnknownOptions);
  for (const u of d.unknown) {
    if (ignore.has(u.name)) continue;
    const text = u.optional
      ? 'not supported by ovpn-ts; skipped (marked optional by setenv opt)'
      : 'unknown option, ignored (openvpn would stop here)';
    d.warnings.push(makeWarning(u.pos, u.name, text));
  }
}
