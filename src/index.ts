// ovpn-ts public entry point: each layer re-exports its public surface here as it lands.
export const VERSION = { major: 0, minor: 1, patch: 0 } as const;
