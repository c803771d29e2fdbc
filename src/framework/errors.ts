// Typed errors of the framework layer. Every error carries a stable `code`; messages name the bad
// field or rule and say how to fix it. Bad network input never lands here (it is dropped and counted).

export type FrameworkErrorCode =
  | 'NETCX_ERR_CONFIG' // bad capability / option value, checked once at the boundary
  | 'NETCX_ERR_STATE' // API called in the wrong life-cycle state
  | 'NETCX_ERR_ITERATOR_SET' // Set() on an iterator without a target (a packet's fragments)
  | 'NETCX_ERR_EXTENSION' // unknown extension name / type mismatch
  | 'NETCX_ERR_VERIFIER'; // a driver broke the §4.8 contract (see VerifierError)

export class FrameworkError extends Error {
  readonly code: FrameworkErrorCode;
  constructor(code: FrameworkErrorCode, message: string) {
    super(message);
    this.name = 'FrameworkError';
    this.code = code;
  }
}

export function configError(field: string, problem: string, fix: string): FrameworkError {
  return new FrameworkError('NETCX_ERR_CONFIG', `${field}: ${problem}; ${fix}`);
}

/** Which ring a verifier finding is about. */
export type VerifierRingName = 'tx-packet' | 'tx-fragment' | 'rx-packet' | 'rx-fragment' | 'queue';

/**
 * Thrown (debug verifier on) when a driver callback broke the ring contract. `rule` is a stable
 * identifier (e.g. `RING_END_INDEX_WRITTEN`), `ring` and `index` locate the offending element.
 */
export class VerifierError extends FrameworkError {
  readonly rule: string;
  readonly ring: VerifierRingName;
  readonly index: number;
  readonly queueId: number;
  constructor(rule: string, ring: VerifierRingName, queueId: number, index: number, detail: string) {
    super(
      'NETCX_ERR_VERIFIER',
      `verifier rule ${rule} broken on ${ring} ring of queue ${queueId} at index ${index}: ${detail}`,
    );
    this.name = 'VerifierError';
    this.rule = rule;
    this.ring = ring;
    this.index = index;
    this.queueId = queueId;
  }
}
