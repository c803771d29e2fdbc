// Small traffic tools the demo runs inside its namespaces when iperf3 / ping are not installed
// (`ovpn-ts _tool NAME ...`, not listed in the help). Each prints one JSON line with its result.
//
//   sink  --listen A:P [--timeout S]     TCP: accept one connection, count bytes until it ends
//   blast --to A:P --seconds N           TCP: write as fast as the connection takes for N s
//   echo  --listen A:P                   UDP: send every datagram back (until killed)
//   ping  --to A:P [--count N]           UDP: N probes 200 ms apart, round-trip times
//
// All of them are bounded in time, so a lost peer never leaves one running forever.

import { createSocket } from 'node:dgram';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, type Io } from '../io.js';
import { parseHostPort, parseIntIn } from '../values.js';

export interface TransferResult {
  bytes: number;
  ms: number;
}

export interface PingResult {
  sent: number;
  received: number;
  rttAvgMs: number;
}

const CHUNK = 64 * 1024;

export async function runTool(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      listen: { type: 'string' },
      to: { type: 'string' },
      seconds: { type: 'string' },
      count: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const timeoutS = parseIntIn('--timeout', values.timeout ?? '60', 1, 3600);
  try {
    switch (name) {
      case 'sink':
        io.out(`${JSON.stringify(await sink(addr('--listen', values.listen), timeoutS, io))}\n`);
        return EXIT_OK;
      case 'blast': {
        const secs = parseIntIn('--seconds', values.seconds ?? '5', 1, 600);
        io.out(`${JSON.stringify(await blast(addr('--to', values.to), secs))}\n`);
        return EXIT_OK;
      }
      case 'echo':
        await echo(addr('--listen', values.listen), timeoutS, io);
        return EXIT_OK;
      case 'ping': {
        const count = parseIntIn('--count', values.count ?? '3', 1, 100);
        io.out(`${JSON.stringify(await udpPing(addr('--to', values.to), count))}\n`);
        return EXIT_OK;
      }
      default:
        io.err(`ovpn-ts _tool: unknown tool "${name ?? ''}" (sink, blast, echo, ping)\n`);
        return EXIT_USAGE;
    }
  } catch (e) {
    io.err(`ovpn-ts _tool ${name ?? ''}: ${(e as Error).message}\n`);
    return EXIT_FAIL;
  }
}

function addr(option: string, text: string | undefined): { address: string; port: number } {
  return parseHostPort(option, text ?? '', false);
}

function sink(at: { address: string; port: number }, timeoutS: number, io: Io): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      server.close();
      let bytes = 0;
      let first = 0;
      sock.on('data', (b: Buffer) => {
        if (bytes === 0) first = Date.now();
        bytes += b.length;
      });
      sock.on('error', () => undefined);
      sock.on('close', () => finish(() => resolve({ bytes, ms: bytes === 0 ? 0 : Date.now() - first })));
    });
    const timer = setTimeout(
      () => finish(() => reject(new Error(`nothing finished within ${timeoutS} s`))),
      timeoutS * 1000,
    );
    const finish = (f: () => void): void => {
      clearTimeout(timer);
      server.close();
      f();
    };
    server.on('error', (e) => finish(() => reject(e)));
    server.listen(at.port, at.address, () => io.out('LISTENING\n'));
  });
}

function blast(to: { address: string; port: number }, seconds: number): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(CHUNK, 0x5a);
    const sock = net.connect(to.port, to.address);
    let bytes = 0;
    let start = 0;
    let ended = false;
    const pump = (): void => {
      while (!ended) {
        if (Date.now() - start >= seconds * 1000) {
          ended = true;
          sock.end();
          return;
        }
        bytes += CHUNK;
        if (!sock.write(chunk)) return; // resume on 'drain'
      }
    };
    sock.setTimeout((seconds + 20) * 1000, () => sock.destroy(new Error('connection stalled')));
    sock.on('connect', () => {
      start = Date.now();
      pump();
    });
    sock.on('drain', pump);
    sock.on('error', reject);
    sock.on('close', () => resolve({ bytes, ms: Date.now() - start }));
  });
}

function echo(at: { address: string; port: number }, timeoutS: number, io: Io): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket(at.address.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
    s.on('error', reject);
    s.bind(at.port, at.address, () => io.out('LISTENING\n'));
    setTimeout(() => s.close(() => resolve()), timeoutS * 1000).unref();
    s.on('close', () => resolve());
  });
}

function udpPing(to: { address: string; port: number }, count: number): Promise<PingResult> {
  return new Promise((resolve) => {
    const s = createSocket(to.address.includes(':') ? 'udp6' : 'udp4');
    const sentAt = new Map<number, number>();
    let received = 0;
    let rttSum = 0;
    s.on('message', (msg) => {
      const t = sentAt.get(msg.readUInt32BE(0));
      if (t === undefined) return;
      sentAt.delete(msg.readUInt32BE(0));
      received++;
      rttSum += performance.now() - t;
    });
    s.on('error', () => undefined);
    let seq = 0;
    const send = (): void => {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(seq);
      sentAt.set(seq++, performance.now());
      s.send(b, to.port, to.address);
      if (seq < count) setTimeout(send, 200);
      else setTimeout(done, 2000);
    };
    const done = (): void => {
      s.close();
      resolve({ sent: count, received, rttAvgMs: received === 0 ? 0 : rttSum / received });
    };
    send();
  });
}
