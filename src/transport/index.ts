// Landmarks: types.ts is the contract (read it first); slots.ts holds the shared slot pool,
// batcher and completion ring; memory.ts / udp.ts / tcp.ts implement it; tcp-framing.ts is the
// 2-byte length reassembler; addr.ts is the 20-byte address record.
export * from './types.js';
export * from './addr.js';
export { RxSlotPool, RxBatcher, TxCompletionRing } from './slots.js';
export { MemoryTransport, createMemoryPair, seededRandom } from './memory.js';
export type { Impairments, MemoryPairOptions } from './memory.js';
export { UdpTransport, createUdpTransport } from './udp.js';
export type { UdpOptions } from './udp.js';
export { TcpTransport, createTcpClient, createTcpServer, TCP_HEADROOM } from './tcp.js';
export type { TcpOptions, TcpClientOptions, TcpServerOptions } from './tcp.js';
export { FrameReassembler, FEED_BAD_LENGTH } from './tcp-framing.js';
export { MemoryNetwork, MemoryNetworkEndpoint, createMemoryNetwork } from './memory-network.js';
export type { MemoryNetworkOptions, MemoryEndpointOptions } from './memory-network.js';
export { NativeUdpTransport, createNativeUdpTransport } from './native-udp.js';
export type { NativeUdpOptions, NativeUdpCounters } from './native-udp.js';
