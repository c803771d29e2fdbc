// The keyUsage extension (RFC 5280 §4.2.1.3) of a DER certificate, for remote-cert-ku. Node's
// X509Certificate does not expose it, so this walks cert.raw: Certificate -> tbsCertificate ->
// [3] extensions -> the Extension whose extnID is 2.5.29.15 -> OCTET STRING -> BIT STRING.
//
// The walk follows the structure (it does not search the bytes for the OID, which could also
// appear inside a name or another extension), checks every length against its parent, and
// reports a malformed certificate as a reason string; it never throws.
//
// The value is built like OpenSSL's X509_get_key_usage(): the first byte of the bit string is the
// low byte (bit 0 digitalSignature = 0x80 ... bit 7 encipherOnly = 0x01) and bit 8 decipherOnly
// is 0x8000. That is the number OpenVPN's `remote-cert-ku` values are written in.

/** keyUsage bit names, as OpenSSL prints them, by their value in the number above. */
const KU_NAMES: readonly (readonly [number, string])[] = [
  [0x80, 'digitalSignature'],
  [0x40, 'nonRepudiation'],
  [0x20, 'keyEncipherment'],
  [0x10, 'dataEncipherment'],
  [0x08, 'keyAgreement'],
  [0x04, 'keyCertSign'],
  [0x02, 'cRLSign'],
  [0x01, 'encipherOnly'],
  [0x8000, 'decipherOnly'],
];

export type KeyUsageResult =
  | { readonly ok: true; readonly present: false }
  | { readonly ok: true; readonly present: true; readonly value: number; readonly critical: boolean }
  | { readonly ok: false; readonly reason: string };

/** Names of the bits set in a keyUsage value, e.g. 0xa0 -> "digitalSignature,keyEncipherment". */
export function keyUsageNames(value: number): string {
  return KU_NAMES.filter(([bit]) => (value & bit) !== 0)
    .map(([, name]) => name)
    .join(',');
}

/** "0xa0", "0x08", "0x8080": how a keyUsage value is shown in messages. */
export function formatKeyUsage(value: number): string {
  return '0x' + value.toString(16).padStart(2, '0');
}

interface Tlv {
  readonly tag: number;
  /** First content byte. */
  readonly start: number;
  /** One past the last content byte. */
  readonly end: number;
}

class DerError extends Error {}

const TAG_BOOLEAN = 0x01;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
const TAG_SEQUENCE = 0x30;
const TAG_EXTENSIONS = 0xa3; // [3] EXPLICIT, constructed
const OID_KEY_USAGE = [0x55, 0x1d, 0x0f]; // 2.5.29.15

/** One TLV starting at `off`, whose content must end by `limit`. Definite lengths only (DER). */
function readTlv(b: Uint8Array, off: number, limit: number, what: string): Tlv {
  if (off + 2 > limit) throw new DerError(`${what}: truncated at byte ${off}`);
  const tag = b[off] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: unexpected multi-byte tag at byte ${off}`);
  const first = b[off + 1] as number;
  let pos = off + 2;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError(`${what}: indefinite length at byte ${off} (not DER)`);
    if (n > 4) throw new DerError(`${what}: length of ${n} bytes at byte ${off} is too large`);
    if (pos + n > limit) throw new DerError(`${what}: truncated length at byte ${off}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[pos + i] as number);
    pos += n;
  }
  if (len > limit - pos) {
    throw new DerError(
      `${what}: length ${len} at byte ${off} runs past its container (${limit - pos} bytes left)`,
    );
  }
  return { tag, start: pos, end: pos + len };
}

function expectTag(t: Tlv, tag: number, what: string): void {
  if (t.tag !== tag) {
    throw new DerError(
      `${what}: expected tag 0x${tag.toString(16).padStart(2, '0')}, got 0x${t.tag.toString(16).padStart(2, '0')}`,
    );
  }
}

function isKeyUsageOid(b: Uint8Array, t: Tlv): boolean {
  if (t.end - t.start !== OID_KEY_USAGE.length) return false;
  return OID_KEY_USAGE.every((v, i) => b[t.start + i] === v);
}

/** The BIT STRING inside the keyUsage extension's OCTET STRING, as the value described above. */
function keyUsageValue(b: Uint8Array, octets: Tlv): number {
  const bits = readTlv(b, octets.start, octets.end, 'keyUsage value');
  expectTag(bits, TAG_BIT_STRING, 'keyUsage value');
  if (bits.end !== octets.end) throw new DerError('keyUsage value: trailing bytes after the BIT STRING');
  const n = bits.end - bits.start;
  if (n === 0) throw new DerError('keyUsage value: empty BIT STRING (no unused-bits byte)');
  const unused = b[bits.start] as number;
  if (unused > 7 || (n === 1 && unused !== 0)) {
    throw new DerError(`keyUsage value: bad unused-bits count ${unused}`);
  }
  // As OpenSSL does when decoding, bits marked unused do not count.
  const byteAt = (i: number): number => {
    if (i >= n - 1) return 0;
    const v = b[bits.start + 1 + i] as number;
    return i === n - 2 ? v & (0xff << unused) & 0xff : v;
  };
  return byteAt(0) | (byteAt(1) << 8);
}

/**
 * The keyUsage extension of a DER certificate: absent, its value, or why it cannot be read.
 * Never throws, whatever the bytes.
 */
export function certKeyUsage(der: Uint8Array): KeyUsageResult {
  try {
    return walk(der);
  } catch (e) {
    if (e instanceof DerError) return { ok: false, reason: `malformed certificate: ${e.message}` };
    return { ok: false, reason: `malformed certificate: ${String(e)}` };
  }
}

function walk(b: Uint8Array): KeyUsageResult {
  const cert = readTlv(b, 0, b.length, 'Certificate');
  expectTag(cert, TAG_SEQUENCE, 'Certificate');
  if (cert.end !== b.length) throw new DerError(`Certificate: ${b.length - cert.end} trailing bytes`);
  const tbs = readTlv(b, cert.start, cert.end, 'tbsCertificate');
  expectTag(tbs, TAG_SEQUENCE, 'tbsCertificate');
  let found: { value: number; critical: boolean } | undefined;
  for (let off = tbs.start; off < tbs.end;) {
    const field = readTlv(b, off, tbs.end, 'tbsCertificate field');
    off = field.end;
    if (field.tag !== TAG_EXTENSIONS) continue;
    const list = readTlv(b, field.start, field.end, 'extensions');
    expectTag(list, TAG_SEQUENCE, 'extensions');
    if (list.end !== field.end) throw new DerError('extensions: trailing bytes');
    for (let e = list.start; e < list.end;) {
      const ext = readTlv(b, e, list.end, 'Extension');
      expectTag(ext, TAG_SEQUENCE, 'Extension');
      e = ext.end;
      const oid = readTlv(b, ext.start, ext.end, 'Extension extnID');
      expectTag(oid, TAG_OID, 'Extension extnID');
      if (!isKeyUsageOid(b, oid)) continue;
      if (found !== undefined) throw new DerError('keyUsage extension appears twice');
      let next = readTlv(b, oid.end, ext.end, 'keyUsage extension');
      let critical = false;
      if (next.tag === TAG_BOOLEAN) {
        if (next.end - next.start !== 1) throw new DerError('keyUsage extension: bad critical BOOLEAN');
        critical = b[next.start] !== 0;
        next = readTlv(b, next.end, ext.end, 'keyUsage extension');
      }
      expectTag(next, TAG_OCTET_STRING, 'keyUsage extnValue');
      if (next.end !== ext.end) throw new DerError('keyUsage extension: trailing bytes');
      found = { value: keyUsageValue(b, next), critical };
    }
  }
  return found === undefined ? { ok: true, present: false } : { ok: true, present: true, ...found };
}
