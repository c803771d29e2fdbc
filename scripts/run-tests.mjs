// Runs every compiled test file (dist/test/**/*.test.js) under node:test.
// Arguments filter by substring of the path: `node scripts/run-tests.mjs framework engine`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist/test', []).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
// Bounds, so a stuck test fails the run instead of holding CI: 5 min per test, and 40 min for the
// whole run (a file whose tests pass but that never exits, a leaked socket or timer, ends there).
const RUN_LIMIT_MS = 40 * 60_000;
const r = spawnSync(process.execPath, ['--test', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
  timeout: RUN_LIMIT_MS,
  killSignal: 'SIGKILL',
});
if (r.error !== undefined && r.signal === 'SIGKILL') {
  console.error(
    `run-tests: not finished after ${RUN_LIMIT_MS / 60_000} min; killed (a test file did not exit)`,
  );
}
process.exit(r.status ?? 1);
