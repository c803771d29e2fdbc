// TLS over an in-memory Duplex (node-platform.md §5): the control channel carries the raw TLS byte
// stream in P_CONTROL_V1 payloads, so node:tls never sees a socket. Ciphertext the TLS engine
// writes is handed to `handlers.ciphertext` (the key state cuts it into control packets);
// ciphertext from the peer is pushed in with `feed`.
//
// Certificate checks users rely on (OpenVPN options):
//   ca chain              node's own verification (rejectUnauthorized), CA from the caller
//   remote-cert-tls X     EKU must contain serverAuth (X=server) or clientAuth (X=client)
//   remote-cert-eku OID   EKU must contain OID (the config parser resolves names to OIDs)
//   remote-cert-ku [V..]  keyUsage extension present; with values, it has all bits of one of them
//   verify-x509-name N T  T=subject: OpenVPN-formatted subject DN equals N
//                         T=name: CN equals N; T=name-prefix: CN starts with N
//   tls-version-min/max   minVersion/maxVersion
// OpenVPN does not check host names, so the client's checkServerIdentity runs only these rules.
import { X509Certificate } from 'node:crypto';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ConfigError } from '../../util/errors.js';
import { exportKeyingMaterial } from './keys.js';
import { certKeyUsage, formatKeyUsage, keyUsageNames } from './x509-ku.js';

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface TlsVerifyOptions {
  /** remote-cert-tls: require the peer certificate's EKU for this role. */
  remoteCertTls?: 'server' | 'client';
  /** verify-x509-name. */
  verifyX509Name?: { name: string; type: 'subject' | 'name' | 'name-prefix' };
  /** remote-cert-eku: this EKU OID (dotted form) must be in the peer certificate. */
  remoteCertEku?: string;
  /**
   * remote-cert-ku: the peer certificate must have a keyUsage extension and, unless this is
   * empty, all the bits of at least one of these values (OpenSSL X509_get_key_usage numbering).
   */
  remoteCertKu?: readonly number[];
}

export interface TlsConfig {
  /**
   * Secure-context options supplied by the caller: ca, cert, key, passphrase, pfx, ciphers,
   * ecdhCurve, sigalgs, ... (everything OpenVPN's ca/cert/key/tls-cipher map to).
   */
  secure: tls.SecureContextOptions;
  /** tls-version-min (default TLSv1.2, as in 2.6). */
  minVersion?: tls.SecureVersion;
  /** tls-version-max. */
  maxVersion?: tls.SecureVersion;
  verify?: TlsVerifyOptions;
}

export interface TlsChannelHandlers {
  ciphertext(chunk: Buffer): void;
  plaintext(chunk: Buffer): void;
  secure(): void;
  error(err: Error & { code?: string }): void;
}

/** OpenVPN's subject string: RDNs in certificate order joined by ", " (e.g. "C=US, O=Org, CN=srv"). */
export function openvpnSubject(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

function commonName(cert: X509Certificate): string | undefined {
  const lines = cert.subject.split('\n').filter((l) => l.startsWith('CN='));
  return lines.length > 0 ? (lines[lines.length - 1] as string).slice(3) : undefined;
}

/**
 * remote-cert-ku as OpenVPN 2.6 checks it (x509_verify_cert_ku): no keyUsage extension fails;
 * no values only needs the extension; otherwise the certificate's keyUsage must include every
 * bit of one of the values (`(ku & v) == v`, not equality, since OpenVPN 2.4).
 */
function checkKeyUsage(cert: X509Certificate, want: readonly number[]): string | undefined {
  const opt = ['remote-cert-ku', ...want.map((w) => w.toString(16).padStart(2, '0'))].join(' ');
  const ku = certKeyUsage(cert.raw);
  if (!ku.ok) return `${opt}: cannot read the peer certificate's key usage: ${ku.reason}`;
  if (!ku.present) return `${opt}: peer certificate has no key usage extension`;
  if (want.length === 0 || want.some((w) => (ku.value & w) === w)) return undefined;
  const names = keyUsageNames(ku.value);
  return `${opt}: peer certificate key usage is ${formatKeyUsage(ku.value)}${names === '' ? '' : ` (${names})`}`;
}

/**
 * Applies remote-cert-tls, remote-cert-eku, remote-cert-ku and verify-x509-name; returns a reason
 * string or undefined when OK. Never throws on a malformed certificate.
 */
export function checkPeerCertificate(cert: X509Certificate, v: TlsVerifyOptions): string | undefined {
  // Node's X509Certificate.keyUsage is the *extended* key usage OIDs; undefined without the extension.
  const eku = cert.keyUsage ?? [];
  if (v.remoteCertTls !== undefined) {
    const want = v.remoteCertTls === 'server' ? EKU_SERVER_AUTH : EKU_CLIENT_AUTH;
    if (!eku.includes(want)) {
      return `remote-cert-tls ${v.remoteCertTls}: peer certificate lacks EKU ${want} (has ${eku.join(',') || 'none'})`;
    }
  }
  if (v.remoteCertEku !== undefined && !eku.includes(v.remoteCertEku)) {
    return `remote-cert-eku ${v.remoteCertEku}: peer certificate lacks it (has ${eku.join(',') || 'none'})`;
  }
  if (v.remoteCertKu !== undefined) {
    const why = checkKeyUsage(cert, v.remoteCertKu);
    if (why !== undefined) return why;
  }
  const x = v.verifyX509Name;
  if (x !== undefined) {
    const cn = commonName(cert);
    const ok =
      x.type === 'subject'
        ? openvpnSubject(cert) === x.name
        : x.type === 'name'
          ? cn === x.name
          : cn !== undefined && cn.startsWith(x.name);
    if (!ok) return `verify-x509-name ${x.type}: peer "${openvpnSubject(cert)}" does not match "${x.name}"`;
  }
  return undefined;
}

function verifyError(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: 'OVPN_CERT_VERIFY' });
}

/** One TLS session (one key_id) over an in-memory Duplex. */
export class TlsChannel {
  readonly socket: tls.TLSSocket;
  private readonly duplex: Duplex;
  private closed = false;

  private constructor(
    role: 'client' | 'server',
    cfg: TlsConfig,
    private readonly h: TlsChannelHandlers,
  ) {
    this.duplex = new Duplex({
      read() {},
      write: (chunk: Buffer, _enc, cb) => {
        if (!this.closed) h.ciphertext(chunk);
        cb();
      },
    });
    const versions = { minVersion: cfg.minVersion ?? 'TLSv1.2', maxVersion: cfg.maxVersion ?? 'TLSv1.3' };
    if (role === 'client') {
      this.socket = tls.connect({
        socket: this.duplex,
        ...cfg.secure,
        ...versions,
        rejectUnauthorized: true,
        checkServerIdentity: (_host, peer) => {
          const why = checkPeerCertificate(new X509Certificate(peer.raw), cfg.verify ?? {});
          return why === undefined ? undefined : verifyError(why);
        },
      });
      this.socket.once('secureConnect', () => this.onSecure());
    } else {
      const secureContext = tls.createSecureContext({ ...cfg.secure, ...versions });
      this.socket = new tls.TLSSocket(this.duplex, {
        isServer: true,
        secureContext,
        requestCert: true,
        rejectUnauthorized: true,
      });
      this.socket.once('secure', () => {
        const peer = this.socket.getPeerX509Certificate();
        const why =
          peer === undefined ? 'no client certificate' : checkPeerCertificate(peer, cfg.verify ?? {});
        if (why !== undefined) {
          this.fail(verifyError(why));
          return;
        }
        this.onSecure();
      });
    }
    this.socket.on('data', (d: Buffer) => {
      if (!this.closed) h.plaintext(d);
    });
    this.socket.on('error', (e: Error) => this.fail(e));
    this.duplex.on('error', (e: Error) => this.fail(e));
  }

  static client(cfg: TlsConfig, h: TlsChannelHandlers): TlsChannel {
    checkConfig(cfg);
    return new TlsChannel('client', cfg, h);
  }

  static server(cfg: TlsConfig, h: TlsChannelHandlers): TlsChannel {
    checkConfig(cfg);
    return new TlsChannel('server', cfg, h);
  }

  /** Ciphertext from the peer, in order. */
  feed(chunk: Buffer): void {
    if (!this.closed) this.duplex.push(chunk);
  }

  /** Plaintext to the peer (buffered by node until the handshake completes). */
  write(plain: Buffer): void {
    if (!this.closed) this.socket.write(plain);
  }

  exportKeyingMaterial(length: number, label: string): Buffer {
    return exportKeyingMaterial(this.socket, length, label);
  }

  get protocol(): string | null {
    return this.socket.getProtocol();
  }

  peerCertificate(): X509Certificate | undefined {
    return this.socket.getPeerX509Certificate();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.duplex.destroy();
  }

  private onSecure(): void {
    if (!this.closed) this.h.secure();
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.h.error(e);
    this.destroy();
  }
}

function checkConfig(cfg: TlsConfig): void {
  const order = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  const min = order.indexOf(cfg.minVersion ?? 'TLSv1.2');
  const max = order.indexOf(cfg.maxVersion ?? 'TLSv1.3');
  if (min > max) throw new ConfigError('tls-version-min', 'tls-version-min is above tls-version-max');
  const x = cfg.verify?.verifyX509Name;
  if (x !== undefined && x.name.length === 0) {
    throw new ConfigError('verify-x509-name', 'verify-x509-name needs a non-empty name');
  }
}
