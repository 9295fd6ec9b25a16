import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, describe, it } from 'node:test';
import { SnapshotDigest } from '../../../../server/src/ctl/backup-digest.js';
import { FileStore } from '../../../../server/src/objectstore/file-store.js';

/** Bytes in the snapshot file format: an image padded to 512 bytes, then its SHA-256. */
function snapshotBytes(imageBytes: number): Buffer {
  const image = Buffer.alloc(Math.ceil(imageBytes / 512) * 512);
  for (let i = 0; i < imageBytes; i++) image[i] = (i * 31) & 0xff;
  return Buffer.concat([image, createHash('sha256').update(image).digest()]);
}

function chunks(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < b.length; off += size) out.push(b.subarray(off, off + size));
  return out;
}

describe('SnapshotDigest', () => {
  it('computes the whole SHA-256 and checks the trailer across any chunking', async () => {
    const b = snapshotBytes(100_000);
    for (const size of [1, 7, 32, 33, 4096, b.length]) {
      const d = new SnapshotDigest(true);
      Readable.from(chunks(b, size)).pipe(d).resume();
      await new Promise((resolve) => d.on('end', resolve));
      assert.ok(d.trailerOk, `chunk ${size}`);
      assert.equal(d.sha256, createHash('sha256').update(b).digest('hex'));
      assert.equal(d.bytes, b.length);
    }
  });

  it('a flipped byte or a short stream: trailer not ok, or an error with rejectBadTrailer', async () => {
    const b = snapshotBytes(10_000);
    b[5000]! ^= 1;
    const lax = new SnapshotDigest(false);
    Readable.from(chunks(b, 1000)).pipe(lax).resume();
    await new Promise((resolve) => lax.on('end', resolve));
    assert.ok(!lax.trailerOk);
    const strict = new SnapshotDigest(true);
    Readable.from([Buffer.alloc(10)])
      .pipe(strict)
      .resume();
    await assert.rejects(
      new Promise((_, reject) => strict.on('error', reject)),
      /snapshot checksum mismatch/,
    );
  });
});

describe('FileStore', () => {
  const root = mkdtempSync(join(tmpdir(), 'cairn-file-store-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const store = new FileStore(root);

  it('put/head/get/list/delete with sidecar metadata', async () => {
    const { size } = await store.put('c1/a.db', Readable.from([Buffer.from('hello ')]), () => ({
      sha256: 'x',
    }));
    await store.put('c1/b.db', Readable.from([Buffer.from('world')]), () => ({}));
    await store.put('c2/c.db', Readable.from([Buffer.from('!')]), () => ({}));
    assert.equal(size, 6);
    assert.equal(readFileSync(join(root, 'c1', 'a.db'), 'utf8'), 'hello ');
    assert.deepEqual((await store.head('c1/a.db'))?.meta, { sha256: 'x' });
    assert.equal(await store.head('c1/nope.db'), undefined);
    const got = await store.get('c1/a.db');
    assert.equal(await text(got.body), 'hello ');
    assert.deepEqual(
      (await store.list('c1/')).map((o) => o.key),
      ['c1/a.db', 'c1/b.db'],
    );
    assert.deepEqual(
      (await store.list('c')).map((o) => o.key),
      ['c1/a.db', 'c1/b.db', 'c2/c.db'],
    );
    assert.deepEqual(await store.list('nothing/here/'), []);
    await store.delete('c1/a.db');
    await store.delete('c1/a.db');
    assert.deepEqual(readdirSync(join(root, 'c1')), ['b.db', 'b.db.meta.json']);
    await assert.rejects(store.get('c1/a.db'), /no such object/);
  });

  it('a body that fails (bad trailer) leaves neither the file nor a .part', async () => {
    const b = snapshotBytes(5000);
    b[10]! ^= 1;
    const d = new SnapshotDigest(true);
    Readable.from(chunks(b, 512)).pipe(d);
    await assert.rejects(
      store.put('bad/x.db', d, () => ({})),
      /snapshot checksum mismatch/,
    );
    assert.ok(!existsSync(join(root, 'bad', 'x.db')));
    assert.deepEqual(readdirSync(join(root, 'bad')), []);
  });
});
