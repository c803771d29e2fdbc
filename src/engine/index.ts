// Public surface of the data channel offload engine.
export { Engine } from './engine.js';
export type { EngineOptions, TransportFactory, TransportRequest } from './engine.js';
export { applyStaticKey } from './static-key.js';
export type { StaticKeySetup } from './static-key.js';
export { DropReason, DROP_REASON_NAMES } from './stats.js';
export type { OvpnStats, PeerStatsSnapshot } from './stats.js';
