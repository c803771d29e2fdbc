// auth-user-pass: from the file/inline block, or asked for (terminal prompt) when missing.
// A pushed auth-token replaces the password for later sessions (openvpn: "auth-token ... used
// for the next reconnects"); AUTH_FAILED,SESSION drops it again.

import { createInterface } from 'node:readline';
import type { AuthUserPass } from '../config/options.js';
import { ClientError, ClientErrorCode } from './errors.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Asks the user for whatever is missing. */
export type CredentialPrompt = (need: { username?: string }) => Promise<Credentials>;

export async function resolveCredentials(
  a: AuthUserPass | undefined,
  prompt: CredentialPrompt | undefined,
): Promise<Credentials | undefined> {
  if (a === undefined) return undefined;
  if (a.source !== 'prompt' && a.username !== undefined && a.password !== undefined) {
    return { username: a.username, password: a.password };
  }
  const known = a.source === 'prompt' ? undefined : a.username;
  if (prompt === undefined) {
    throw new ClientError(
      ClientErrorCode.CREDENTIALS,
      'auth-user-pass: a username/password is needed but there is no terminal to ask: put both lines in a file (auth-user-pass FILE)',
    );
  }
  return prompt(known === undefined ? {} : { username: known });
}

/** Terminal prompt on stdin/stdout; the password is not echoed. Only when stdin is a TTY. */
export function ttyPrompt(): CredentialPrompt | undefined {
  if (process.stdin.isTTY !== true) return undefined;
  return async (need) => {
    const username = need.username ?? (await ask('Enter Auth Username: ', false));
    const password = await ask('Enter Auth Password: ', true);
    return { username, password };
  };
}

function ask(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    if (hidden) {
      const out = rl as unknown as { _writeToOutput: (s: string) => void };
      out._writeToOutput = (s: string) => {
        if (s.includes(question)) process.stdout.write(question);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stdout.write('\n');
      resolve(answer);
    });
  });
}
