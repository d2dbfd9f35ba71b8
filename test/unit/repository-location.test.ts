/** Where a repository lives, as the contract checks it and words it (src-shared/repository-location.ts). */
import { describe, expect, it } from 'vitest';
import {
  bucketNameProblem,
  isHostName,
  LocationInputSchema,
  locationText,
  MaintenanceCredentialsSchema,
  splitLocation,
} from '../../src-shared/repository-location.js';

describe('host names', () => {
  it('accepts DNS names, IPv4 and IPv6 addresses', () => {
    for (const h of ['nas', 'nas.local', 'backup.example.com', 'xn--bcher-kva.example', '192.168.1.20', '::1', 'fe80::1:2', 'example.com.']) {
      expect(isHostName(h), h).toBe(true);
    }
  });
  it('refuses empty labels, hyphens at a label edge, a mistyped address and spaces', () => {
    for (const h of ['nas..local', '-nas.local', 'nas-.local', '192.168.1.300', '1.2.3', 'my nas', 'a'.repeat(64), 'host_name']) {
      expect(isHostName(h), h).toBe(false);
    }
  });
});

describe('bucket names', () => {
  it('follow the S3 rules, each refusal with its reason', () => {
    expect(bucketNameProblem('my-backups.2026')).toBeNull();
    expect(bucketNameProblem('ab')).toBe('Bucket names are 3 to 63 characters long.');
    expect(bucketNameProblem('My_Backups')).toBe('Bucket names use lowercase letters, digits, dots and hyphens only.');
    expect(bucketNameProblem('-backups')).toBe('Bucket names start and end with a letter or a digit.');
    expect(bucketNameProblem('my..backups')).toBe('Bucket names cannot have two dots, or a dot beside a hyphen.');
    expect(bucketNameProblem('192.168.1.20')).toBe('Bucket names cannot look like an IP address.');
  });
});

describe('locations', () => {
  const sftp = { kind: 'sftp', host: 'nas.local', username: 'backup', path: '/srv/twofold', auth: { kind: 'password', password: 'hunter2 hunter2' } } as const;
  const s3 = {
    kind: 's3',
    region: 'eu-central-1',
    bucket: 'my-backups',
    prefix: 'laptop',
    accessKeyId: 'AKIAEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
  } as const;

  it('fill in the defaults: port 22, no host key yet, no path-style', () => {
    expect(LocationInputSchema.parse(sftp)).toMatchObject({ port: 22, hostKey: null });
    expect(LocationInputSchema.parse(s3)).toMatchObject({ forcePathStyle: false });
  });

  it('are split into what is stored (no secret) and the credentials that are sealed', () => {
    const a = splitLocation(LocationInputSchema.parse(sftp));
    expect(a.location).toEqual({ kind: 'sftp', host: 'nas.local', port: 22, username: 'backup', path: '/srv/twofold', auth: 'password', hostKey: null });
    expect(a.credentials).toEqual({ kind: 'sftp', auth: { kind: 'password', password: 'hunter2 hunter2' } });
    const b = splitLocation(LocationInputSchema.parse(s3));
    expect(JSON.stringify(b.location)).not.toContain('wJalrXUtnFEMI');
    expect(JSON.stringify(b.location)).not.toContain('AKIAEXAMPLE');
    expect(b.credentials).toEqual({ kind: 's3', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' });
  });

  it('read as a place: sftp://user@host:port/path, s3://bucket/prefix (where), or the folder', () => {
    expect(locationText(splitLocation(LocationInputSchema.parse(sftp)).location)).toBe('sftp://backup@nas.local:22/srv/twofold');
    expect(locationText(splitLocation(LocationInputSchema.parse({ ...sftp, host: '::1' })).location)).toBe('sftp://backup@[::1]:22/srv/twofold');
    expect(locationText(splitLocation(LocationInputSchema.parse(s3)).location)).toBe('s3://my-backups/laptop (AWS eu-central-1)');
    expect(locationText(splitLocation(LocationInputSchema.parse({ ...s3, endpoint: 'https://s3.eu-central-003.backblazeb2.com' })).location)).toBe(
      's3://my-backups/laptop (https://s3.eu-central-003.backblazeb2.com)',
    );
    expect(locationText({ kind: 'folder', path: '/media/backup' })).toBe('/media/backup');
  });

  it('refuse a relative server path, a port out of range, an endpoint with credentials in it and a prefix with ..', () => {
    const issues = (v: unknown) => {
      const r = LocationInputSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ ...sftp, path: 'srv/twofold', port: 0 })).toEqual([
      'port: Ports are 1 to 65535.',
      'path: Use a full path on the server, starting with / (for example /srv/backups/laptop).',
    ]);
    expect(issues({ ...s3, endpoint: 'https://key:secret@s3.example.com', prefix: 'a/../b' })).toEqual([
      'endpoint: Enter the endpoint as a URL, such as https://s3.eu-central-003.backblazeb2.com (no user name or query in it).',
      'prefix: Write the prefix as folder names separated by / (for example laptop/home), without a leading / or "..".',
    ]);
    expect(issues({ ...sftp, auth: { kind: 'key', privateKey: 'not a key' } })).toEqual([
      'auth.privateKey: That is not a private key file (it starts with -----BEGIN … PRIVATE KEY-----).',
    ]);
  });

  it('take maintenance credentials of the same two shapes, an SFTP port or user of their own allowed', () => {
    expect(MaintenanceCredentialsSchema.parse({ kind: 'sftp', port: 2222, auth: { kind: 'password', password: 'x' } })).toEqual({
      kind: 'sftp',
      port: 2222,
      auth: { kind: 'password', password: 'x' },
    });
    expect(MaintenanceCredentialsSchema.safeParse({ kind: 's3', accessKeyId: 'AK', secretAccessKey: '' }).success).toBe(false);
  });
});
