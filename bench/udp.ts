// UDP transports side by side on loopback: node:dgram (udp.ts) vs the native addon
// (native-udp.ts: recvmmsg/sendmmsg, optionally GSO/GRO). 1400-byte datagrams, sender and
// receiver transports in this one process.
//
// Method: a closed loop. The sender keeps at most WINDOW datagrams between "sent" and "received"
// (it reads the receiver's count directly), so the kernel never drops and both sides are measured
// at the rate the pair sustains together. The sender is woken by the receiver and by onWritable,
// never by a spinning timer, so idle time costs no CPU. CPU is process.cpuUsage (user + system,
// all threads) over the cell divided by datagrams received: it includes both transports and the
// kernel's loopback path (which is charged to the sending syscall).
//
// Run: npx tsx bench/udp.ts   or, after tsc:  node dist/bench/udp.js   (about 20 s)
import { createUdpTransport } from '../src/transport/udp.js';
import { createNativeUdpTransport } from '../src/transport/native-udp.js';
import type { SockAddr } from '../src/transport/addr.js';
import type { Transport, TxBatch } from '../src/transport/types.js';
import { loadNative } from '../src/native/index.js';

const SIZE = 1400;
const BATCH = 64;
const WINDOW = 1024;
const WARMUP_MS = 300;
const CELL_MS = 3000;
const HOST = '127.0.0.1';
const BUF = 4 << 20;

type Kind = 'dgram' | 'native' | 'native-gso' | 'native-gro';

interface Endpoint {
  t: Transport;
  addr: SockAddr;
  setRemote(a: SockAddr): void;
}

async function open(kind: Kind): Promise<Endpoint> {
  const bind = { address: HOST, port: 0 };
  const common = { bind, recvBufferSize: BUF, sendBufferSize: BUF, maxInFlight: 512 };
  if (kind === 'dgram') {
    const t = await createUdpTransport({ ...common, rxSlotCount: 1024 });
    return { t, addr: t.localAddress(), setRemote: (a) => t.setRemote(a) };
  }
  const t = createNativeUdpTransport({
    ...common,
    ...(kind === 'native-gro' ? { gro: true, rxSlotSize: 65536, rxSlotCount: 64 } : { rxSlotCount: 1024 }),
    gso: kind === 'native-gso',
  });
  return { t, addr: t.localAddress(), setRemote: (a) => t.setRemote(a) };
}

function batch(): TxBatch {
  const slab = new Uint8Array(BATCH * SIZE).fill(0x5a);
  const offsets = new Uint32Array(BATCH).map((_, i) => i * SIZE);
  const lengths = new Uint32Array(BATCH).fill(SIZE);
  return { count: BATCH, slab, offsets, lengths, tokens: new Uint32Array(BATCH), addrs: null };
}

interface Result {
  pps: number;
  cpuUs: number;
}

async function cell(txKind: Kind, rxKind: Kind): Promise<Result> {
  const rx = await open(rxKind);
  const tx = await open(txKind);
  tx.setRemote(rx.addr);
  const b = batch();
  let sent = 0;
  let received = 0;
  let running = true;
  let scheduled = false;
  const pump = (): void => {
    scheduled = false;
    // A few batches per turn, then let the receiver read (same thread).
    for (let k = 0; k < 4 && running && sent - received <= WINDOW - BATCH; k++) {
      const n = tx.t.send(b);
      sent += n;
      if (n < BATCH) return; // onWritable kicks again
    }
    if (running && sent - received <= WINDOW - BATCH) kick();
  };
  const kick = (): void => {
    if (scheduled || !running) return;
    scheduled = true;
    setImmediate(pump);
  };
  rx.t.onReceive((rb) => {
    received += rb.count;
    for (let i = 0; i < rb.count; i++) rx.t.release(rb.slots[i]!);
    kick();
  });
  tx.t.onWritable(kick);
  kick();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const r0 = received;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, CELL_MS));
  const got = received - r0;
  const cpu = process.cpuUsage(c0);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  running = false;
  await tx.t.close();
  await rx.t.close();
  return { pps: got / secs, cpuUs: (cpu.user + cpu.system) / Math.max(got, 1) };
}

async function main(): Promise<void> {
  const native = loadNative();
  const cells: [string, Kind, Kind][] = [['dgram → dgram', 'dgram', 'dgram']];
  if (native !== null) {
    cells.push(['native → native', 'native', 'native']);
    cells.push(['dgram → native', 'dgram', 'native']);
    cells.push(['native → dgram', 'native', 'dgram']);
    const caps = native.caps();
    if (caps.udpGso && caps.udpGro) cells.push(['native GSO → native GRO', 'native-gso', 'native-gro']);
  } else {
    console.log('native addon not built: only the dgram row (build: node scripts/build-native.mjs)');
  }
  console.log(
    `UDP loopback, ${SIZE}-byte datagrams, batches of ${BATCH}, window ${WINDOW}, ${CELL_MS / 1000} s per row`,
  );
  const rows: [string, Result][] = [];
  for (const [name, t, r] of cells) rows.push([name, await cell(t, r)]);
  const base = rows[0]![1];
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(
    `${pad('sender → receiver', 26)}${pad('datagrams/s', 14)}${pad('CPU µs/dgram', 14)}rate ×  CPU ×`,
  );
  for (const [name, res] of rows) {
    const rate = (res.pps / base.pps).toFixed(2);
    const cpu = (base.cpuUs / res.cpuUs).toFixed(2);
    const pps = Math.round(res.pps).toLocaleString('en-US');
    console.log(`${pad(name, 26)}${pad(pps, 14)}${pad(res.cpuUs.toFixed(2), 14)}${pad(rate, 7)}${cpu}`);
  }
  console.log(
    'rate × = datagrams/s relative to dgram → dgram; CPU × = how many times less CPU per datagram.',
  );
  console.log('CPU covers both ends and the kernel loopback path (one process).');
}

await main();
