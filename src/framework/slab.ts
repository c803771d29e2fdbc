// Slab registry: every byte a fragment can point at lives in a Uint8Array registered here.
// The virtual-address extension stores (slabId, byte address) per fragment instead of a pointer,
// so a fragment's memory is reached with two array loads and no allocation.
//
// Ownership: the registry never copies or frees a slab; whoever registered it keeps it alive for
// the adapter's life (framework Tx/Rx slabs, a driver's Rx pool, a socket's receive slab).

import { configError } from './errors.js';

/** Slab ids are stored in a Uint16Array, so at most 65535 slabs (id 0 is never used). */
export const MAX_SLABS = 0xffff;

export class SlabRegistry {
  /** Index = slab id. Slot 0 holds an empty slab so a zeroed VA extension reads as "no memory". */
  readonly slabs: Uint8Array[] = [new Uint8Array(0)];

  register(slab: Uint8Array): number {
    if (this.slabs.length >= MAX_SLABS) {
      throw configError(
        'registerSlab',
        `more than ${MAX_SLABS - 1} slabs`,
        'reuse slabs instead of registering per buffer',
      );
    }
    this.slabs.push(slab);
    return this.slabs.length - 1;
  }

  get(slabId: number): Uint8Array {
    const s = this.slabs[slabId];
    if (s === undefined)
      throw configError('slabId', `unknown slab id ${slabId}`, 'use an id returned by registerSlab');
    return s;
  }
}
