// Builds the native addon (native/, binding.gyp) with node-gyp against the installed Node headers.
// A failed build is not fatal for `npm ci`: ovpn-ts then falls back to node:crypto and Node's own
// sockets (slow, and without TUN). Set OVPN_TS_REQUIRE_NATIVE=1 (CI does) to make it fatal.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('binding.gyp')) process.exit(0);

const nodeGyp = process.env.npm_config_node_gyp;
const args = ['rebuild'];
// Without a nodedir node-gyp tries to download headers, which fails offline; Debian's nodejs
// package puts them under /usr/include/node.
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h'))
  args.push('--nodedir=/usr');
const r = nodeGyp
  ? spawnSync(process.execPath, [nodeGyp, ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit', shell: true });
if (r.status !== 0) {
  const msg =
    'ovpn-ts: the native addon did not build; falling back to node:crypto and dgram (slow, no TUN).';
  if (process.env.OVPN_TS_REQUIRE_NATIVE === '1') {
    console.error(`${msg} OVPN_TS_REQUIRE_NATIVE=1, so this is an error.`);
    process.exit(1);
  }
  console.warn(msg);
}
