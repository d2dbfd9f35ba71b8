/**
 * The repository methods of the backup contract: create, connect, test, edit, change the
 * password of and remove a repository in a folder, on an SFTP server or in an S3 bucket
 * (repository-location.ts). A folder repository is added and renamed below step-up as ever;
 * adding or editing a remote one is a step-up (`stepUpWhen`): its credentials and host key
 * decide where every backup goes. Credentials come in only: no output carries one.
 */
import { z } from 'zod';
import { AbsolutePathSchema, IdSchema, NameSchema, RepoPasswordSchema } from './backup-schemas.js';
import { method, Empty, type MethodSpec } from './method.js';
import {
  ConnectionsSchema,
  CredentialsInputSchema,
  HostKeySchema,
  LocationInputSchema,
  MaintenanceCredentialsSchema,
  RemoteLocationInputSchema,
  StoredLocationSchema,
} from './repository-location.js';

export const RepositoryViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The folder of a folder repository; for a remote one the same as `location`. */
  path: z.string(),
  createdAt: z.number().int(),
  kind: z.enum(['folder', 'sftp', 's3']),
  /** Where it lives, in words and without a secret (`sftp://backup@nas:22/srv/twofold`). */
  location: z.string(),
  /** The stored location's fields (no credential): what the edit dialog shows. */
  details: StoredLocationSchema,
  /** Its credentials can add but not delete: forget, prune and removal ask for maintenance credentials. */
  appendOnly: z.boolean(),
  /** Parallel connections to the storage; null: the default (4). */
  connections: z.number().int().nullable(),
});
export type RepositoryViewDto = z.infer<typeof RepositoryViewSchema>;

/** Where a repository goes: `location`, or (as before locations existed) a folder's `path`. */
const whereFields = {
  path: AbsolutePathSchema.optional(),
  location: LocationInputSchema.optional(),
  /** The credentials may add but not delete (the user knows, or Test connection found it). */
  appendOnly: z.boolean().default(false),
  connections: ConnectionsSchema.optional(),
};
const oneWhere = (v: { path?: string; location?: unknown }) => (v.path === undefined) !== (v.location === undefined);
const oneWhereMessage = { message: 'Give either a folder (path) or a location, not both.' };

export const REMOTE_STEP_UP = 'the repository is on an SFTP server or in an S3 bucket (its credentials and host key decide where every backup goes)';

/** The answer of `backup.repositories.testConnection`: `code` is a StorageErrorCode, or OK. */
export const TestConnectionOutcomeSchema = z.object({
  code: z.enum([
    'OK',
    'NOT_FOUND',
    'UNREACHABLE',
    'AUTH_FAILED',
    'HOST_KEY_UNKNOWN',
    'HOST_KEY_CHANGED',
    'BUCKET_MISSING',
    'PERMISSION_DENIED',
    'NO_SPACE',
    'FAILED',
  ]),
  /** What it means and what to do, in words. */
  message: z.string(),
  /** HOST_KEY_UNKNOWN / HOST_KEY_CHANGED (and OK): the server's key, to compare and confirm. */
  fingerprint: z.string().nullable(),
  algorithm: z.string().nullable(),
  /** Whether a Twofold repository is there already (connect it rather than create one); null when not reached. */
  repositoryFound: z.boolean().nullable(),
  /** Whether these credentials could write but not delete; null when the test did not get that far. */
  appendOnly: z.boolean().nullable(),
});
export type TestConnectionOutcome = z.infer<typeof TestConnectionOutcomeSchema>;

/** The answer of `backup.repositories.status`: whether the repository answers now, and the space left where it lives. */
export const RepositoryStatusSchema = z.object({
  /** Opened with its key just now: reachable, readable, and still the repository connected here. */
  reachable: z.boolean(),
  /** Why not, in words (what to check); null when reachable. */
  message: z.string().nullable(),
  /** Bytes free on the disk that holds it (a folder, an SFTP server); null where the storage cannot tell (S3). */
  freeBytes: z.number().int().nonnegative().nullable(),
});
export type RepositoryStatus = z.infer<typeof RepositoryStatusSchema>;

export const repositoryMethods = {
  'backup.repositories.list': method({
    level: 'unlocked',
    action: 'List backup repositories',
    input: Empty,
    output: z.object({ repositories: z.array(RepositoryViewSchema) }),
  }),
  'backup.repositories.init': method({
    level: 'unlocked',
    stepUpWhen: REMOTE_STEP_UP,
    action: 'Create a backup repository',
    input: z
      .object({ name: NameSchema, ...whereFields })
      .strict()
      .refine(oneWhere, oneWhereMessage),
    /** `password` is shown once: it opens the repository on another machine. It is stored nowhere. */
    output: z.object({ repository: RepositoryViewSchema, password: z.string() }),
  }),
  'backup.repositories.connect': method({
    level: 'unlocked',
    stepUpWhen: REMOTE_STEP_UP,
    action: 'Connect an existing backup repository',
    input: z
      .object({ name: NameSchema, ...whereFields, password: RepoPasswordSchema })
      .strict()
      .refine(oneWhere, oneWhereMessage),
    output: z.object({ repository: RepositoryViewSchema }),
  }),
  'backup.repositories.status': method({
    // Reads the repository's config and nothing else; changes nothing.
    level: 'unlocked',
    action: 'See whether a backup repository is reachable',
    input: z.object({ repositoryId: IdSchema }).strict(),
    output: RepositoryStatusSchema,
  }),
  'backup.repositories.testConnection': method({
    // Stores nothing and deletes only the test object it wrote itself.
    level: 'unlocked',
    action: 'Test the connection to a storage',
    input: z.object({ location: RemoteLocationInputSchema }).strict(),
    output: TestConnectionOutcomeSchema,
  }),
  'backup.repositories.edit': method({
    level: 'unlocked',
    stepUpWhen: REMOTE_STEP_UP,
    action: 'Change a backup repository',
    input: z
      .object({
        repositoryId: IdSchema,
        name: NameSchema.optional(),
        connections: ConnectionsSchema.nullable().optional(),
        appendOnly: z.boolean().optional(),
        credentials: CredentialsInputSchema.optional(),
        /** A server key the user confirmed (after Test connection showed it). */
        hostKey: HostKeySchema.optional(),
        /** Where it lives now, when the server or the bucket moved: the whole location, its credentials and server key included. */
        location: RemoteLocationInputSchema.optional(),
      })
      .strict(),
    output: z.object({ repository: RepositoryViewSchema }),
  }),
  'backup.repositories.changePassword': method({
    level: 'step-up',
    action: 'Change a repository password',
    input: z.object({ repositoryId: IdSchema }).strict(),
    output: z.object({ password: z.string() }),
  }),
  'backup.repositories.remove': method({
    level: 'step-up',
    action: 'Remove a backup repository',
    input: z
      .object({
        repositoryId: IdSchema,
        deleteFiles: z.boolean().default(false),
        /** Append-only repositories: credentials that may delete, for this removal only. */
        maintenance: MaintenanceCredentialsSchema.optional(),
      })
      .strict(),
    output: z.object({ removed: z.literal(true) }),
  }),
} satisfies Record<string, MethodSpec>;
