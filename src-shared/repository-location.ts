/**
 * Where a repository lives, as the contract takes it (docs/user-guide.md, "Off-site
 * repositories"): a folder, an SFTP server or an S3 bucket. Credentials (an SFTP password or
 * private key, an S3 secret) come in with the location and never go out: the core seals them and
 * splits the rest off as the stored location (no secret), which `locationText` words for people.
 * Pure zod and string rules, so the screens check exactly what the core checks.
 */
import { z } from 'zod';
import { AbsolutePathSchema } from './backup-schemas.js';

/** A DNS name (labels of letters, digits and hyphens) or an IPv4/IPv6 address. */
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

export function isHostName(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (host.includes(':')) return IPV6.test(host) && host.split(':').length >= 3 && host.split(':').length <= 9;
  // A name whose last label is all digits would be a mistyped IPv4 address.
  const labels = host.replace(/\.$/, '').split('.');
  return host.length <= 253 && labels.every((l) => HOST_LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * An S3 bucket name as AWS defines it (3 to 63 characters: lowercase letters, digits, dots and
 * hyphens, starting and ending with a letter or digit, no "..", not shaped like an IP address);
 * Backblaze B2, R2, Wasabi and MinIO take the same names. Null when it is one, else the reason.
 */
export function bucketNameProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) return 'Bucket names are 3 to 63 characters long.';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'Bucket names use lowercase letters, digits, dots and hyphens only.';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'Bucket names start and end with a letter or a digit.';
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return 'Bucket names cannot have two dots, or a dot beside a hyphen.';
  if (IPV4.test(name)) return 'Bucket names cannot look like an IP address.';
  return null;
}

const NoControl = /^[^\p{Cc}]*$/u;

export const HostSchema = z
  .string()
  .trim()
  .min(1, 'Enter the server’s host name or address.')
  .max(253, 'That host name is too long.')
  .refine(isHostName, 'That is not a host name or IP address (for example nas.local, backup.example.com or 192.168.1.20).');
export const PortSchema = z.number().int('Ports are whole numbers.').min(1, 'Ports are 1 to 65535.').max(65535, 'Ports are 1 to 65535.');
const UsernameSchema = z
  .string()
  .trim()
  .min(1, 'Enter the user name on the server.')
  .max(128, 'That user name is too long.')
  .regex(/^[^\s\p{Cc}]+$/u, 'User names cannot contain spaces or control characters.');
/** A full path on the server, POSIX style (SFTP servers speak `/`-separated paths). */
const RemotePathSchema = z
  .string()
  .trim()
  .min(1, 'Enter the folder on the server.')
  .max(1024, 'That path is too long.')
  .regex(/^\//, 'Use a full path on the server, starting with / (for example /srv/backups/laptop).')
  .regex(NoControl, 'Paths cannot contain control characters.')
  .refine((p) => !p.split('/').includes('..'), 'Use a path without "..".');
/** `SHA256:` and 43 base64 characters, as `ssh-keygen -lf` prints a host key's fingerprint. */
export const HostKeySchema = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'That is not a host key fingerprint (SHA256:… as ssh-keygen -l prints it).');
const SecretSchema = (what: string) => z.string().min(1, `Enter the ${what}.`).max(1024, `That ${what} is too long.`);

export const SftpAuthSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('password'), password: SecretSchema('password') }).strict(),
  z
    .object({
      kind: z.literal('key'),
      privateKey: z
        .string()
        .min(1, 'Paste the private key, or choose its file.')
        .max(32_768, 'That private key is too long.')
        .refine((k) => /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(k), 'That is not a private key file (it starts with -----BEGIN … PRIVATE KEY-----).'),
      passphrase: z.string().max(1024, 'That passphrase is too long.').optional(),
    })
    .strict(),
  z.object({ kind: z.literal('agent'), socket: z.string().max(1024).regex(NoControl).optional() }).strict(),
]);
export type SftpAuthInput = z.infer<typeof SftpAuthSchema>;

const AccessKeyIdSchema = z
  .string()
  .trim()
  .min(1, 'Enter the access key id.')
  .max(128, 'That access key id is too long.')
  .regex(/^[\x21-\x7e]+$/, 'Access key ids are letters, digits and punctuation, without spaces.');
const SecretAccessKeySchema = SecretSchema('secret access key');

const EndpointSchema = z
  .string()
  .trim()
  .max(2048, 'That endpoint is too long.')
  .refine((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  }, 'Enter the endpoint as a URL, such as https://s3.eu-central-003.backblazeb2.com (no user name or query in it).');
const RegionSchema = z
  .string()
  .trim()
  .min(1, 'Enter the region (us-east-1 when the provider names none; auto for Cloudflare R2).')
  .max(64, 'That region is too long.')
  .regex(/^[a-z0-9-]+$/, 'Regions are lowercase letters, digits and hyphens (for example eu-central-1).');
const BucketSchema = z
  .string()
  .trim()
  .superRefine((b, ctx) => {
    const problem = bucketNameProblem(b);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const PrefixSchema = z
  .string()
  .trim()
  .max(512, 'That prefix is too long.')
  .regex(NoControl, 'Prefixes cannot contain control characters.')
  .refine(
    (p) => !p.startsWith('/') && !p.split('/').some((s) => s === '..' || s === '.'),
    'Write the prefix as folder names separated by / (for example laptop/home), without a leading / or "..".',
  );

export const ConnectionsSchema = z.number().int('Connections are a whole number.').min(1, 'Use 1 to 32 connections.').max(32, 'Use 1 to 32 connections.');

export const FolderLocationSchema = z.object({ kind: z.literal('folder'), path: AbsolutePathSchema }).strict();
export const SftpLocationInputSchema = z
  .object({
    kind: z.literal('sftp'),
    host: HostSchema,
    port: PortSchema.default(22),
    username: UsernameSchema,
    path: RemotePathSchema,
    auth: SftpAuthSchema,
    /** The fingerprint the user confirmed; null on a first connection (the server's is then shown to confirm). */
    hostKey: HostKeySchema.nullable().default(null),
  })
  .strict();
export const S3LocationInputSchema = z
  .object({
    kind: z.literal('s3'),
    /** Omitted: AWS S3 in `region`. */
    endpoint: EndpointSchema.optional(),
    region: RegionSchema,
    bucket: BucketSchema,
    prefix: PrefixSchema.default(''),
    accessKeyId: AccessKeyIdSchema,
    secretAccessKey: SecretAccessKeySchema,
    forcePathStyle: z.boolean().default(false),
  })
  .strict();

/** A location as a caller gives it, credentials included. */
export const LocationInputSchema = z.discriminatedUnion('kind', [FolderLocationSchema, SftpLocationInputSchema, S3LocationInputSchema]);
export const RemoteLocationInputSchema = z.discriminatedUnion('kind', [SftpLocationInputSchema, S3LocationInputSchema]);
export type LocationInput = z.infer<typeof LocationInputSchema>;
export type RemoteLocationInput = z.infer<typeof RemoteLocationInputSchema>;

/** A location as it is stored and shown: no credential in it (the SFTP auth by its kind only). */
export const StoredLocationSchema = z.discriminatedUnion('kind', [
  FolderLocationSchema,
  z
    .object({
      kind: z.literal('sftp'),
      host: z.string(),
      port: z.number().int(),
      username: z.string(),
      path: z.string(),
      auth: z.enum(['password', 'key', 'agent']),
      hostKey: z.string().nullable(),
    })
    .strict(),
  z
    .object({ kind: z.literal('s3'), endpoint: z.string().nullable(), region: z.string(), bucket: z.string(), prefix: z.string(), forcePathStyle: z.boolean() })
    .strict(),
]);
export type StoredLocation = z.infer<typeof StoredLocationSchema>;
export type RepositoryKind = StoredLocation['kind'];

/** What is sealed beside a remote location: the SFTP auth, or the S3 key pair. */
export type RepositoryCredentials = { kind: 'sftp'; auth: SftpAuthInput } | { kind: 's3'; accessKeyId: string; secretAccessKey: string };

/**
 * Credentials that may delete, for one forget, prune, repair or removal on an append-only
 * repository: used for that run only, never stored, logged or audited.
 */
export const MaintenanceCredentialsSchema = z.discriminatedUnion('kind', [
  // A maintenance account may be another user, or reached on another port (sshd's Match LocalPort).
  z.object({ kind: z.literal('sftp'), username: UsernameSchema.optional(), port: PortSchema.optional(), auth: SftpAuthSchema }).strict(),
  z.object({ kind: z.literal('s3'), accessKeyId: AccessKeyIdSchema, secretAccessKey: SecretAccessKeySchema }).strict(),
]);
export type MaintenanceCredentials = z.infer<typeof MaintenanceCredentialsSchema>;

/** The credentials of an edit: the same shapes as a location's. */
export const CredentialsInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sftp'), auth: SftpAuthSchema }).strict(),
  z.object({ kind: z.literal('s3'), accessKeyId: AccessKeyIdSchema, secretAccessKey: SecretAccessKeySchema }).strict(),
]);

/** A location split into what is stored in the clear and what is sealed. */
export function splitLocation(input: LocationInput): { location: StoredLocation; credentials: RepositoryCredentials | null } {
  switch (input.kind) {
    case 'folder':
      return { location: { kind: 'folder', path: input.path }, credentials: null };
    case 'sftp': {
      const { auth, ...rest } = input;
      return { location: { ...rest, auth: auth.kind }, credentials: { kind: 'sftp', auth } };
    }
    case 's3': {
      const { accessKeyId, secretAccessKey, endpoint, ...rest } = input;
      return { location: { ...rest, endpoint: endpoint ?? null }, credentials: { kind: 's3', accessKeyId, secretAccessKey } };
    }
  }
}

/** An IPv6 address in a URL's brackets. */
const hostPart = (host: string) => (host.includes(':') ? `[${host}]` : host);

/**
 * Where a repository lives, for people and as its unique key among the connected ones:
 * `/mnt/nas/backups`, `sftp://backup@nas.local:22/srv/twofold`, `s3://bucket/prefix (https://endpoint)`.
 */
export function locationText(location: StoredLocation): string {
  switch (location.kind) {
    case 'folder':
      return location.path;
    case 'sftp':
      return `sftp://${location.username}@${hostPart(location.host)}:${location.port}${location.path}`;
    case 's3': {
      const where = location.endpoint ?? `AWS ${location.region}`;
      return `s3://${location.bucket}/${location.prefix} (${where})`;
    }
  }
}
