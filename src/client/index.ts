// Landmarks: client.ts (OpenVpnClient: control session + engine via the control API),
// net-config.ts (pushed settings -> TUN plan -> `ip`), profile.ts (ClientOptions -> TLS, wrap,
// options string, peer-info), errors.ts (typed failures and user-facing messages),
// credentials.ts (auth-user-pass).
export { OpenVpnClient, mssFor } from './client.js';
export type { ClientEvent, ClientState, ConnectionInfo, OpenVpnClientOptions } from './client.js';
export { ClientError, ClientErrorCode, explainNoReply, explainSessionFailure } from './errors.js';
export { IpNetConfigurator, describePlan, maskToPrefix, planTun } from './net-config.js';
export type { IpRunner, NetConfigurator, PlannedRoute, TunPlan } from './net-config.js';
export { resolveCredentials, ttyPrompt } from './credentials.js';
export type { CredentialPrompt, Credentials } from './credentials.js';
export { buildClientPeerInfo, buildOptions, buildTlsConfig, buildWrap, occProto } from './profile.js';
