/** Pure parts of the repository format: pack headers, sealing, tree encoding and retention rules. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobAad, blobId, decrypt, decryptInPlace, deriveRepoKeys, encrypt } from '../../src-main/core/backup/engine/format.js';
import { decodeIndexFile, IndexFileSchema } from '../../src-main/core/backup/engine/index.js';
import { headerLocation, openHeader, packFooter, type PackEntry } from '../../src-main/core/backup/engine/pack.js';
import { applyRetention } from '../../src-main/core/backup/engine/prune.js';
import { nameBytes, nameFromBytes } from '../../src-main/core/backup/engine/fs-names.js';
import { decodeTree, encodeTree, TreeSchema, type TreeNode } from '../../src-main/core/backup/engine/tree.js';

const keys = deriveRepoKeys(Buffer.alloc(32, 9), 'ab'.repeat(32));

describe('blobs', () => {
  it('have keyed ids: the same bytes get another id under another key', () => {
    const other = deriveRepoKeys(Buffer.alloc(32, 8), 'ab'.repeat(32));
    expect(blobId(keys.id, Buffer.from('x')).equals(blobId(other.id, Buffer.from('x')))).toBe(false);
  });

  it('open only under their own type and id', () => {
    const id = blobId(keys.id, Buffer.from('content'));
    const sealed = encrypt(keys.data, Buffer.from('content'), blobAad('data', id));
    expect(decrypt(keys.data, sealed, blobAad('data', id))?.toString()).toBe('content');
    expect(decrypt(keys.data, sealed, blobAad('tree', id))).toBeNull();
    expect(decrypt(keys.data, sealed, blobAad('data', randomBytes(32)))).toBeNull();
  });

  it('decrypt over their own bytes to exactly what decrypt gives, at every size around its 64 KiB slices', () => {
    const aad = blobAad('data', randomBytes(32));
    for (const size of [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 1024 * 1024 + 3]) {
      const plain = randomBytes(size);
      const sealed = encrypt(keys.data, plain, aad);
      const copy = Buffer.from(sealed);
      const opened = decryptInPlace(keys.data, copy, aad)!;
      expect(opened.equals(plain)).toBe(true);
      expect(decrypt(keys.data, sealed, aad)!.equals(plain)).toBe(true);
      // The plaintext is the sealed buffer's own first bytes: nothing the blob's size was made.
      expect(opened.buffer).toBe(copy.buffer);
      expect(opened.byteOffset).toBe(copy.byteOffset);
    }
  });

  it('decrypted in place are refused, as decrypt refuses them, when a byte is flipped, the aad differs or the blob is cut short', () => {
    const aad = blobAad('data', randomBytes(32));
    const sealed = encrypt(keys.data, randomBytes(200_000), aad);
    const flipped = Buffer.from(sealed);
    flipped[100_000]! ^= 1;
    expect(decryptInPlace(keys.data, flipped, aad)).toBeNull();
    expect(decryptInPlace(keys.data, Buffer.from(sealed), blobAad('tree', randomBytes(32)))).toBeNull();
    expect(decryptInPlace(keys.data, sealed.subarray(0, 20), aad)).toBeNull();
    expect(decryptInPlace(keys.data, Buffer.from(sealed.subarray(0, sealed.length - 1)), aad)).toBeNull();
  });
});

describe('pack headers', () => {
  it('round-trip and must match the pack size', () => {
    const entries: PackEntry[] = [
      { id: randomBytes(32).toString('hex'), type: 'data', compressed: true, length: 100, rawLength: 300, offset: 0 },
      { id: randomBytes(32).toString('hex'), type: 'tree', compressed: false, length: 50, rawLength: 22, offset: 100 },
    ];
    const footer = packFooter(keys.data, entries);
    const packSize = 150 + footer.length;
    const where = headerLocation(footer.subarray(footer.length - 8), packSize);
    expect(where.offset).toBe(150);
    const opened = openHeader(keys.data, footer.subarray(0, where.length), where.offset);
    expect(opened).toEqual(entries);
    expect(() => openHeader(keys.data, footer.subarray(0, where.length), 149)).toThrow(/does not match/);
  });
});

describe('trees', () => {
  const node = (name: string): TreeNode => ({
    name,
    type: 'file',
    mode: 0o100644,
    mtime: '1620285289123000000',
    ctime: '1620285289123000000',
    inode: '42',
    uid: 1000,
    gid: 1000,
    size: 1,
    content: ['a'.repeat(64)],
  });
  /** A name's bytes in this test: what fs-names.ts escapes, spelled out byte by byte. */
  const latin1 = (text: string) => Buffer.from(text, 'latin1');
  it('encode the same directory to the same bytes whatever the order', () => {
    expect(encodeTree([node('b'), node('a')]).equals(encodeTree([node('a'), node('b')]))).toBe(true);
    expect(decodeTree(encodeTree([node('b'), node('a')])).nodes.map((n) => n.name)).toEqual(['a', 'b']);
  });
  it('encode in batches to exactly the bytes of the whole document written at once', () => {
    // The reference: one JSON.stringify of the sorted nodes as docs/repository-format.md §8 stores
    // them (keys in the documented order; text that is not UTF-8 as display text plus its bytes).
    const stored = (text: string) => (text.isWellFormed() ? { text } : { text: nameBytes(text).toString('utf8'), raw: nameBytes(text).toString('base64') });
    const whole = (nodes: TreeNode[]) => {
      const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return Buffer.from(
        JSON.stringify({
          nodes: sorted.map((n) => {
            const name = stored(n.name);
            const target = n.linkTarget === undefined ? undefined : stored(n.linkTarget);
            const fields: [string, unknown][] = [
              ['name', name.text],
              ['rawName', name.raw],
              ['type', n.type],
              ['mode', n.mode],
              ['mtime', n.mtime],
              ['ctime', n.ctime],
              ['inode', n.inode],
              ['uid', n.uid],
              ['gid', n.gid],
              ['size', n.size],
              ['links', n.links],
              ['device', n.device],
              ['rdev', n.rdev],
              ['content', n.content],
              ['subtree', n.subtree],
              ['linkTarget', target?.text],
              ['rawLinkTarget', target?.raw],
              ['xattrs', n.xattrs?.map((x) => ({ name: stored(x.name).text, rawName: stored(x.name).raw, value: x.value }))],
            ];
            return Object.fromEntries(fields.filter(([, v]) => v !== undefined));
          }),
        }),
        'utf8',
      );
    };
    const odd = ['é', '日本語', '😀 face', 'quote " and \\ back', 'tab\tnew\nline', '\u0001ctl', 'caf\udce9 latin-1', ' space'];
    const many = (count: number) =>
      Array.from({ length: count }, (_, n): TreeNode => {
        const name = `${odd[n % odd.length]}-${n}`;
        if (n % 7 === 3) return { ...node(name), type: 'dir', content: undefined, subtree: 'b'.repeat(64), xattrs: [{ name: 'user.n\udcff', value: 'AA==' }] };
        if (n % 7 === 5) return { ...node(name), type: 'symlink', size: 0, content: undefined, linkTarget: `../${odd[(n + 1) % odd.length]}` };
        if (n % 7 === 6) return { ...node(name), type: 'chardev', size: 0, content: undefined, rdev: '259' };
        if (n % 11 === 1) return { ...node(name), links: 3, device: '64769' };
        // Later nodes are much larger than the first ones: the buffer must grow past its projection.
        return { ...node(name), size: n, content: Array.from({ length: n < 300 ? 1 : 40 }, (_, j) => (n * 41 + j).toString(16).padStart(64, 'c')) };
      });
    for (const count of [0, 1, 2, 255, 256, 257, 1000]) {
      const nodes = many(count).reverse();
      expect(encodeTree(nodes).equals(whole(nodes)), `${count} nodes`).toBe(true);
    }
    // Keys given in another order, and one the format does not have, change nothing.
    const shuffled = {
      content: ['d'.repeat(64)],
      size: 3,
      name: 'x',
      gid: 1,
      uid: 2,
      inode: '7',
      ctime: '1',
      mtime: '2',
      mode: 0o100600,
      type: 'file',
      extra: true,
    } as TreeNode;
    expect(encodeTree([shuffled]).toString()).toBe(
      `{"nodes":[{"name":"x","type":"file","mode":${0o100600},"mtime":"2","ctime":"1","inode":"7","uid":2,"gid":1,"size":3,"content":["${'d'.repeat(64)}"]}]}`,
    );
  });

  it('store a name, a symlink target and an attribute name that are not UTF-8 as their exact bytes, and read them back', () => {
    const name = nameFromBytes(latin1('caf\xe9.txt'));
    const target = nameFromBytes(latin1('../r\xe9sum\xe9'));
    const attr = nameFromBytes(latin1('user.\xff'));
    const link: TreeNode = {
      ...node(name),
      type: 'symlink',
      content: undefined,
      size: 0,
      linkTarget: target,
      xattrs: [{ name: attr, value: Buffer.from('v').toString('base64') }],
    };
    const bytes = encodeTree([link]);
    const stored = JSON.parse(bytes.toString('utf8')).nodes[0];
    expect(stored).toMatchObject({
      name: 'caf\uFFFD.txt',
      rawName: latin1('caf\xe9.txt').toString('base64'),
      linkTarget: '../r\uFFFDsum\uFFFD',
      rawLinkTarget: latin1('../r\xe9sum\xe9').toString('base64'),
      xattrs: [{ name: 'user.\uFFFD', rawName: latin1('user.\xff').toString('base64'), value: 'dg==' }],
    });
    expect(TreeSchema.safeParse(JSON.parse(bytes.toString('utf8'))).success).toBe(true);
    const back = decodeTree(bytes).nodes[0]!;
    expect(back).toEqual(link);
    expect(nameBytes(back.name).equals(latin1('caf\xe9.txt'))).toBe(true);
    expect(nameBytes(back.linkTarget!).equals(latin1('../r\xe9sum\xe9'))).toBe(true);
  });

  it('read a version-1 tree as it was written', () => {
    const v1 =
      '{"nodes":[{"name":"a.txt","type":"file","mode":33188,"mtime":"1620285289123000000","ctime":"1732330000123456789","inode":"1835043","uid":1000,"gid":1000,"size":3,"content":["' +
      'c'.repeat(64) +
      '"]},{"name":"l","type":"symlink","mode":41471,"mtime":"-5","ctime":"1","inode":"2","uid":0,"gid":0,"size":0,"linkTarget":"a.txt"}]}';
    const tree = decodeTree(Buffer.from(v1));
    expect(tree.nodes.map((n) => [n.name, n.type, n.linkTarget])).toEqual([
      ['a.txt', 'file', undefined],
      ['l', 'symlink', 'a.txt'],
    ]);
    expect(encodeTree(tree.nodes).toString()).toBe(v1);
  });

  it('are checked by hand exactly as TreeSchema says', () => {
    const good = node('a');
    const b64 = (text: string) => latin1(text).toString('base64');
    const variants: unknown[] = [
      good,
      { ...good, type: 'dir', content: undefined, subtree: 'b'.repeat(64) },
      { ...good, type: 'symlink', content: undefined, linkTarget: '../x' },
      { ...good, type: 'fifo', content: undefined },
      { ...good, type: 'chardev', content: undefined, rdev: '259' },
      { ...good, type: 'door' },
      { ...good, mode: -1 },
      { ...good, mtime: 12 },
      { ...good, mtime: '-12' },
      { ...good, inode: '-3' },
      { ...good, size: 1.5 },
      { ...good, content: ['nothex'] },
      { ...good, subtree: 'B'.repeat(64) },
      { ...good, linkTarget: 7 },
      { ...good, linkTarget: 'a\0b' },
      { ...good, name: '' },
      { ...good, name: 'lone \ud800 surrogate' },
      { ...good, links: 2, device: '64769' },
      { ...good, links: 1, device: '64769' },
      { ...good, links: 2.5 },
      { ...good, device: 'sda' },
      { ...good, rdev: '-1' },
      { ...good, name: 'caf\uFFFD', rawName: b64('caf\xe9') },
      { ...good, name: 'caf\uFFFD', rawName: b64('cafe') }, // valid UTF-8 is never stored raw
      { ...good, name: 'a\uFFFD', rawName: b64('a/\xe9') },
      { ...good, name: 'a\uFFFD', rawName: b64('a\0\xe9') },
      { ...good, name: 'a\uFFFD', rawName: 'not base64!' },
      { ...good, name: 'a\uFFFD', rawName: '' },
      { ...good, type: 'symlink', content: undefined, linkTarget: 'r\uFFFD', rawLinkTarget: b64('r\xe9') },
      { ...good, type: 'symlink', content: undefined, rawLinkTarget: b64('r\xe9') },
      { ...good, type: 'symlink', content: undefined, linkTarget: 'r', rawLinkTarget: b64('r') },
      { ...good, xattrs: [{ name: 'user.a', value: 'AAE=' }] },
      { ...good, xattrs: [{ name: 'user.\uFFFD', rawName: b64('user.\xff'), value: '' }] },
      { ...good, xattrs: [] },
      { ...good, xattrs: [{ name: 'user.a', value: 'AAE' }] },
      { ...good, xattrs: [{ name: '', value: 'AA==' }] },
      { ...good, xattrs: [{ name: 'user.a' }] },
      { ...good, xattrs: [{ name: 'user.a', rawName: b64('user.a'), value: 'AA==' }] },
      { ...good, xattrs: 'user.a' },
    ];
    for (const v of variants) {
      const bytes = Buffer.from(JSON.stringify({ nodes: [v] }));
      let hand = true;
      try {
        decodeTree(bytes);
      } catch {
        hand = false;
      }
      expect(hand, JSON.stringify(v)).toBe(TreeSchema.safeParse({ nodes: [v] }).success);
    }
  });

  it('refuse names that could escape a folder', () => {
    for (const bad of ['..', '.', 'a/b', 'nul\0']) expect(() => decodeTree(encodeTree([node(bad)]))).toThrow();
    // Nor may the bytes of a name do what its text cannot.
    const raw = (bytes: string) => Buffer.from(JSON.stringify({ nodes: [{ ...node('x\uFFFD'), rawName: latin1(bytes).toString('base64') }] }));
    for (const bad of ['../\xe9', '\xe9/x', '\xe9\0']) expect(() => decodeTree(raw(bad))).toThrow();
  });
});

describe('index files', () => {
  const blob = { id: 'c'.repeat(64), type: 'data', offset: 0, length: 10, rawLength: 12, compressed: true };
  const file = (packs: unknown, extra: Record<string, unknown> = {}) => ({ version: 1, supersedes: [], packs, ...extra });
  it('are checked by hand exactly as IndexFileSchema says', () => {
    const documents: unknown[] = [
      file([{ id: 'd'.repeat(64), blobs: [blob] }]),
      file([]),
      file([{ id: 'd'.repeat(64), blobs: [] }], { supersedes: ['e'.repeat(64)] }),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, type: 'tree', compressed: false, rawLength: 0 }] }]),
      file([{ id: 'd'.repeat(64), blobs: [blob] }], { version: 2 }),
      file([{ id: 'd'.repeat(64), blobs: [blob] }], { supersedes: ['nothex'] }),
      file([{ id: 'D'.repeat(64), blobs: [blob] }]),
      file([{ id: 'd'.repeat(64) }]),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, id: 'c'.repeat(63) }] }]),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, type: 'snapshot' }] }]),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, offset: -1 }] }]),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, length: 0 }] }]),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, rawLength: 1.5 }] }]),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, offset: 2 ** 60 }] }]),
      file([{ id: 'd'.repeat(64), blobs: [{ ...blob, compressed: 'yes' }] }]),
      file([{ id: 'd'.repeat(64), blobs: [null] }]),
      file([[]]),
      file({}),
      { version: 1, packs: [] },
      null,
      [],
      'index',
    ];
    for (const doc of documents) {
      let hand = true;
      try {
        decodeIndexFile(JSON.parse(JSON.stringify(doc)));
      } catch {
        hand = false;
      }
      expect(hand, JSON.stringify(doc)).toBe(IndexFileSchema.safeParse(doc).success);
    }
  });
});

describe('retention', () => {
  const at = (iso: string, id: string) => ({ id, time: new Date(iso).toISOString() });
  const snaps = [
    at('2026-01-01T10:00:00', 'a'),
    at('2026-01-01T18:00:00', 'b'),
    at('2026-01-02T09:00:00', 'c'),
    at('2026-01-09T09:00:00', 'd'),
    at('2026-02-15T09:00:00', 'e'),
    at('2026-02-16T09:00:00', 'f'),
  ];
  const kept = (p: Parameters<typeof applyRetention>[1]) =>
    applyRetention(snaps, p)
      .keep.map((s) => s.id)
      .sort();

  it('keeps everything when no rule is given', () => expect(kept({})).toEqual(['a', 'b', 'c', 'd', 'e', 'f']));
  it('keeps the last n', () => expect(kept({ last: 2 })).toEqual(['e', 'f']));
  it('keeps the newest of each of the last n days', () => expect(kept({ daily: 3 })).toEqual(['d', 'e', 'f']));
  it('keeps the newest of each month', () => expect(kept({ monthly: 5 })).toEqual(['d', 'f']));
  it('combines rules as a union', () => expect(kept({ last: 1, monthly: 2, daily: 1 })).toEqual(['d', 'f']));
  it('keeps the newest of each ISO week', () => expect(kept({ weekly: 10 })).toEqual(['c', 'd', 'e', 'f']));
  it('keeps the newest of each year', () => expect(kept({ yearly: 3 })).toEqual(['f']));
  it('keeps the newest of each hour', () => expect(kept({ hourly: 2 })).toEqual(['e', 'f']));
});
