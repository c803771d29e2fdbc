// Shared gate for tests of the addon: skip with a clear message when it is not built, except in CI
// (CI=true), where a missing addon is a failure.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { loadNative, nativeLoadError } from '../../src/native/index.js';
import type { NativeAddon } from '../../src/native/index.js';

/** The addon, or null after marking `t` skipped. Fails `t` in CI when the addon is missing. */
export function requireNative(t: TestContext): NativeAddon | null {
  const native = optionalNative(t);
  if (native === null) t.skip(missing());
  return native;
}

/**
 * For tests that also cover a fallback: the addon, or null with a diagnostic line (the test still
 * runs and reports its fallback part). Fails `t` in CI when the addon is missing.
 */
export function optionalNative(t: TestContext): NativeAddon | null {
  const native = loadNative();
  if (native !== null) return native;
  if (process.env['CI'] === 'true') {
    assert.fail(`native addon is required in CI (CI=true) but ${nativeLoadError()}`);
  }
  t.diagnostic(`${missing()}; only the node:crypto part ran`);
  return null;
}

function missing(): string {
  return `native addon not available (${nativeLoadError()}); build it with \`npm run install\``;
}
