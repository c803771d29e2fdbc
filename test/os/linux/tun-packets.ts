// Shared by the TUN helpers: hand-built RxDelivery batches and queue handles.
import { RxDelivery } from '../../../src/os/host.js';
import type { HostQueueHandle } from '../../../src/os/host.js';

/** Packets as fragment lists: [slabIndex, bytes][] each; returns the delivery. */
export function delivery(slabs: Uint8Array[], packets: [number, Uint8Array][][]): RxDelivery {
  const frags = packets.reduce((n, p) => n + p.length, 0);
  const b = new RxDelivery(Math.max(16, packets.length), Math.max(32, frags));
  const used = slabs.map(() => 0);
  let f = 0;
  packets.forEach((frags, p) => {
    b.firstFragment[p] = f;
    b.fragmentCount[p] = frags.length;
    b.length[p] = frags.reduce((n, [, x]) => n + x.length, 0);
    for (const [s, bytes] of frags) {
      slabs[s]!.set(bytes, used[s]!);
      b.fragSlab[f] = s;
      b.fragOffset[f] = used[s]!;
      b.fragLength[f++] = bytes.length;
      used[s]! += bytes.length + 7;
    }
  });
  b.count = packets.length;
  b.fragmentTotal = f;
  b.slabs = slabs;
  return b;
}

export const handle = (direction: 'tx' | 'rx'): HostQueueHandle => ({
  direction,
  queueId: 0,
  notify: () => undefined,
  returnRxBuffers: () => undefined,
});
