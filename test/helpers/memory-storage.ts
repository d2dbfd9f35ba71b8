/**
 * A Storage with no folder behind it: objects in a Map, as an object store keeps them (no
 * folders, no local paths, no staging of its own). A repository on it proves that the engine
 * reaches the repository only through the Storage: there is nothing else to reach. It counts
 * every call, and can be told to fail writes (as a server that goes away mid-backup).
 */
import { readFileSync } from 'node:fs';
import { StorageError, type Storage, type StorageObject, type StagedFile } from '../../src-main/core/backup/engine/storage/storage.js';

export type StorageCall = 'prepare' | 'stat' | 'list' | 'read' | 'readRange' | 'write' | 'replace' | 'delete' | 'close';

export class MemoryStorage implements Storage {
  readonly kind = 's3' as const;
  readonly appendOnly = false;
  readonly location = 'memory://test';
  readonly objects = new Map<string, Buffer>();
  readonly calls: { call: StorageCall; name: string }[] = [];
  /** Writes for which this answers true fail (after nothing is stored), as an unreachable server's. */
  failWrite: ((name: string) => boolean) | null = null;

  private note(call: StorageCall, name = ''): void {
    this.calls.push({ call, name });
  }

  /** How many calls of this kind touched names starting with `prefix`. */
  count(call: StorageCall, prefix = ''): number {
    return this.calls.filter((c) => c.call === call && c.name.startsWith(prefix)).length;
  }

  async prepare(): Promise<void> {
    this.note('prepare');
  }

  async stat(name: string): Promise<StorageObject | null> {
    this.note('stat', name);
    const o = this.objects.get(name);
    return o ? { name, size: o.length } : null;
  }

  async list(dir: string): Promise<StorageObject[]> {
    this.note('list', dir);
    const prefix = dir === '' ? '' : `${dir}/`;
    return [...this.objects].filter(([name]) => name.startsWith(prefix)).map(([name, o]) => ({ name, size: o.length }));
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    this.note(range ? 'readRange' : 'read', name);
    const o = this.objects.get(name);
    if (!o) throw new StorageError('NOT_FOUND', name);
    return Buffer.from(range ? o.subarray(range.offset, range.offset + range.length) : o);
  }

  async write(name: string, data: Buffer | StagedFile): Promise<void> {
    this.note('write', name);
    if (this.failWrite?.(name)) throw new StorageError('UNREACHABLE', `${name}: connection reset`);
    const bytes = Buffer.isBuffer(data) ? Buffer.from(data) : readFileSync(data.file);
    const there = this.objects.get(name);
    if (there) {
      if (there.length === bytes.length) return;
      throw new StorageError('FAILED', `${name} exists already with another size`);
    }
    this.objects.set(name, bytes);
  }

  async replace(name: string, data: Buffer): Promise<void> {
    this.note('replace', name);
    this.objects.set(name, Buffer.from(data));
  }

  async delete(name: string): Promise<void> {
    this.note('delete', name);
    this.objects.delete(name);
  }

  async close(): Promise<void> {
    this.note('close');
  }
}
