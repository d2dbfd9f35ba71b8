/**
 * ssh2, loaded on the first SFTP connection: it adds ~17 MiB to the process, which a
 * workstation without SFTP repositories never needs.
 */
export type Ssh2 = typeof import('ssh2');

let loading: Promise<Ssh2> | null = null;

export function ssh2(): Promise<Ssh2> {
  loading ??= import('ssh2');
  return loading;
}
