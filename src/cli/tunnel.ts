// A static-key tunnel as `ovpn-ts up` runs it: the pieces and the order they start and stop in.
//
//   1. TunHost.open        the virtual NIC: name, MTU, addresses, routes, link up
//   2. Engine.create       the adapter starts on the TUN host (queues exist before any peer)
//   3. newPeer             udp / tcp-client: the engine opens the transport through
//                          defaultTransportFactory (native batched UDP when the addon loads);
//                          tcp-server: we listen first and hand the transport in
//   4. applyStaticKey      newKey (primary) + setPeer (keepalive) + startVpn
//   5. control socket      the same ControlApi object, so the mode state is shared
//
// Stop is the reverse: control socket (removes its file), engine (transport closed, queues
// drained), TUN fd (the kernel deletes the device and its routes). A failure during start undoes
// whatever had already started.

import { Engine } from '../engine/engine.js';
import { applyStaticKey } from '../engine/static-key.js';
import { createTcpP2pListener, defaultTransportFactory } from '../engine/transport-factory.js';
import { startControlServer, type ControlServer } from '../control-api/server.js';
import { TunHost } from '../os/linux/tun-host.js';
import type { SockAddr } from '../transport/addr.js';
import type { CipherName } from '../crypto/aead.js';
import type { Cidr } from './values.js';
import { ensureSocketDir } from './paths.js';

export type Proto = 'udp' | 'tcp-client' | 'tcp-server';

export interface TunnelConfig {
  readonly keyText: string;
  readonly cipher: CipherName;
  readonly direction: 0 | 1;
  readonly proto: Proto;
  readonly local: SockAddr | undefined;
  /** Absent for tcp-server (whoever connects is the peer). */
  readonly remote: SockAddr | undefined;
  readonly dev: string;
  readonly ifconfig: Cidr;
  readonly ifconfig6: Cidr | undefined;
  readonly routes: readonly Cidr[];
  readonly mtu: number;
  /** TUN TSO/GRO offloads (default: on, unless OVPN_TS_TUN_OFFLOAD=off). */
  readonly tunOffload?: boolean;
  readonly keepalive: { readonly interval: number; readonly timeout: number };
  readonly peerId: number;
  readonly controlSocket: string;
}

export class Tunnel {
  private stopped: Promise<void> | null = null;

  private constructor(
    readonly tun: TunHost,
    readonly engine: Engine,
    readonly server: ControlServer,
  ) {}

  /** `log` reports retries (a tcp-client waiting for its server). */
  static async start(c: TunnelConfig, log: (line: string) => void = () => undefined): Promise<Tunnel> {
    const tun = TunHost.open({
      name: c.dev,
      mtu: c.mtu,
      ipv4: cidrText(c.ifconfig),
      ...(c.ifconfig6 ? { ipv6: cidrText(c.ifconfig6) } : {}),
      routes: c.routes.map(cidrText),
      up: true,
      ...(c.tunOffload !== undefined ? { offload: c.tunOffload } : {}),
    });
    let engine: Engine | null = null;
    try {
      engine = await Engine.create({ host: tun, mtu: c.mtu, transportFactory: defaultTransportFactory() });
      await openPeer(engine, c, log);
      await applyStaticKey(engine.api, {
        keyText: c.keyText,
        cipher: c.cipher,
        direction: c.direction,
        peerId: c.peerId,
        keepaliveInterval: c.keepalive.interval,
        keepaliveTimeout: c.keepalive.timeout,
      });
      ensureSocketDir(c.controlSocket);
      const server = await startControlServer(engine.api, { path: c.controlSocket });
      return new Tunnel(tun, engine, server);
    } catch (e) {
      await engine?.close().catch(() => undefined);
      tun.close();
      throw e;
    }
  }

  /** Stop everything (idempotent). `notifyPeer`: send OpenVPN's exit notification first. */
  stop(notifyPeer: boolean): Promise<void> {
    this.stopped ??= this.doStop(notifyPeer);
    return this.stopped;
  }

  private async doStop(notifyPeer: boolean): Promise<void> {
    await this.server.close();
    if (notifyPeer && this.engine.sendExitNotify() > 0) await new Promise((r) => setTimeout(r, 50));
    try {
      await this.engine.close();
    } finally {
      this.tun.close();
    }
  }
}

/** How long a tcp-client keeps trying to reach a server that is not listening yet. */
const TCP_CONNECT_ATTEMPTS = 30;
const TCP_RETRY_MS = 1000;

async function openPeer(engine: Engine, c: TunnelConfig, log: (line: string) => void): Promise<void> {
  if (c.proto === 'tcp-server') {
    const transport = await createTcpP2pListener({ listen: c.local! });
    try {
      await engine.api.call('newPeer', { transport });
    } catch (e) {
      await transport.close();
      throw e;
    }
    return;
  }
  const args = {
    proto: c.proto === 'udp' ? ('udp' as const) : ('tcp' as const),
    ...(c.local ? { local: c.local } : {}),
    remote: c.remote!,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await engine.api.call('newPeer', args);
      return;
    } catch (e) {
      if (c.proto !== 'tcp-client' || attempt >= TCP_CONNECT_ATTEMPTS) throw e;
      if (attempt === 1) log(`${(e as Error).message}; retrying for up to ${TCP_CONNECT_ATTEMPTS} s`);
      await new Promise((r) => setTimeout(r, TCP_RETRY_MS));
    }
  }
}

export function cidrText(c: Cidr): string {
  return `${c.address}/${c.prefix}`;
}
