// Test PKI for lab tests: runs scripts/lab/pki.sh once per process into a temp directory and hands
// out absolute paths. The directory is removed when the process exits, unless it came from
// OVPN_TS_LAB_DIR (a persistent directory reused across runs; pki.sh only fills in missing files).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A certificate and its private key (PEM files). */
export interface CertPair {
  readonly crt: string;
  readonly key: string;
}

export interface LabPki {
  readonly dir: string;
  /** "Test CA": trusts server, client, expiredServer, expiredClient, notYetClient. */
  readonly ca: CertPair;
  /** CN=server, EKU serverAuth, valid 10 years. */
  readonly server: CertPair;
  /** CN=client, EKU clientAuth, valid 10 years. */
  readonly client: CertPair;
  /** tls-crypt key (OpenVPN static key V1, 2048 bits). */
  readonly tlsCryptKey: string;
  /** tls-auth key (same format; use direction 0 on the server, 1 on the client). */
  readonly tlsAuthKey: string;
  /** tls-crypt-v2 server key and one client key wrapped by it; null when openvpn is not installed. */
  readonly tlsCryptV2: { readonly serverKey: string; readonly clientKey: string } | null;
  /** Signed by ca, valid only 2020-01-01..2020-01-02. */
  readonly expiredServer: CertPair;
  readonly expiredClient: CertPair;
  /** Signed by ca, valid from 2099-01-01. */
  readonly notYetClient: CertPair;
  /** "Other Test CA", unrelated to ca, and leaf certificates it signed (same CNs and EKUs). */
  readonly otherCa: CertPair;
  readonly otherServer: CertPair;
  readonly otherClient: CertPair;
}

/**
 * Absolute path inside the repository. Works from test/util (tsx) and from dist/test/util (compiled
 * run): walks up from this file to the first directory holding package.json.
 */
export function repoPath(...parts: string[]): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  return resolve(dir, ...parts);
}

const PKI_SCRIPT = repoPath('scripts/lab/pki.sh');
let cached: Promise<LabPki> | undefined;

/** Generates (once per process) and returns the lab PKI. Needs bash and openssl. */
export function labPki(): Promise<LabPki> {
  return (cached ??= generate());
}

async function generate(): Promise<LabPki> {
  const persistent = process.env['OVPN_TS_LAB_DIR'];
  const dir = persistent ?? mkdtempSync(join(tmpdir(), 'ovt-pki-'));
  if (persistent === undefined) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  await new Promise<void>((res, rej) => {
    execFile('bash', [PKI_SCRIPT, dir], { timeout: 60_000, killSignal: 'SIGKILL' }, (err, _out, stderr) => {
      if (err === null) res();
      else rej(new Error(`scripts/lab/pki.sh ${dir} failed: ${stderr.trim() || err.message}`));
    });
  });
  const p = (name: string): string => join(dir, name);
  const pair = (name: string): CertPair => ({ crt: p(`${name}.crt`), key: p(`${name}.key`) });
  return {
    dir,
    ca: pair('ca'),
    server: pair('server'),
    client: pair('client'),
    tlsCryptKey: p('tc.key'),
    tlsAuthKey: p('ta.key'),
    tlsCryptV2: existsSync(p('tcv2-client.key'))
      ? { serverKey: p('tcv2-server.key'), clientKey: p('tcv2-client.key') }
      : null,
    expiredServer: pair('expired-server'),
    expiredClient: pair('expired-client'),
    notYetClient: pair('notyet-client'),
    otherCa: pair('other-ca'),
    otherServer: pair('other-server'),
    otherClient: pair('other-client'),
  };
}
