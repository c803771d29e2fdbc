// `ovpn-ts up --control-socket PATH` where the socket cannot be made: refused at once (exit 2,
// --control-socket and the path named), never a spin, and the TUN device it made is gone.
// Under /proc, Node's recursive mkdir used to loop forever in one synchronous call.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from '../../src/native/index.js';
import { generateStaticKey } from '../../src/protocol/static-key.js';
import { createTopology, execIn, skipUnless, spawnIn } from '../util/netns.js';
import { cliArgv, tempDir } from '../cli/helpers.js';

const skip = skipUnless('root', 'tun', 'ip') || (loadNative() === null ? 'needs the native addon' : false);

const BAD_PATHS = ['/proc/whatever.sock', '/proc/x/y.sock', '/proc/1/nope/deeper/z.sock', '/dev/null/x.sock'];

test(
  'up: an impossible --control-socket is refused within 2 s and leaves no TUN device',
  { skip },
  async (t) => {
    const dir = tempDir(t);
    const key = join(dir, 'static.key');
    writeFileSync(key, generateStaticKey(), { mode: 0o600 });
    const topo = await createTopology({ prefix: 'ctlsock' });
    t.after(() => topo.destroy());
    for (const path of BAD_PATHS) {
      const started = Date.now();
      const p = spawnIn(topo.a.ns, process.execPath, [
        ...cliArgv().slice(1),
        'up',
        ...['--key', key, '--cipher', 'AES-256-GCM', '--direction', '0'],
        ...['--local', `${topo.a.ipv4}:1194`, '--remote', `${topo.b.ipv4}:1194`],
        ...['--dev', 'ovtbad0', '--ifconfig', '10.79.0.1/24', '--control-socket', path],
      ]);
      // A spinning process would not even answer SIGTERM; kill() ends it with SIGKILL after 1 s.
      const code = await p.waitForExit(5000).catch(async () => {
        await p.kill(1000);
        return 'hung';
      });
      const ms = Date.now() - started;
      assert.equal(code, 2, `${path}: exit ${code} after ${ms} ms; ${p.stdout()}${p.stderr()}`);
      assert.ok(ms < 2000, `${path}: refused after ${ms} ms, want < 2000`);
      assert.match(p.stderr(), /--control-socket/, path);
      assert.ok(p.stderr().includes(path), `${path} named in: ${p.stderr()}`);
      assert.doesNotMatch(p.stdout(), /READY/);
      const link = await execIn(topo.a.ns, 'ip', ['link', 'show', 'ovtbad0']);
      assert.notEqual(link.code, 0, `${path}: TUN device ovtbad0 left behind`);
      t.diagnostic(`${path}: refused in ${ms} ms`);
    }
  },
);
