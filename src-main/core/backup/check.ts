/**
 * Check a repository. Always: every index file opens, every indexed pack exists and its header
 * agrees with the index, every snapshot opens and every tree it reaches decrypts and matches
 * its id, and every chunk a file needs is indexed. On request: every byte of all packs (or of a
 * random subset), re-hashed and decrypted in the worker pool. The report names damaged packs,
 * and the snapshots and files that lose data because of them.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Progress } from './backup.js';
import { blobKey, MasterIndex } from './index.js';
import { WorkerPool } from './pool.js';
import type { Repository } from './repository.js';
import type { SnapshotWithId } from './snapshot.js';
import type { Tree } from './tree.js';

export type ReadData = { kind: 'none' } | { kind: 'all' } | { kind: 'subset'; percent: number };

export interface CheckOptions {
  readData: ReadData;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  threads?: number;
}

export interface CheckProblem {
  kind: 'index' | 'pack' | 'snapshot' | 'tree' | 'data';
  id: string | null;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  snapshots: number;
  packs: number;
  blobs: number;
  packsRead: number;
  /** Packs no index lists: left by an interrupted backup; harmless, reused or pruned later. */
  unindexedPacks: string[];
  problems: CheckProblem[];
  damagedPacks: string[];
  damagedSnapshots: { id: string; time: string; files: string[] }[];
}

const MAX_FILES_NAMED = 100;

export async function check(repo: Repository, options: CheckOptions): Promise<CheckReport> {
  const problems: CheckProblem[] = [];
  const damagedPacks = new Set<string>();
  /** Blobs in damaged packs, as `blobKey` names them. */
  const badBlobs = new Set<string>();
  const cancelled = () => options.signal?.aborted === true;

  // Index files, one by one, so one damaged file does not hide the others.
  const index = new MasterIndex();
  for (const id of await repo.list('index')) {
    try {
      index.addFile(await repo.loadIndexFile(id));
    } catch (e) {
      problems.push({ kind: 'index', id, message: messageOf(e, 'Index file cannot be read.') });
    }
  }

  // Packs: present, and their headers agree with the index.
  const onDisk = await repo.listPacks();
  const unindexedPacks = [...onDisk.keys()].filter((p) => !index.hasPack(p));
  for (const packId of index.packIds()) {
    const blobs = index.blobsOfPack(packId);
    if (!onDisk.has(packId)) {
      problems.push({ kind: 'pack', id: packId, message: `Pack ${packId.slice(0, 12)} is missing.` });
      damagedPacks.add(packId);
      for (const b of blobs) if (index.get(b.id, b.type)?.pack === packId) badBlobs.add(blobKey(b));
      continue;
    }
    try {
      const header = await repo.readPackHeader(packId);
      const listed = new Set(blobs.map(blobKey));
      const agrees =
        header.length === blobs.length &&
        header.every((e) => {
          const loc = index.get(e.id, e.type);
          return listed.has(blobKey(e)) && (loc?.pack !== packId || (loc.offset === e.offset && loc.length === e.length));
        });
      if (!agrees) throw new Error('header does not match the index');
    } catch (e) {
      problems.push({ kind: 'pack', id: packId, message: `Pack ${packId.slice(0, 12)}: ${messageOf(e, 'its header is damaged.')}` });
      damagedPacks.add(packId);
      for (const b of blobs) if (index.get(b.id, b.type)?.pack === packId) badBlobs.add(blobKey(b));
    }
  }

  // Every byte, or a random subset of packs.
  let packsRead = 0;
  const toRead = choosePacks(index.packIds().filter((p) => onDisk.has(p) && !damagedPacks.has(p)), options.readData);
  if (toRead.length > 0) {
    const pool = new WorkerPool(repo, options.threads);
    const bytesTotal = toRead.reduce((a, p) => a + (onDisk.get(p) ?? 0), 0);
    let bytesDone = 0;
    const started = Date.now();
    try {
      const inFlight = new Set<Promise<void>>();
      for (const packId of toRead) {
        if (cancelled()) break;
        while (inFlight.size >= pool.threads * 2) await Promise.race(inFlight);
        const blobs = index.blobsOfPack(packId).flatMap(({ id, type }) => {
          const loc = index.get(id, type);
          return loc && loc.pack === packId ? [{ id, ...loc }] : [];
        });
        const p = pool.verify({ kind: 'verify', path: repo.packPath(packId), packId, blobs }).then((r) => {
          packsRead++;
          bytesDone += onDisk.get(packId) ?? 0;
          if (!r.packIdOk || r.badBlobs.length > 0) {
            damagedPacks.add(packId);
            for (const b of r.badBlobs) badBlobs.add(blobKey(b));
            problems.push({
              kind: 'data',
              id: packId,
              message: `Pack ${packId.slice(0, 12)} is damaged: ${r.badBlobs.length} of ${blobs.length} blob(s) fail their check.`,
            });
          }
          const rate = Math.round(bytesDone / Math.max(0.001, (Date.now() - started) / 1000));
          options.onProgress?.({
            filesDone: packsRead,
            filesTotal: toRead.length,
            bytesDone,
            bytesTotal,
            currentFile: join('data', packId.slice(0, 2), packId),
            bytesPerSecond: rate,
            etaSeconds: rate > 0 ? Math.round((bytesTotal - bytesDone) / rate) : null,
          });
        });
        const tracked = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      while (inFlight.size > 0) await Promise.race(inFlight);
    } finally {
      await pool.close();
    }
  }

  // Snapshots and their trees; name every file that lost data.
  const snapshots: SnapshotWithId[] = [];
  for (const id of await repo.list('snapshots')) {
    try {
      snapshots.push(await repo.loadSnapshot(id));
    } catch (e) {
      problems.push({ kind: 'snapshot', id, message: messageOf(e, `Snapshot ${id.slice(0, 12)} cannot be read.`) });
    }
  }
  const damagedUnder = new Map<string, string[]>();
  const treeDamage = async (treeId: string): Promise<string[]> => {
    const known = damagedUnder.get(treeId);
    if (known) return known;
    let tree: Tree;
    try {
      if (badBlobs.has(blobKey({ id: treeId, type: 'tree' }))) throw new Error('in a damaged pack');
      tree = await repo.loadTree(treeId, index, { cache: false });
    } catch (e) {
      problems.push({ kind: 'tree', id: treeId, message: `Tree ${treeId.slice(0, 12)}: ${messageOf(e, 'cannot be read.')}` });
      damagedUnder.set(treeId, ['']);
      return [''];
    }
    const out: string[] = [];
    for (const node of tree.nodes) {
      if (node.type === 'file' && (node.content ?? []).some((c) => badBlobs.has(blobKey({ id: c, type: 'data' })) || !index.has(c, 'data'))) out.push(node.name);
      if (node.type === 'dir' && node.subtree) {
        for (const sub of await treeDamage(node.subtree)) out.push(sub === '' ? `${node.name}/` : `${node.name}/${sub}`);
      }
    }
    damagedUnder.set(treeId, out);
    return out;
  };
  const damagedSnapshots: CheckReport['damagedSnapshots'] = [];
  for (const s of snapshots) {
    if (cancelled()) break;
    const files = await treeDamage(s.tree);
    if (files.length > 0) damagedSnapshots.push({ id: s.id, time: s.time, files: files.slice(0, MAX_FILES_NAMED).map((f) => f || '/') });
  }
  const missingData = [...damagedUnder.values()].some((v) => v.length > 0) && damagedPacks.size === 0;
  if (missingData) problems.push({ kind: 'data', id: null, message: 'Some files need data that no index lists.' });

  return {
    ok: problems.length === 0 && damagedSnapshots.length === 0,
    snapshots: snapshots.length,
    packs: index.packCount,
    blobs: index.blobCount,
    packsRead,
    unindexedPacks,
    problems,
    damagedPacks: [...damagedPacks],
    damagedSnapshots,
  };
}

function choosePacks(packs: string[], readData: ReadData): string[] {
  if (readData.kind === 'none') return [];
  if (readData.kind === 'all') return packs;
  const n = Math.min(packs.length, Math.max(1, Math.ceil((packs.length * readData.percent) / 100)));
  const pool = [...packs];
  // Partial Fisher-Yates with a CSPRNG: which packs are read is not predictable.
  for (let i = 0; i < n; i++) {
    const j = i + randomInt(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

function messageOf(e: unknown, fallback: string): string {
  return e instanceof Error && e.message ? e.message : fallback;
}
