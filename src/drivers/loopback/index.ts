// Loopback sample client driver: Tx frames come back as Rx packets (see driver.ts).
export { LoopbackDriver, Wire } from './driver.js';
export type { LoopbackOptions } from './driver.js';
export { LoopbackRx } from './rx.js';
export { LoopbackTx } from './tx.js';
