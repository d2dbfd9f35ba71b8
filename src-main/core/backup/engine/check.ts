/**
 * Check a repository. Always: every index file opens, every indexed pack exists and its header
 * agrees with the index, every snapshot opens and every tree it reaches decrypts and matches
 * its id, and every chunk a file needs is indexed. On request: every byte of all packs (or of a
 * random subset), re-hashed and decrypted in the worker pool. The report names damaged packs,
 * and the snapshots and files that lose data because of them: only the files whose own blobs
 * fail (a pack whose header alone is damaged has each of its blobs read and checked, so the
 * files it holds are not blamed for its header).
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Progress } from './backup.js';
import { NO_TRANSFER } from './backup-types.js';
import { blobKey, type MasterIndex } from './index.js';
import { WorkerPool } from './pool.js';
import { shortId } from './messages.js';
import type { Repository } from './repository.js';
import type { Tree } from './tree.js';
import type { VerifyResult, VerifyTask } from './worker.js';
import type { CheckProblem, CheckReport } from '../../../../src-shared/contract-backup.js';

export type ReadData = { kind: 'none' } | { kind: 'all' } | { kind: 'subset'; percent: number };

export interface CheckOptions {
  readData: ReadData;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  threads?: number;
}

/** The wire shapes, declared once in the contract (src-shared): the check returns exactly these. */
export type { CheckProblem, CheckReport } from '../../../../src-shared/contract-backup.js';

const MAX_FILES_NAMED = 100;

/** What a check learns as it goes: problems, damaged packs and the blobs they lost (by pack). */
class Findings {
  readonly problems: CheckProblem[] = [];
  readonly damagedPacks = new Set<string>();
  /** `pack|type:id` of blobs that fail where they lie. */
  private readonly bad = new Set<string>();
  /** Packs whose blobs are all lost (missing, or unreadable with no verification possible). */
  private readonly lostPacks = new Set<string>();

  problem(kind: CheckProblem['kind'], id: string | null, message: string): void {
    this.problems.push({ kind, id, message });
  }

  lostPack(pack: string): void {
    this.damagedPacks.add(pack);
    this.lostPacks.add(pack);
  }

  badBlob(pack: string, blob: { id: string; type: 'data' | 'tree' }): void {
    this.damagedPacks.add(pack);
    this.bad.add(`${pack}|${blobKey(blob)}`);
  }

  /** Whether the copy of a blob at `pack` is lost. */
  isBad(pack: string, blob: { id: string; type: 'data' | 'tree' }): boolean {
    return this.lostPacks.has(pack) || this.bad.has(`${pack}|${blobKey(blob)}`);
  }
}

export async function check(repo: Repository, options: CheckOptions): Promise<CheckReport> {
  const found = new Findings();
  const cancelled = () => options.signal?.aborted === true;

  // Index files, one by one, so one damaged file does not hide the others; the packs only a
  // damaged file listed are read from their headers, as the next backup will.
  const onDisk = await repo.listPacks();
  const loaded = await repo.loadIndex();
  for (const d of loaded.damaged) found.problem('index', d.id, d.message);
  const { index } = loaded;
  const unindexedPacks = [...onDisk.keys()].filter((p) => !index.hasPack(p) || loaded.recovered.has(p));

  const toVerify = await checkHeaders(repo, index, onDisk, found);
  const healthy = index.packIds().filter((p) => onDisk.has(p) && !found.damagedPacks.has(p));
  const packsRead = await readPacks(repo, index, onDisk, [...toVerify, ...choosePacks(healthy, options.readData)], found, options);

  // Blobs are looked up where a reader would find them: a missing pack's copy is skipped for
  // another one, if any (a later backup may have stored the data again).
  const present = new Map([...onDisk.keys()].map((p) => [p, -1]));
  const usable = index.packIds().some((p) => !onDisk.has(p)) ? (await repo.loadIndex({ packs: present, setAside: 'last' })).index : index;
  const { snapshots, damaged } = await repo.loadSnapshots();
  for (const d of damaged) found.problem('snapshot', d.id, d.message);
  const damagedSnapshots = await damagedFiles(repo, usable, snapshots, found, cancelled);

  return {
    ok: found.problems.length === 0 && damagedSnapshots.length === 0,
    snapshots: snapshots.length,
    packs: index.packCount,
    blobs: index.blobCount,
    packsRead,
    unindexedPacks,
    problems: found.problems,
    damagedPacks: [...found.damagedPacks],
    damagedSnapshots,
  };
}

/**
 * Every indexed pack is there and its header agrees with the index. Returns the packs whose
 * header fails but whose file is there: their blobs are read one by one to see which survive.
 */
async function checkHeaders(repo: Repository, index: MasterIndex, onDisk: ReadonlyMap<string, number>, found: Findings): Promise<string[]> {
  const toVerify: string[] = [];
  for (const packId of index.packIds()) {
    if (!onDisk.has(packId)) {
      found.problem('pack', packId, `Pack ${shortId(packId)} is missing.`);
      found.lostPack(packId);
      continue;
    }
    try {
      const header = await repo.readPackHeader(packId);
      const blobs = index.blobsOfPack(packId);
      const listed = new Set(blobs.map(blobKey));
      const agrees =
        header.length === blobs.length &&
        header.every((e) => {
          const loc = index.get(e.id, e.type);
          return listed.has(blobKey(e)) && (loc?.pack !== packId || (loc.offset === e.offset && loc.length === e.length));
        });
      if (!agrees) throw new Error(`Pack ${shortId(packId)}: its header does not match the index.`);
    } catch (e) {
      found.problem('pack', packId, messageOf(e, `Pack ${shortId(packId)}: its header is damaged.`));
      found.damagedPacks.add(packId);
      toVerify.push(packId);
    }
  }
  return toVerify;
}

/** The blobs a pack's verify task opens: those it lists whose first location is in it. */
export function blobsToVerify(index: MasterIndex, packId: string): VerifyTask['blobs'] {
  return index.blobsOfPack(packId).flatMap(({ id, type }) => {
    const loc = index.get(id, type);
    return loc && loc.pack === packId ? [{ id, ...loc }] : [];
  });
}

/** Read and verify whole packs in the worker pool; every task's answer or failure is recorded. */
async function readPacks(
  repo: Repository,
  index: MasterIndex,
  onDisk: ReadonlyMap<string, number>,
  toRead: readonly string[],
  found: Findings,
  options: CheckOptions,
): Promise<number> {
  if (toRead.length === 0) return 0;
  let packsRead = 0;
  const pool = new WorkerPool(repo, options.threads);
  const bytesTotal = toRead.reduce((a, p) => a + (onDisk.get(p) ?? 0), 0);
  let bytesDone = 0;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  try {
    for (const packId of toRead) {
      if (options.signal?.aborted) break;
      while (inFlight.size >= pool.threads * 2) await Promise.race(inFlight);
      const blobs = blobsToVerify(index, packId);
      const task = pool.verify({ kind: 'verify', path: await repo.localPack(packId), packId, blobs }).then(
        (r) => {
          packsRead++;
          recordVerified(packId, blobs.length, r, found);
        },
        // The task failed (its thread died): what it would have found stays unknown, and is said.
        (e: unknown) => found.problem('data', packId, `Pack ${shortId(packId)} could not be read to the end: ${messageOf(e, 'the check of it stopped.')}`),
      );
      const tracked: Promise<void> = task.finally(() => {
        inFlight.delete(tracked);
        // Each pack is read once: a remote pack's staged copy goes now, not with the whole check.
        repo.releasePack(packId);
        bytesDone += onDisk.get(packId) ?? 0;
        const rate = Math.round(bytesDone / Math.max(0.001, (Date.now() - started) / 1000));
        options.onProgress?.({
          filesDone: packsRead,
          filesTotal: toRead.length,
          bytesDone,
          bytesTotal,
          currentFile: join('data', packId.slice(0, 2), packId),
          bytesPerSecond: rate,
          etaSeconds: rate > 0 ? Math.round((bytesTotal - bytesDone) / rate) : null,
          ...NO_TRANSFER,
        });
      });
      inFlight.add(tracked);
    }
  } finally {
    // Every task answers before the pool closes: none fails unheard.
    await Promise.allSettled([...inFlight]);
    await pool.close();
  }
  return packsRead;
}

function recordVerified(packId: string, listed: number, r: VerifyResult, found: Findings): void {
  if (!r.readable) {
    found.problem('data', packId, `Pack ${shortId(packId)} cannot be read.`);
    found.lostPack(packId);
    return;
  }
  for (const b of r.badBlobs) found.badBlob(packId, b);
  if (r.badBlobs.length > 0) {
    found.problem('data', packId, `Pack ${shortId(packId)} is damaged: ${r.badBlobs.length} of ${listed} blob(s) fail their check.`);
  } else if (!r.packIdOk && !found.damagedPacks.has(packId)) {
    // Every blob is intact, yet the file is not what its name says: bytes outside the blobs changed.
    found.damagedPacks.add(packId);
    found.problem('data', packId, `Pack ${shortId(packId)} is damaged outside its blobs (every blob it lists is intact).`);
  }
}

/** The snapshots that lose data, each with the files (and folders) that lose it. */
async function damagedFiles(
  repo: Repository,
  index: MasterIndex,
  snapshots: readonly { id: string; time: string; tree: string }[],
  found: Findings,
  cancelled: () => boolean,
): Promise<CheckReport['damagedSnapshots']> {
  const lost = (id: string, type: 'data' | 'tree') => {
    const loc = index.get(id, type);
    return !loc || found.isBad(loc.pack, { id, type });
  };
  let missingData = false;
  const damagedUnder = new Map<string, string[]>();
  const treeDamage = async (treeId: string): Promise<string[]> => {
    const known = damagedUnder.get(treeId);
    if (known) return known;
    let tree: Tree;
    try {
      if (lost(treeId, 'tree') && index.has(treeId, 'tree')) throw new Error('it is in a damaged pack.');
      tree = await repo.loadTree(treeId, index, { cache: false });
    } catch (e) {
      const loc = index.get(treeId, 'tree');
      // A tree that fails its own check marks its pack as damaged, for repair to act on.
      if (loc && !found.isBad(loc.pack, { id: treeId, type: 'tree' })) found.badBlob(loc.pack, { id: treeId, type: 'tree' });
      // Named once: a message that starts with the tree's name (not in the index) is not prefixed again.
      const text = messageOf(e, 'cannot be read.');
      const named = `Tree ${shortId(treeId)}`;
      found.problem('tree', treeId, text.startsWith(named) ? text : `${named}: ${text}`);
      damagedUnder.set(treeId, ['']);
      return [''];
    }
    const out: string[] = [];
    for (const node of tree.nodes) {
      if (node.type === 'file' && (node.content ?? []).some((c) => lost(c, 'data'))) {
        out.push(node.name);
        if ((node.content ?? []).some((c) => !index.has(c, 'data'))) missingData = true;
      }
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
  if (missingData && found.damagedPacks.size === 0) found.problem('data', null, 'Some files need data that no index lists.');
  return damagedSnapshots;
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
