// Child process for the control-socket fault tests: an engine pair (makePair, in memory) whose
// engine A serves a control socket at argv[2]. The parent asks over IPC for memory figures
// (after a full GC) and the server's drop counters, so memory is measured where the engine runs.
//
//   node --expose-gc control-engine-child.js SOCK [stallMs]   → sends {ready:true} when listening
//   parent: {cmd:'mem'} → {rss, heap, external, clients, unsent, stats}; {cmd:'exit'}

import { startControlServer } from '../../src/control-api/server.js';
import { makePair } from '../engine/helpers.js';

const sock = process.argv[2]!;
const stallMs = Number(process.argv[3] ?? 3000);
const pair = await makePair();
const drops: string[] = [];
const server = await startControlServer(pair.a.api, {
  path: sock,
  stallMs,
  log: (l) => void (drops.length < 100 && drops.push(l)),
});
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'mem') {
    gc?.();
    gc?.();
    const u = process.memoryUsage();
    process.send!({
      rss: u.rss,
      heap: u.heapUsed,
      external: u.external,
      clients: server.clientCount,
      unsent: server.unsentBytes,
      stats: server.stats,
      drops,
    });
  } else if (m.cmd === 'exit') {
    void server
      .close()
      .then(() => pair.close())
      .then(() => process.exit(0));
  }
});
process.send!({ ready: true });
