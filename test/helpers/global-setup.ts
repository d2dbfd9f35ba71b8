/**
 * Vitest global setup: one private keychain for the whole run. Its environment is put into
 * process.env before the test workers start, so every worker (and every child process a test
 * spawns) talks to it and never to the keychain of the person running the tests.
 */
import { startPrivateKeyring } from './private-keyring.js';

export default async function setup(): Promise<() => void> {
  const keyring = await startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  return () => keyring.stop();
}
