// From a parsed profile (ClientOptions) to what one control session needs: the TLS context, a
// fresh control-channel wrap per connection attempt (replay state must not outlive a session),
// the key-method-2 options string and peer-info. Pure except for reading files a Material names
// without having its text (profiles parsed without a file reader).

import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { ClientOptions, Connection, Material, TlsVersion, TlsWrap } from '../config/options.js';
import { DEFAULT_IV_PROTO, buildOptionsString, buildPeerInfo } from '../protocol/control/key-method2.js';
import { parseStaticKey } from '../protocol/control/static-key.js';
import type { TlsConfig } from '../protocol/control/tls-channel.js';
import { parseTlsCryptV2ClientKey } from '../protocol/control/tls-crypt-v2.js';
import {
  type ControlWrap,
  NoWrap,
  TlsAuthWrap,
  TlsCryptWrap,
  tlsCryptV2ClientWrap,
} from '../protocol/control/wrap.js';
import { ClientError, ClientErrorCode } from './errors.js';

function readText(path: string, opt: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ClientError(ClientErrorCode.CONFIG, `${opt}: cannot read '${path}': ${(e as Error).message}`);
  }
}

function firstLine(s: string): string {
  return s.split(/\r?\n/)[0] ?? '';
}

function materialText(m: Material, opt: string): string {
  if (m.text !== undefined) return m.text;
  if (m.bytes !== undefined) return Buffer.from(m.bytes).toString('utf8');
  if (m.path === undefined) throw new ClientError(ClientErrorCode.CONFIG, `${opt}: no content`);
  return readText(m.path, opt);
}

function materialBytes(m: Material, opt: string): Buffer {
  if (m.bytes !== undefined) return Buffer.from(m.bytes);
  if (m.text !== undefined) return Buffer.from(m.text);
  if (m.path === undefined) throw new ClientError(ClientErrorCode.CONFIG, `${opt}: no content`);
  try {
    return readFileSync(m.path);
  } catch (e) {
    throw new ClientError(ClientErrorCode.CONFIG, `${opt}: cannot read '${m.path}': ${(e as Error).message}`);
  }
}

const NODE_TLS: Readonly<Record<TlsVersion, tls.SecureVersion>> = {
  '1.0': 'TLSv1',
  '1.1': 'TLSv1.1',
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
};

/** The TLS context of the profile (ca/cert/key/pkcs12, versions, cipher lists, peer checks). */
export function buildTlsConfig(o: ClientOptions, warn: (msg: string) => void): TlsConfig {
  const t = o.tls;
  if (t.ca === undefined && t.pkcs12 === undefined) {
    throw new ClientError(
      ClientErrorCode.CONFIG,
      "ca: no CA certificate: add 'ca FILE' (peer-fingerprint alone is not supported by ovpn-ts yet)",
    );
  }
  const secure: tls.SecureContextOptions = {};
  if (t.ca !== undefined) secure.ca = materialText(t.ca, 'ca');
  if (t.cert !== undefined) {
    const chain = t.extraCerts === undefined ? '' : '\n' + materialText(t.extraCerts, 'extra-certs');
    secure.cert = materialText(t.cert, 'cert') + chain;
  }
  if (t.key !== undefined) secure.key = materialText(t.key, 'key');
  if (t.pkcs12 !== undefined) secure.pfx = materialBytes(t.pkcs12, 'pkcs12');
  if (t.askpass?.source === 'file')
    secure.passphrase = firstLine(t.askpass.text ?? readText(t.askpass.path, 'askpass'));
  if (t.crlVerify !== undefined) secure.crl = materialText(t.crlVerify, 'crl-verify');
  // node takes TLS 1.2 ciphers and TLS 1.3 suites (TLS_*) in one list.
  const ciphers = [t.cipherList, t.ciphersuites].filter((c) => c !== undefined);
  if (ciphers.length > 0) secure.ciphers = ciphers.join(':');
  if (t.groups !== undefined) secure.ecdhCurve = t.groups;
  const remoteCertTls = t.remoteCertTls ?? t.nsCertType;
  if (t.nsCertType !== undefined) warn('ns-cert-type is treated as remote-cert-tls (EKU check)');
  checkTlsMaterial(secure);
  return {
    secure,
    minVersion: t.versionMin.orHighest ? 'TLSv1.3' : NODE_TLS[t.versionMin.version],
    ...(t.versionMax !== undefined ? { maxVersion: NODE_TLS[t.versionMax] } : {}),
    verify: {
      ...(remoteCertTls !== undefined ? { remoteCertTls } : {}),
      ...(t.verifyX509Name !== undefined ? { verifyX509Name: t.verifyX509Name } : {}),
      ...(t.remoteCertEku !== undefined ? { remoteCertEku: t.remoteCertEku } : {}),
      ...(t.remoteCertKu !== undefined ? { remoteCertKu: t.remoteCertKu } : {}),
    },
  };
}

/**
 * Load the TLS material once, now: a wrong passphrase or a key that does not match its
 * certificate fails at start with the option to fix, instead of stalling the handshake later.
 */
function checkTlsMaterial(secure: tls.SecureContextOptions): void {
  try {
    tls.createSecureContext(secure);
  } catch (e) {
    const msg = (e as Error).message;
    let why = `${msg} (check ca, cert and key)`;
    if (/bad decrypt|bad password|interrupted or cancelled|PEM_read_bio|unable to load key/i.test(msg)) {
      why =
        secure.passphrase === undefined
          ? "key: the private key is encrypted: give its passphrase with 'askpass FILE'"
          : 'key: cannot decrypt the private key with the askpass passphrase: wrong passphrase (check the askpass file)';
    } else if (/key values mismatch/i.test(msg)) {
      why = 'cert/key: the private key does not belong to the certificate (check the cert and key options)';
    }
    throw new ClientError(ClientErrorCode.CONFIG, why, { cause: e });
  }
}

/** A new wrap for one session (each carries its own packet-id and replay state). */
export function buildWrap(w: TlsWrap | undefined, o: ClientOptions): ControlWrap {
  if (w === undefined) return new NoWrap();
  if (w.mode === 'tls-auth') {
    const key = parseStaticKey(materialText(w.key, 'tls-auth'));
    const digest = o.tls.auth === 'none' ? 'SHA1' : o.tls.auth;
    return new TlsAuthWrap({ key, direction: w.direction, digest });
  }
  if (w.mode === 'tls-crypt') {
    return new TlsCryptWrap({ key: parseStaticKey(materialText(w.key, 'tls-crypt')), role: 'client' });
  }
  const v2 = parseTlsCryptV2ClientKey(materialText(w.key, 'tls-crypt-v2'));
  return tlsCryptV2ClientWrap(v2.kc, v2.wkc);
}

/** OCC proto name of a connection, as 2.6 writes it in the options string. */
export function occProto(c: Connection, remoteIsV6: boolean): string {
  const fam = remoteIsV6 ? 'v6' : 'v4';
  return c.transport === 'udp' ? `UDP${fam}` : `TCP${fam}_CLIENT`;
}

export function buildOptions(c: Connection, remoteIsV6: boolean): string {
  return buildOptionsString({ role: 'client', tunMtu: c.tunMtu, proto: occProto(c, remoteIsV6) });
}

/** Peer-info: data-ciphers, IV_PROTO 414 (no dyn-tls-crypt, no DNS option), IV_/UV_ setenvs. */
export function buildClientPeerInfo(o: ClientOptions, version: string): string {
  const extra: Record<string, string> = {};
  for (const s of o.setenv)
    if (/^(IV_GUI_VER|IV_SSO|UV_[A-Za-z0-9_]+)$/.test(s.name)) extra[s.name] = s.value;
  return buildPeerInfo({
    ciphers: o.dataCiphers,
    ivProto: DEFAULT_IV_PROTO,
    version,
    compStubs: true,
    extra,
  });
}
