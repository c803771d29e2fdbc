// Landmarks: schema.ts is the single definition of every command (types, validation, help);
// target.ts has ControlTarget (the engine implements it) and ControlApi (validation + mode gate);
// server.ts / client.ts speak the JSON-lines protocol described in wire.ts over a Unix socket.
export * from './schema.js';
export { ControlApi } from './target.js';
export type { ControlTarget, CommandHandlers } from './target.js';
export { ControlServer, startControlServer } from './server.js';
export type { ControlServerOptions, ControlServerStats } from './server.js';
export { ControlClient } from './client.js';
export { MAX_LINE_BYTES } from './wire.js';
export { describeType, validateField } from './fields.js';
export type { ArgsOf, Field, Fields } from './fields.js';
