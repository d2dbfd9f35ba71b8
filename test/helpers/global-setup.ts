/**
 * Vitest global setup: one private keychain for the whole run. Its environment is put into
 * process.env before the test workers start, so every worker (and every child process a test
 * spawns) talks to it and never to the keychain of the person running the tests.
 */
import { startPrivateKeyring } from './private-keyring.js';

export default async function setup(): Promise<() => void> {
  const keyring = await startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  return () => {
    // Said again at the end, where a reader of the run's last lines sees it.
    if (keyring.events.length > 0) {
      process.stderr.write(`\n[private keyring] ${keyring.events.length} unexpected daemon exit(s) during this run:\n${keyring.events.join('\n\n')}\n`);
    }
    keyring.stop();
  };
}
