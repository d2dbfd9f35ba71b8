/**
 * The local copies of a remote repository's packs (engine/local-staging.ts), on a real staging
 * folder: each pack is fetched once however many ask at once; a pack released by all that read
 * it is kept while fewer than KEEP_STAGED packs are staged and removed, oldest first, as room is
 * needed; a pack in use is never removed; one asked for again after removal is fetched again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEEP_STAGED, LocalStaging } from '../../src-main/core/backup/engine/local-staging.js';
import { packName } from '../../src-main/core/backup/engine/storage/storage.js';
import { MemoryStorage } from '../helpers/memory-storage.js';

let storage: MemoryStorage;
let staging: LocalStaging;
const ids: string[] = [];

beforeEach(async () => {
  storage = new MemoryStorage();
  staging = new LocalStaging(storage);
  ids.length = 0;
  for (let i = 0; i < KEEP_STAGED + 6; i++) {
    const bytes = Buffer.from(`pack ${i}`);
    const id = createHash('sha256').update(bytes).digest('hex');
    ids.push(id);
    await storage.write(packName(id), bytes);
  }
});
afterEach(() => staging.close());

const stagedFiles = () => readdirSync(staging.dir()).length;
const fetches = (id: string) => storage.calls.filter((c) => c.name === packName(id) && c.call === 'read').length;

describe('the local copies of remote packs', () => {
  it('fetches a pack once for everyone who asks at once, into a file of its bytes', async () => {
    const [a, b] = await Promise.all([staging.pack(ids[0]!), staging.pack(ids[0]!)]);
    expect(a).toBe(b);
    expect(readFileSync(a, 'utf8')).toBe('pack 0');
    expect(fetches(ids[0]!)).toBe(1);
    expect(staging.staged).toBe(1);
  });

  it('keeps released packs up to KEEP_STAGED in all, removing the oldest released first, and never one in use', async () => {
    const inUse = await staging.pack(ids[0]!);
    for (const id of ids.slice(1)) {
      await staging.pack(id);
      staging.release(id);
      expect(stagedFiles()).toBeLessThanOrEqual(KEEP_STAGED);
    }
    expect(existsSync(inUse)).toBe(true);
    expect(staging.staged).toBe(1);
    // The oldest released went; the latest are kept and given again without a fetch.
    expect(existsSync(await staging.pack(ids.at(-1)!))).toBe(true);
    expect(fetches(ids.at(-1)!)).toBe(1);
    const again = await staging.pack(ids[1]!);
    expect(readFileSync(again, 'utf8')).toBe('pack 1');
    expect(fetches(ids[1]!)).toBe(2);
  });

  it('keeps a released pack that is asked for again out of the removals', async () => {
    await staging.pack(ids[1]!);
    staging.release(ids[1]!);
    const back = await staging.pack(ids[1]!);
    for (const id of ids.slice(2)) {
      await staging.pack(id);
      staging.release(id);
    }
    expect(existsSync(back)).toBe(true);
    expect(fetches(ids[1]!)).toBe(1);
  });

  it('removes everything staged when closed', async () => {
    await staging.pack(ids[0]!);
    const dir = staging.dir();
    staging.close();
    expect(existsSync(dir)).toBe(false);
  });
});
