/** What a backup is asked to do, what it reports while it runs, and what it returns (backup.ts). */
import type { RepoProblem } from './index-load.js';
import type { SnapshotSummary, SnapshotWithId } from './snapshot.js';
import type { Progress } from '../../../../src-shared/contract-backup.js';

/** The wire shape, declared once in the contract (src-shared): the engine reports exactly this. */
export type { Progress } from '../../../../src-shared/contract-backup.js';

/** What a job is waiting on: a storage retrying a request, or the user's bandwidth limit. */
export type WaitingCode = NonNullable<Progress['waitingOn']>['code'];

/** The transfer fields of a job that uploads nothing and reports no waits (restore, check, repair). */
export const NO_TRANSFER = { bytesUploaded: 0, uploadBytesPerSecond: 0, waitingOn: null } as const satisfies Partial<Progress>;

export interface BackupOptions {
  sources: string[];
  excludes?: string[];
  tags?: string[];
  /** The snapshot to compare against; by default the newest one of the same host and paths. */
  parent?: SnapshotWithId | null;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  threads?: number;
  /** Index new packs every this many packs, so a killed run loses little. */
  indexEvery?: number;
  /**
   * For tests: blob ids the workers are to find claimed from the start, as a wrong claim (two
   * ids sharing a fingerprint) would make them (claims.ts). The run must store them anyway.
   */
  staleClaims?: Uint8Array[];
  /**
   * Packs known to be damaged (a check found blobs in them that fail): their data
   * counts as absent, so this backup stores it again and its snapshot does not depend on them.
   */
  avoidPacks?: ReadonlySet<string>;
  /** For tests: a file can be changed at these moments, to see that what is stored is one version of it. */
  testHooks?: {
    /** Before a file is handed to the pool to be read. */
    beforeRead?: (path: string) => void;
    /** After each segment of a large file but its last. */
    afterSegment?: (path: string, offset: number) => void | Promise<void>;
  };
}

export interface BackupResult {
  snapshotId: string;
  summary: SnapshotSummary;
  /**
   * Damage the backup found in the repository and worked around: index or snapshot files it
   * skipped, packs it did not rely on (their data was stored again where still on disk).
   */
  damage: RepoProblem[];
}
