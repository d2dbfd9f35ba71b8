/**
 * What the backup services need of the vault: a key derived from the vault key alone, to wrap
 * repository master keys so that scheduled backups run while the app is locked
 * (docs/security.md, "The backups"). The composition root hands the gate's vault in; the
 * backup services never import the gate.
 */
export interface RepositoryKeySource {
  /** HKDF of the vault key for `label`; the same label always gives the same key. */
  derivedKey(label: string): Promise<Buffer>;
}
