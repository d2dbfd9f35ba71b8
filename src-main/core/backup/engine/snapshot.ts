/**
 * Snapshots: the root of one backup. A sealed JSON file in snapshots/, named by the SHA-256
 * of its bytes, written last so that everything it points to is already on disk and indexed.
 */
import { z } from 'zod';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * 2: its trees record extended attributes, hard links, pipes, sockets and device nodes, and names
 * that are not UTF-8 (docs/repository-format.md §8). A version-1 snapshot's trees hold none of
 * these, so a backup whose parent it is reads them all again.
 */
export const SNAPSHOT_VERSION = 2;

export const SnapshotSummarySchema = z.object({
  files: z.number().int().nonnegative(),
  dirs: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  filesNew: z.number().int().nonnegative(),
  filesChanged: z.number().int().nonnegative(),
  filesUnmodified: z.number().int().nonnegative(),
  /** Bytes of new blobs stored (after compression and encryption). */
  dataAdded: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  /** What could not be kept: entries that could not be read (skipped), and entries stored without part of their metadata. */
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
  /**
   * Files stored although they kept changing while they were read (absent in snapshots written
   * before it existed): the stored copy may not match any one moment of the file.
   */
  warnings: z.array(z.object({ path: z.string(), message: z.string() })).default([]),
});
export type SnapshotSummary = z.infer<typeof SnapshotSummarySchema>;

export const SnapshotSchema = z.object({
  version: z.union([z.literal(1), z.literal(SNAPSHOT_VERSION)]),
  time: z.string().datetime(),
  host: z.string(),
  username: z.string(),
  /**
   * The absolute source paths, each stored as a top-level node of `tree` named by its base name,
   * in the platform-neutral form of src-shared/paths.ts (`/C/Users/Ada` for `C:\Users\Ada`).
   */
  paths: z.array(z.string()),
  /** The path family of the machine that made it; absent: POSIX (docs/repository-format.md §9). */
  pathStyle: z.enum(['posix', 'win32']).optional(),
  tags: z.array(z.string()),
  tree: Hex64,
  parent: Hex64.nullable(),
  summary: SnapshotSummarySchema,
  /**
   * Set when repair rewrote this snapshot without the parts that were lost (absent otherwise):
   * when, which snapshot it replaces, and what it lost (the first ones by path, and how many).
   */
  repaired: z
    .object({
      time: z.string().datetime(),
      original: Hex64,
      lost: z.array(z.object({ path: z.string(), message: z.string() })),
      lostCount: z.number().int().nonnegative(),
    })
    .optional(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;
export type SnapshotWithId = Snapshot & { id: string };
