// The control API, defined ONCE (style practice 13). Commands mirror ovpn-dco-win's IOCTLs
// (uapi/ovpn-dco.h, see docs/ovpn-dco-reference.md §2); from this table derive:
//   - the argument types (CommandArgs<C>),       - validation with field-naming messages,
//   - the help text (commandHelp / helpText),     - the JSON wire form (bytes as hex/base64).
//
// Mode rule (as ovpn-dco): a command marked 'p2p' fails in MP mode and one marked 'mp' fails in
// P2P mode, with OVPN_ERR_BAD_MODE. The mode starts as P2P and setMode may run only once.

import type { SockAddr } from '../transport/addr.js';
import {
  bool,
  bytes,
  describeFields,
  fieldsToJson,
  int,
  invalid,
  ip,
  object,
  oneOf,
  optional,
  sockaddr,
  transport,
  validateFields,
  type ArgsOf,
  type Fields,
} from './fields.js';
import type { ControlApiError } from '../util/errors.js';

export type Mode = 'p2p' | 'mp';
export type CommandMode = Mode | 'any';

/** Peer ids are 24 bits; 0xFFFFFF means "undefined" on the wire, so MP peers use 0..0xFFFFFE. */
export const PEER_ID_MAX = 0xfffffe;
/** One raw OpenVPN control packet (the driver adds the TCP length prefix itself). */
export const CONTROL_PACKET_MAX = 1500;

export const CIPHERS = ['NONE', 'AES-128-GCM', 'AES-192-GCM', 'AES-256-GCM', 'CHACHA20-POLY1305'] as const;
export type CipherName = (typeof CIPHERS)[number];
/** Key length each cipher needs (NONE takes no key material; any given is ignored). */
export const CIPHER_KEY_LEN: Record<CipherName, number> = {
  NONE: 0,
  'AES-128-GCM': 16,
  'AES-192-GCM': 24,
  'AES-256-GCM': 32,
  'CHACHA20-POLY1305': 32,
};

const keyDirection = (dir: string) =>
  object(
    {
      key: bytes('hex', 0, 32, `The ${dir} key; its length must match the cipher (16/24/32 bytes).`),
      nonceTail: bytes('hex', 8, 8, `The 8-byte implicit IV for ${dir}, from the key material.`),
    },
    `Key material for ${dir}.`,
  );

const keepalive = {
  keepaliveInterval: int(
    -1,
    86400,
    'Seconds of Tx silence before a keepalive is sent; 0 = never, -1 = unchanged.',
  ),
  keepaliveTimeout: int(
    -1,
    86400,
    'Seconds without authenticated Rx before the peer expires; 0 = never, -1 = unchanged.',
  ),
  mss: int(-1, 65535, 'TCP MSS clamp for SYNs through the tunnel; 0 = no clamping, -1 = unchanged.'),
} as const;

const peerId = int(0, PEER_ID_MAX, 'The peer id (24 bits) the server assigned.');

interface CommandSpec<F extends Fields = Fields> {
  mode: CommandMode;
  help: string;
  args: F;
  /** Cross-field rules; returns an error naming the field, or null. */
  check?: (args: ArgsOf<F>, mode: Mode) => ControlApiError | null;
}

const command = <const F extends Fields>(spec: CommandSpec<F>): CommandSpec<F> => spec;

export const COMMANDS = {
  newPeer: command({
    mode: 'p2p',
    help: 'Create the P2P peer and its transport socket (NEW_PEER). Call before the TLS handshake.',
    args: {
      local: optional(sockaddr('Local address to bind; default: any address of the remote family, port 0.')),
      remote: optional(sockaddr('The server to talk to.')),
      proto: optional(oneOf(['udp', 'tcp'], 'Transport protocol.')),
      transport: optional(transport('An already-open Transport to use instead of local/remote/proto.')),
    },
    check: (a) => {
      if (a.transport !== undefined) {
        const extra = (['local', 'remote', 'proto'] as const).find((k) => a[k] !== undefined);
        return extra
          ? invalid(`newPeer.${extra}`, 'not allowed together with transport; give one or the other')
          : null;
      }
      if (a.remote === undefined) return invalid('newPeer.remote', 'required unless a transport is given');
      if (a.proto === undefined)
        return invalid('newPeer.proto', 'required unless a transport is given; udp or tcp');
      return sameFamily('newPeer', a.local, a.remote);
    },
  }),
  newKey: command({
    mode: 'any',
    help: 'Install a data-channel key into the primary or secondary slot (NEW_KEY).',
    args: {
      cipher: oneOf(CIPHERS, 'AEAD cipher; NONE is for tests only.'),
      keyId: int(0, 7, 'Key id carried in every data packet header (3 bits).'),
      slot: oneOf(['primary', 'secondary'], 'Primary is used for Tx; load renegotiated keys into secondary.'),
      encrypt: keyDirection('encryption'),
      decrypt: keyDirection('decryption'),
      peerId: optional(
        int(0, 0xffffff, 'Peer id (P2P: as pushed by the server, default 0xFFFFFF; MP: the peer).'),
      ),
    },
    check: (a, mode) => {
      if (mode === 'mp' && a.peerId === undefined) return invalid('newKey.peerId', 'required in mp mode');
      if (mode === 'mp' && a.peerId !== undefined && a.peerId > PEER_ID_MAX) {
        return invalid('newKey.peerId', `expected an integer 0..${PEER_ID_MAX} in mp mode, got ${a.peerId}`);
      }
      return (
        checkKeyLen(a.cipher, a.encrypt.key, 'newKey.encrypt.key') ??
        checkKeyLen(a.cipher, a.decrypt.key, 'newKey.decrypt.key')
      );
    },
  }),
  swapKeys: command({ mode: 'p2p', help: 'Swap the primary and secondary key slots (SWAP_KEYS).', args: {} }),
  setPeer: command({
    mode: 'p2p',
    help: 'Set keepalive and MSS clamping for the P2P peer (SET_PEER).',
    args: keepalive,
  }),
  startVpn: command({
    mode: 'p2p',
    help: 'Mark the link connected and start moving data (START_VPN).',
    args: {},
  }),
  delPeer: command({
    mode: 'any',
    help: 'Stop the VPN: close the socket, flush peers and queued control packets (DEL_PEER).',
    args: {},
  }),
  getStats: command({ mode: 'any', help: 'Device-wide packet and byte counters (GET_STATS).', args: {} }),
  getVersion: command({ mode: 'any', help: 'Engine version {major, minor, patch} (GET_VERSION).', args: {} }),
  setMode: command({
    mode: 'any',
    help: 'Choose P2P (client) or MP (server) mode (SET_MODE); once, before other configuration.',
    args: { mode: oneOf(['p2p', 'mp'], 'p2p: one peer; mp: a server with many peers.') },
  }),
  mpStartVpn: command({
    mode: 'mp',
    help: 'Bind the MP server socket; returns the bound address (MP_START_VPN).',
    args: {
      listen: sockaddr('Address to listen on; port 0 picks a free port.'),
      ipv6Only: optional(bool('With an IPv6 listen address: refuse IPv4-mapped clients.')),
    },
  }),
  mpNewPeer: command({
    mode: 'mp',
    help: 'Add a client peer to the MP server (MP_NEW_PEER).',
    args: {
      local: sockaddr('Local address the client talks to.'),
      remote: sockaddr("The client's transport address."),
      vpnAddr4: optional(ip(4, "The client's IPv4 address inside the tunnel.")),
      vpnAddr6: optional(ip(6, "The client's IPv6 address inside the tunnel.")),
      peerId,
    },
    check: (a) => sameFamily('mpNewPeer', a.local, a.remote),
  }),
  mpSetPeer: command({
    mode: 'mp',
    help: 'Set keepalive and MSS clamping for one MP peer (MP_SET_PEER).',
    args: { peerId, ...keepalive },
  }),
  mpDelPeer: command({ mode: 'mp', help: 'Remove one MP peer (MP_DEL_PEER).', args: { peerId } }),
  mpSwapKeys: command({ mode: 'mp', help: "Swap one MP peer's key slots (MP_SWAP_KEYS).", args: { peerId } }),
  mpAddIroute: command({
    mode: 'mp',
    help: 'Route a subnet behind a client to that peer (MP_ADD_IROUTE).',
    args: iroute(),
    check: (a) => checkNetbits('mpAddIroute', a.addr, a.netbits),
  }),
  mpDelIroute: command({
    mode: 'mp',
    help: 'Remove an iroute (MP_DEL_IROUTE).',
    args: iroute(),
    check: (a) => checkNetbits('mpDelIroute', a.addr, a.netbits),
  }),
  getPeerStats: command({
    mode: 'any',
    help: 'Per-peer link and VPN byte counters (GET_PEER_STATS).',
    args: { peerId: int(-1, PEER_ID_MAX, 'The peer, or -1 for all peers.') },
  }),
  writeControl: command({
    mode: 'any',
    help: 'Send one raw OpenVPN control packet (WriteFile); MP mode needs the peer address.',
    args: {
      data: bytes('base64', 1, CONTROL_PACKET_MAX, 'The control packet, without TCP length prefix.'),
      remote: optional(sockaddr('MP mode: the peer to send to. Not allowed in P2P mode.')),
    },
    check: (a, mode) => {
      if (mode === 'mp' && a.remote === undefined)
        return invalid('writeControl.remote', 'required in mp mode');
      if (mode === 'p2p' && a.remote !== undefined) {
        return invalid('writeControl.remote', 'not allowed in p2p mode (the packet goes to the one peer)');
      }
      return null;
    },
  }),
} as const;

export type CommandName = keyof typeof COMMANDS;
type SpecFields<S> = S extends CommandSpec<infer F> ? F : never;
/** Validated arguments of command C. */
export type CommandArgs<C extends CommandName> = ArgsOf<SpecFields<(typeof COMMANDS)[C]>>;

function iroute() {
  return {
    addr: ip(0, 'Network address of the subnet (IPv4 or IPv6).'),
    netbits: int(0, 128, 'Prefix length: 0..32 for IPv4, 0..128 for IPv6.'),
    peerId,
  } as const;
}

function checkNetbits(cmd: string, addr: string, netbits: number): ControlApiError | null {
  if (addr.includes(':') || netbits <= 32) return null;
  return invalid(`${cmd}.netbits`, `expected an integer 0..32 for an IPv4 addr, got ${netbits}`);
}

function checkKeyLen(cipher: CipherName, key: Uint8Array, field: string): ControlApiError | null {
  const want = CIPHER_KEY_LEN[cipher];
  if (cipher === 'NONE' || key.length === want) return null;
  return invalid(field, `expected ${want} bytes for ${cipher}, got ${key.length}`);
}

function sameFamily(
  cmd: string,
  local: SockAddr | undefined,
  remote: SockAddr | undefined,
): ControlApiError | null {
  if (local === undefined || remote === undefined) return null;
  if (local.address.includes(':') === remote.address.includes(':')) return null;
  return invalid(
    `${cmd}.local`,
    `address family differs from remote (${local.address} vs ${remote.address})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Results, events and control packets (produced by the engine, not validated on input).

export interface OvpnStats {
  lostInControlPackets: number;
  lostOutControlPackets: number;
  lostInDataPackets: number;
  lostOutDataPackets: number;
  receivedDataPackets: number;
  receivedControlPackets: number;
  sentControlPackets: number;
  sentDataPackets: number;
  transportBytesSent: number;
  transportBytesReceived: number;
  tunBytesSent: number;
  tunBytesReceived: number;
}

export interface VersionInfo {
  major: number;
  minor: number;
  patch: number;
}

export interface PeerStats {
  peerId: number;
  linkRxBytes: number;
  linkTxBytes: number;
  vpnRxBytes: number;
  vpnTxBytes: number;
}

/** What each command resolves to (`void` travels as JSON null). */
export interface CommandResults {
  newPeer: void;
  newKey: void;
  swapKeys: void;
  setPeer: void;
  startVpn: void;
  delPeer: void;
  getStats: OvpnStats;
  getVersion: VersionInfo;
  setMode: void;
  mpStartVpn: SockAddr;
  mpNewPeer: void;
  mpSetPeer: void;
  mpDelPeer: void;
  mpSwapKeys: void;
  mpAddIroute: void;
  mpDelIroute: void;
  getPeerStats: PeerStats[];
  writeControl: void;
}
export type CommandResult<C extends CommandName> = CommandResults[C];

export const DEL_PEER_REASONS = [
  'teardown',
  'userspace',
  'expired',
  'transport_error',
  'transport_disconnect',
] as const;
export type DelPeerReason = (typeof DEL_PEER_REASONS)[number];

/** The event stream (NOTIFY_EVENT plus the Linux key notifications). */
export type ControlEvent =
  | { type: 'peerDeleted'; peerId: number; reason: DelPeerReason }
  | { type: 'keyRenewalNeeded'; peerId: number }
  | { type: 'keySwapped'; peerId: number; keyId: number }
  | { type: 'float'; peerId: number; address: SockAddr }
  /** The peer said it is leaving (OCC EXIT inside the data channel). */
  | { type: 'exitNotify'; peerId: number };

/** One raw control packet; `remote` is set in MP mode (the dco sockaddr prefix). */
export interface ControlPacket {
  data: Uint8Array;
  remote?: SockAddr;
}

// ---------------------------------------------------------------------------------------------
// Validation and help, derived from COMMANDS.

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** Validate `raw` as the arguments of `cmd` (field rules, then cross-field rules). */
export function validateArgs<C extends CommandName>(cmd: C, raw: unknown, mode: Mode): CommandArgs<C> {
  const spec = COMMANDS[cmd] as CommandSpec;
  const args = validateFields(spec.args, raw, cmd);
  const problem = spec.check?.(args, mode) ?? null;
  if (problem !== null) throw problem;
  return args as CommandArgs<C>;
}

export function commandMode(cmd: CommandName): CommandMode {
  return COMMANDS[cmd].mode;
}

/** Help for one command: a summary line then one line per field. */
export function commandHelp(cmd: CommandName): string {
  const spec = COMMANDS[cmd] as CommandSpec;
  const mode = spec.mode === 'any' ? 'any mode' : `${spec.mode} mode only`;
  const fields = describeFields(spec.args);
  return [`${cmd} (${mode}): ${spec.help}`, ...(fields.length ? fields : ['  (no arguments)'])].join('\n');
}

/** Help for every command. */
export function helpText(): string {
  return (Object.keys(COMMANDS) as CommandName[]).map(commandHelp).join('\n\n');
}

/** Arguments in JSON wire form (bytes → hex/base64), for clients. */
export function argsToJson(cmd: CommandName, args: unknown): Record<string, unknown> {
  return fieldsToJson((COMMANDS[cmd] as CommandSpec).args, (args ?? {}) as Record<string, unknown>);
}
