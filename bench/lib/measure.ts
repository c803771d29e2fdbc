// The four figures of the tunnel bench, each measured with a stock tool inside the namespaces:
//
//   tcp1 / tcp4  iperf3 -c SERVER -t T -O 1 -J [-P 4]    -> receiver Gbit/s (end.sum_received)
//   udpPps       iperf3 -c SERVER -u -l 100 -b 0 -t T -J -> packets the server got per second,
//                                                           and the loss % it saw
//   rttColdMs    ping -c 20 -i 0.05 -q SERVER, first, on the fresh tunnel -> avg of "rtt min/avg/..."
//   rttMs        the same after the throughput runs (a JIT-compiled data path for ovpn-ts: its
//                first packets run in V8's interpreter/baseline tiers, ~3x slower per packet)
//
// A failed or timed-out tool gives null for its figure (with the reason in `errors`), so one
// broken contender never ends the whole run.
import { readFileSync } from 'node:fs';
import { execIn } from '../../test/util/netns.js';

export interface Figures {
  tcp1Gbps: number | null;
  tcp4Gbps: number | null;
  udpPps: number | null;
  udpLossPct: number | null;
  rttMs: number | null;
  rttColdMs: number | null;
  /** TCP retransmits of the single-stream run (sender side), a hint of tunnel drops. */
  tcp1Retrans: number | null;
  /**
   * CPU seconds (user + system) the contender's own processes spent per Gbit carried in the
   * single-stream run: robust against other load on a shared machine, unlike Gbit/s. Kernel work
   * done inside their syscalls (UDP/TUN stack traversals, usually including the receive softirq)
   * counts; softirq work the kernel happens to run in other contexts does not.
   */
  tcp1CpuPerGbit: number | null;
  errors: string[];
}

export interface MeasureOptions {
  /** Namespace running the clients (iperf3 -c, ping). */
  clientNs: string;
  /** Address of the iperf3 server / ping target (reached through the contender). */
  server: string;
  port: number;
  tcpSeconds: number;
  udpSeconds: number;
  udpLen: number;
  pings: number;
  /** PIDs whose CPU time is charged to the contender (none for the bare veth). */
  pids: number[];
}

interface IperfTcpEnd {
  sum_received?: { bits_per_second: number };
  sum_sent?: { retransmits?: number };
}
interface IperfUdpEnd {
  sum?: { packets?: number; lost_packets?: number; lost_percent?: number; seconds?: number };
  sum_received?: { packets?: number; lost_packets?: number; lost_percent?: number; seconds?: number };
}
interface IperfJson {
  error?: string;
  end?: IperfTcpEnd & IperfUdpEnd;
}

async function iperf(o: MeasureOptions, extra: string[], seconds: number): Promise<IperfJson> {
  const args = ['-c', o.server, '-p', String(o.port), '-t', String(seconds), '-J', ...extra];
  const r = await execIn(o.clientNs, 'iperf3', args, (seconds + 15) * 1000);
  let j: IperfJson;
  try {
    j = JSON.parse(r.stdout) as IperfJson;
  } catch {
    throw new Error(`iperf3 ${extra.join(' ')}: no JSON (exit ${r.code}) ${r.stderr.trim().slice(0, 200)}`);
  }
  if (j.error !== undefined) throw new Error(`iperf3 ${extra.join(' ')}: ${j.error}`);
  return j;
}

async function tcp(o: MeasureOptions, streams: number): Promise<{ gbps: number; retrans: number | null }> {
  const j = await iperf(o, ['-O', '1', ...(streams > 1 ? ['-P', String(streams)] : [])], o.tcpSeconds);
  const bps = j.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error('iperf3 tcp: no end.sum_received in the report');
  return { gbps: bps / 1e9, retrans: j.end?.sum_sent?.retransmits ?? null };
}

async function udp(o: MeasureOptions): Promise<{ pps: number; loss: number }> {
  const j = await iperf(o, ['-u', '-l', String(o.udpLen), '-b', '0'], o.udpSeconds);
  // iperf3 3.12 puts the server's view (packets, lost) in end.sum; newer ones in sum_received.
  const s = j.end?.sum_received ?? j.end?.sum;
  if (s?.packets === undefined || s.lost_packets === undefined || !s.seconds)
    throw new Error('iperf3 udp: no packet counts in the report');
  return { pps: (s.packets - s.lost_packets) / s.seconds, loss: s.lost_percent ?? 0 };
}

async function ping(o: MeasureOptions): Promise<number> {
  const r = await execIn(o.clientNs, 'ping', [
    '-c',
    String(o.pings),
    '-i',
    '0.05',
    '-W',
    '1',
    '-q',
    o.server,
  ]);
  const m = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(r.stdout);
  if (m === null) throw new Error(`ping: no rtt line (exit ${r.code}) ${r.stdout.trim().slice(-200)}`);
  return Number(m[1]);
}

/** Runs the figures in order (cold ping, TCP 1, TCP 4, UDP, warm ping); failures: null + error. */
export async function measureAll(o: MeasureOptions): Promise<Figures> {
  const f: Figures = {
    tcp1Gbps: null,
    tcp4Gbps: null,
    udpPps: null,
    udpLossPct: null,
    rttMs: null,
    rttColdMs: null,
    tcp1Retrans: null,
    tcp1CpuPerGbit: null,
    errors: [],
  };
  const attempt = async (what: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (e) {
      f.errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  await attempt('ping (cold)', async () => void (f.rttColdMs = await ping(o)));
  await attempt('tcp1', async () => {
    const cpu0 = cpuSeconds(o.pids);
    const r = await tcp(o, 1);
    const cpu = cpuSeconds(o.pids) - cpu0;
    f.tcp1Gbps = r.gbps;
    f.tcp1Retrans = r.retrans;
    // -O 1 omits the first second from the rate, not from the CPU: charge T+1 seconds of traffic.
    if (o.pids.length > 0 && r.gbps > 0) f.tcp1CpuPerGbit = cpu / (r.gbps * (o.tcpSeconds + 1));
  });
  await attempt('tcp4', async () => void (f.tcp4Gbps = (await tcp(o, 4)).gbps));
  await attempt('udp', async () => {
    const r = await udp(o);
    f.udpPps = r.pps;
    f.udpLossPct = r.loss;
  });
  await attempt('ping', async () => void (f.rttMs = await ping(o)));
  return f;
}

/** utime + stime of the processes (/proc/PID/stat fields 14 and 15), in seconds. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited: its time is lost, the figure is then an underestimate
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** Only the single-stream TCP figure (profile runs). */
export async function measureTcp1(o: MeasureOptions): Promise<number> {
  return (await tcp(o, 1)).gbps;
}
