/**
 * The backup methods of the contract (docs/design.md, "The contract and the gate levels"; docs/repository-format.md): repositories, backup sets, snapshots,
 * restore, check, repair and the jobs that run long work. Reading, running and restoring are
 * `unlocked`; deleting a set, a snapshot or a repository, changing a repository's password (or a
 * set's retention, which deletes snapshots) and repairing a repository (which deletes damaged
 * packs, index files and snapshot files) are `step-up`. Long work returns a job id;
 * `backup.jobs.get` polls its progress.
 */
import { z } from 'zod';
import { Empty, method, type MethodSpec } from './method.js';
import { AbsolutePathSchema, IdSchema, NameSchema } from './backup-schemas.js';
import { repositoryMethods } from './contract-repositories.js';
import { MaintenanceCredentialsSchema } from './repository-location.js';

export { AbsolutePathSchema };
/** A snapshot id, or a unique prefix of at least 8 hex digits. */
const SnapshotIdSchema = z.string().regex(/^[0-9a-f]{8,64}$/, 'That is not a snapshot id.');
const PackIdSchema = z.string().regex(/^[0-9a-f]{64}$/, 'That is not a pack id.');
const Count = z.number().int().nonnegative();

export const RetentionSchema = z
  .object({
    last: z.number().int().min(0).max(10_000).optional(),
    hourly: z.number().int().min(0).max(10_000).optional(),
    daily: z.number().int().min(0).max(10_000).optional(),
    weekly: z.number().int().min(0).max(10_000).optional(),
    monthly: z.number().int().min(0).max(10_000).optional(),
    yearly: z.number().int().min(0).max(10_000).optional(),
  })
  .strict();

export type Retention = z.infer<typeof RetentionSchema>;
const RETENTION_WORDS = [
  ['last', 'keep last'],
  ['hourly', 'hourly'],
  ['daily', 'daily'],
  ['weekly', 'weekly'],
  ['monthly', 'monthly'],
  ['yearly', 'yearly'],
] as const;

/** A retention policy in words ("keep last 5, daily 7"), as the screens and the confirmations say it. */
export function retentionText(r: Retention): string {
  const parts = RETENTION_WORDS.filter(([k]) => (r[k] ?? 0) > 0).map(([k, label]) => `${label} ${r[k]}`);
  return parts.length ? parts.join(', ') : 'keep everything';
}

/** True when a policy forgets anything at all. */
export function hasRetention(r: Retention): boolean {
  return RETENTION_WORDS.some(([k]) => (r[k] ?? 0) > 0);
}

export { RepositoryViewSchema } from './contract-repositories.js';

export const RunViewSchema = z.object({
  id: z.number().int(),
  setId: z.string(),
  trigger: z.enum(['manual', 'schedule', 'catch-up']),
  startedAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
  /** incomplete: the snapshot was saved, but some items could not be kept (the summary names them). */
  state: z.enum(['running', 'succeeded', 'incomplete', 'failed', 'cancelled', 'interrupted']),
  snapshotId: z.string().nullable(),
  files: Count.nullable(),
  bytes: Count.nullable(),
  dataAdded: Count.nullable(),
  errors: Count.nullable(),
  message: z.string().nullable(),
});

export const BackupSetViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  repositoryId: z.string(),
  sources: z.array(z.string()),
  excludes: z.array(z.string()),
  schedule: z.string().nullable(),
  retention: RetentionSchema,
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  /** When the scheduler will next start it (ms), or null without a schedule. */
  nextRunAt: z.number().int().nullable(),
  running: z.boolean(),
  lastRun: RunViewSchema.nullable(),
});
export type BackupSetView = z.infer<typeof BackupSetViewSchema>;

const PathMessages = z.array(z.object({ path: z.string(), message: z.string() }));

const SummarySchema = z.object({
  files: Count,
  dirs: Count,
  bytes: Count,
  filesNew: Count,
  filesChanged: Count,
  filesUnmodified: Count,
  dataAdded: Count,
  durationMs: Count,
  /** Not backed up: could not be read. */
  errors: PathMessages,
  /** Backed up, but kept changing while read: the copy may not match any one moment of it. */
  warnings: PathMessages,
});

/** Something damaged in a repository, named (an index file, a snapshot file, a pack). */
const ProblemSchema = z.object({ kind: z.enum(['index', 'snapshot', 'pack']), id: z.string(), message: z.string() });

export const SnapshotViewSchema = z.object({
  id: z.string(),
  time: z.string(),
  host: z.string(),
  paths: z.array(z.string()),
  tags: z.array(z.string()),
  /** The backup set that made it, when one did. */
  setId: z.string().nullable(),
  summary: SummarySchema,
  /** Set when repair rewrote it without what was lost: when, and what (the first ones, and how many). */
  repaired: z.object({ time: z.string(), original: z.string(), lost: PathMessages, lostCount: Count }).nullable(),
});

/** What a snapshot holds besides files and folders: symlinks, pipes (FIFOs), sockets, device nodes. */
export const EntryTypeSchema = z.enum(['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev']);
export type EntryType = z.infer<typeof EntryTypeSchema>;

export const EntryViewSchema = z.object({
  name: z.string(),
  path: z.string(),
  type: EntryTypeSchema,
  size: Count,
  mode: Count,
  mtime: z.number().int(),
  linkTarget: z.string().nullable(),
});

export const ProgressSchema = z.object({
  filesDone: Count,
  filesTotal: Count.nullable(),
  bytesDone: Count,
  bytesTotal: Count.nullable(),
  currentFile: z.string().nullable(),
  bytesPerSecond: Count,
  etaSeconds: Count.nullable(),
  /** A backup's bytes of packs stored so far, and their rate over the last ten seconds or more. */
  bytesUploaded: Count,
  uploadBytesPerSecond: Count,
  /** What holds the job up (the storage retrying, the bandwidth limit), worded for the user; null when nothing does. */
  waitingOn: z.object({ code: z.enum(['STORAGE_RETRY', 'UPLOAD_LIMIT', 'DOWNLOAD_LIMIT']), message: z.string() }).nullable(),
});
/** What long work reports as it goes (backup, restore, check); the engine's meters fill it. */
export type Progress = z.infer<typeof ProgressSchema>;

export const PruneResultSchema = z.object({
  packsRemoved: Count,
  packsRewritten: Count,
  packsWritten: Count,
  blobsRemoved: Count,
  bytesFreed: z.number().int(),
  /**
   * Packs left as they were although they hold data no snapshot needs, because some data they
   * hold fails its check, or they are missing or of the wrong size: Check & repair deals with them.
   */
  packsLeft: z.array(z.string()),
  /** Blobs some snapshot needs that no pack holds as it should: lost already (a check names the files). */
  blobsMissing: Count,
});
export type PruneResult = z.infer<typeof PruneResultSchema>;

const RepairReportSchema = z.object({
  packs: z.array(z.object({ id: z.string(), outcome: z.enum(['removed', 'missing', 'intact']), blobsSaved: Count, blobsLost: Count })),
  index: z
    .object({
      indexFilesReplaced: Count,
      damagedIndexFiles: z.array(z.string()),
      packsIndexed: Count,
      packsUnreadable: z.array(z.object({ id: z.string(), message: z.string(), kept: z.boolean() })),
      packsDropped: z.array(z.string()),
      blobsLost: Count,
    })
    .nullable(),
  snapshots: z
    .object({
      snapshotsChecked: Count,
      rewritten: z.array(z.object({ id: z.string(), newId: z.string(), time: z.string(), lost: PathMessages, lostCount: Count })),
      removed: z.array(z.object({ id: z.string(), time: z.string().nullable(), message: z.string() })),
      skipped: z.array(ProblemSchema.extend({ certain: z.boolean() })),
    })
    .nullable(),
});

const CheckProblemSchema = z.object({ kind: z.enum(['index', 'pack', 'snapshot', 'tree', 'data']), id: z.string().nullable(), message: z.string() });
export type CheckProblem = z.infer<typeof CheckProblemSchema>;

export const CheckReportSchema = z.object({
  ok: z.boolean(),
  snapshots: Count,
  packs: Count,
  blobs: Count,
  packsRead: Count,
  /** Packs no readable index lists: left by an interrupted backup (or listed by a damaged index file); harmless, reused or pruned later. */
  unindexedPacks: z.array(z.string()),
  problems: z.array(CheckProblemSchema),
  damagedPacks: z.array(z.string()),
  damagedSnapshots: z.array(z.object({ id: z.string(), time: z.string(), files: z.array(z.string()) })),
});
export type CheckReport = z.infer<typeof CheckReportSchema>;

export const RestoreSummarySchema = z.object({
  files: Count,
  dirs: Count,
  symlinks: Count,
  /** Named pipes, sockets and device nodes. */
  special: Count,
  bytes: Count,
  skipped: Count,
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type RestoreSummary = z.infer<typeof RestoreSummarySchema>;

const BackupJobResultSchema = z.object({
  snapshotId: z.string(),
  summary: SummarySchema,
  forgotten: Count,
  prune: PruneResultSchema.nullable(),
  /** Damage the backup worked around (its snapshot does not depend on it): Check & repair mends it. */
  damage: z.array(ProblemSchema),
  /** Why retention did not run this time, or null. */
  retentionNote: z.string().nullable(),
});

const jobBase = {
  id: z.string(),
  repositoryId: z.string(),
  setId: z.string().nullable(),
  state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  startedAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
  progress: ProgressSchema,
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
};
/** A job, typed by its kind: `result` is set once the job has succeeded. */
export const JobViewSchema = z.discriminatedUnion('kind', [
  z.object({ ...jobBase, kind: z.literal('backup'), result: BackupJobResultSchema.nullable() }),
  z.object({ ...jobBase, kind: z.literal('restore'), result: RestoreSummarySchema.nullable() }),
  z.object({ ...jobBase, kind: z.literal('check'), result: CheckReportSchema.nullable() }),
  z.object({ ...jobBase, kind: z.literal('prune'), result: PruneResultSchema.nullable() }),
  z.object({ ...jobBase, kind: z.literal('repair'), result: RepairReportSchema.nullable() }),
]);
export type JobViewDto = z.infer<typeof JobViewSchema>;

const JobStarted = z.object({ jobId: z.string() });
/** Append-only repositories: credentials that may delete, for this call only (never stored, logged or audited). */
const Maintenance = MaintenanceCredentialsSchema.optional();
const RepoRef = z.object({ repositoryId: IdSchema }).strict();

export const backupMethods = {
  ...repositoryMethods,
  'backup.sets.list': method({
    level: 'unlocked',
    action: 'List backup sets',
    input: Empty,
    output: z.object({ sets: z.array(BackupSetViewSchema) }),
  }),
  'backup.sets.create': method({
    level: 'unlocked',
    action: 'Create a backup set',
    input: z
      .object({
        name: NameSchema,
        repositoryId: IdSchema,
        sources: z.array(AbsolutePathSchema).min(1, 'Choose at least one folder.').max(50),
        excludes: z.array(z.string().min(1).max(1024)).max(200).default([]),
        schedule: z.string().trim().min(1).max(200).nullable().default(null),
        retention: RetentionSchema.default({}),
      })
      .strict(),
    output: BackupSetViewSchema,
  }),
  'backup.sets.update': method({
    level: 'unlocked',
    stepUpWhen:
      'the set has retention and the change touches its folders, excludes, repository or schedule (retention would then delete snapshots of what was backed up before)',
    action: 'Change a backup set',
    input: z
      .object({
        setId: IdSchema,
        name: NameSchema.optional(),
        sources: z.array(AbsolutePathSchema).min(1).max(50).optional(),
        excludes: z.array(z.string().min(1).max(1024)).max(200).optional(),
        schedule: z.string().trim().min(1).max(200).nullable().optional(),
      })
      .strict(),
    output: BackupSetViewSchema,
  }),
  'backup.sets.setRetention': method({
    level: 'step-up',
    action: "Change a backup set's retention (older snapshots are deleted)",
    input: z.object({ setId: IdSchema, retention: RetentionSchema }).strict(),
    output: BackupSetViewSchema,
  }),
  'backup.sets.delete': method({
    level: 'step-up',
    action: 'Delete a backup set',
    input: z.object({ setId: IdSchema }).strict(),
    output: z.object({ deleted: z.literal(true) }),
  }),
  'backup.sets.run': method({
    level: 'unlocked',
    // As a forget and a prune of that repository are: the credentials make this run delete.
    stepUpWhen: 'maintenance credentials are given (the run then applies its retention on an append-only repository: it deletes snapshots and frees space)',
    action: 'Run a backup now',
    /** `maintenance`: on an append-only repository, retention deletes with these (this run only); without them it is skipped. */
    input: z.object({ setId: IdSchema, maintenance: Maintenance }).strict(),
    output: JobStarted,
  }),
  'backup.history': method({
    level: 'unlocked',
    action: 'Read backup history',
    input: z.object({ setId: IdSchema.optional(), limit: z.number().int().min(1).max(1000).default(50) }).strict(),
    output: z.object({ runs: z.array(RunViewSchema) }),
  }),
  'backup.snapshots.list': method({
    level: 'unlocked',
    action: 'List snapshots',
    input: RepoRef,
    /** `damaged`: snapshot files that cannot be opened, named; the others are listed all the same. */
    output: z.object({ snapshots: z.array(SnapshotViewSchema), damaged: z.array(ProblemSchema) }),
  }),
  'backup.snapshots.browse': method({
    level: 'unlocked',
    action: 'Browse a snapshot',
    input: z.object({ repositoryId: IdSchema, snapshotId: SnapshotIdSchema, path: z.string().max(4096).default('') }).strict(),
    output: z.object({ entries: z.array(EntryViewSchema) }),
  }),
  'backup.snapshots.find': method({
    level: 'unlocked',
    action: 'Find files in snapshots',
    input: z.object({ repositoryId: IdSchema, pattern: z.string().min(1).max(1024), limit: z.number().int().min(1).max(1000).default(200) }).strict(),
    output: z.object({ entries: z.array(EntryViewSchema.extend({ snapshotId: z.string(), snapshotTime: z.string() })) }),
  }),
  'backup.snapshots.diff': method({
    level: 'unlocked',
    action: 'Compare two snapshots',
    input: z
      .object({ repositoryId: IdSchema, from: SnapshotIdSchema, to: SnapshotIdSchema, limit: z.number().int().min(1).max(10_000).default(1000) })
      .strict(),
    output: z.object({ added: z.array(z.string()), removed: z.array(z.string()), modified: z.array(z.string()), truncated: z.boolean() }),
  }),
  'backup.snapshots.forget': method({
    level: 'step-up',
    action: 'Delete snapshots',
    input: z.object({ repositoryId: IdSchema, snapshotIds: z.array(SnapshotIdSchema).min(1).max(100), maintenance: Maintenance }).strict(),
    output: z.object({ removed: Count }),
  }),
  'backup.restore.start': method({
    level: 'unlocked',
    stepUpWhen: 'files that already exist at the target are to be overwritten',
    action: 'Restore files',
    input: z
      .object({
        repositoryId: IdSchema,
        snapshotId: SnapshotIdSchema,
        /** Paths inside the snapshot (first part: a source folder's name); empty for everything. */
        paths: z.array(z.string().min(1).max(4096)).max(1000).default([]),
        target: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('original') }).strict(),
          z.object({ kind: z.literal('folder'), path: AbsolutePathSchema }).strict(),
        ]),
        onExisting: z.enum(['skip', 'overwrite', 'fail']).default('fail'),
      })
      .strict(),
    output: JobStarted,
  }),
  'backup.check.start': method({
    level: 'unlocked',
    action: 'Check a repository',
    input: z
      .object({
        repositoryId: IdSchema,
        readData: z.enum(['none', 'all', 'subset']).default('none'),
        subsetPercent: z.number().min(0.1).max(100).default(10),
      })
      .strict(),
    output: JobStarted,
  }),
  'backup.prune.start': method({
    level: 'unlocked',
    stepUpWhen: 'the repository is append-only (the run deletes with maintenance credentials)',
    action: 'Free space no snapshot uses',
    input: z.object({ repositoryId: IdSchema, maintenance: Maintenance }).strict(),
    output: JobStarted,
  }),
  'backup.repair.start': method({
    level: 'step-up',
    action: 'Repair a repository (damaged packs, index and snapshot files are deleted)',
    input: z
      .object({
        repositoryId: IdSchema,
        /** Damaged packs (a check names them): what they still hold is saved, then they are deleted. */
        packs: z.array(PackIdSchema).max(10_000).default([]),
        /** Rebuild the index from the packs (always done after removing packs). */
        index: z.boolean().default(false),
        /** Rewrite the snapshots that lost data without it; delete snapshot files that cannot be opened. */
        snapshots: z.boolean().default(false),
        maintenance: Maintenance,
      })
      .strict()
      .refine((r) => r.packs.length > 0 || r.index || r.snapshots, 'Choose at least one thing to repair.'),
    output: JobStarted,
  }),
  'backup.jobs.list': method({
    level: 'unlocked',
    action: 'List backup jobs',
    input: Empty,
    output: z.object({ jobs: z.array(JobViewSchema) }),
  }),
  'backup.jobs.get': method({
    level: 'unlocked',
    action: 'Read a job',
    input: z.object({ jobId: IdSchema }).strict(),
    output: JobViewSchema,
  }),
  'backup.jobs.cancel': method({
    level: 'unlocked',
    action: 'Cancel a job',
    input: z.object({ jobId: IdSchema }).strict(),
    output: JobViewSchema,
  }),
} satisfies Record<string, MethodSpec>;
