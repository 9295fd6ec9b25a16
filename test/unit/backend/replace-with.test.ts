import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from 'lmdb';
import { Registry } from 'prom-client';
import { Backend } from '../../../server/src/backend/backend.js';
import { newBackendMetrics } from '../../../server/src/backend/metrics.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
const backends: Backend[] = [];
after(async () => {
  for (const be of backends) await be.close().catch(() => undefined);
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-replace-'));
  dirs.push(d);
  return d;
}

function openBackend(dir: string, mustExist = false): Backend {
  const backend = Backend.open(
    {
      dir,
      logger: newLogger('error', true),
      metrics: newBackendMetrics(new Registry()),
      onFatal: (err) => {
        throw err;
      },
    },
    mustExist,
  );
  backends.push(backend);
  return backend;
}

const b = (s: string): Buffer => Buffer.from(s);
const str = (v: Buffer | undefined): string | undefined => v?.toString();

/** A second backend holding `entries` (bucket 'key' and 'meta'), copied to an lmdb image file. */
async function image(root: string, entries: Record<string, string>): Promise<string> {
  const src = openBackend(join(root, `src-${Math.random().toString(36).slice(2)}`));
  for (const [k, v] of Object.entries(entries)) src.put('key', b(k), b(v));
  src.put('meta', b('marker'), b('image'));
  await src.commit();
  const file = await src.copyTo(join(root, `copy-${Math.random().toString(36).slice(2)}`));
  await src.close();
  return file;
}

describe('Backend.replaceWith', () => {
  it('replaces the whole database with another lmdb image; reads see the new contents', async () => {
    const root = tempDir();
    const be = openBackend(join(root, 'db'));
    be.put('key', b('old'), b('1'));
    be.put('key', b('shared'), b('old'));
    be.put('meta', b('marker'), b('original'));
    await be.commit();
    const file = await image(root, { new: '2', shared: 'new' });

    await be.replaceWith(file);
    assert.equal(be.get('key', b('old')), undefined, 'a key only in the old database is gone');
    assert.equal(str(be.get('key', b('new'))), '2');
    assert.equal(str(be.get('key', b('shared'))), 'new');
    assert.equal(str(be.get('meta', b('marker'))), 'image');
    assert.deepEqual(
      [...be.rangeCommitted('key', undefined, undefined)].map(([k, v]) => [k.toString(), v.toString()]),
      [
        ['new', '2'],
        ['shared', 'new'],
      ],
    );
    assert.equal(be.entryCount('key'), 2);
    assert.equal(existsSync(file), false, 'the image file is moved, not copied');

    // Writes go on into the new database, and it is what a reopen finds.
    be.put('key', b('after'), b('3'));
    await be.commit();
    await be.close();
    const again = openBackend(join(root, 'db'), true);
    assert.equal(str(again.get('key', b('after'))), '3');
    assert.equal(str(again.get('key', b('new'))), '2');
    assert.equal(again.get('key', b('old')), undefined);
    await again.close();
  });

  it('commits writes staged before the replace, then drops them with the old contents', async () => {
    const root = tempDir();
    const be = openBackend(join(root, 'db'));
    const file = await image(root, { k: 'image' });
    be.put('key', b('staged'), b('x'));
    assert.equal(str(be.get('key', b('staged'))), 'x');
    await be.replaceWith(file);
    assert.equal(be.get('key', b('staged')), undefined, 'no staged value shadows the new contents');
    assert.equal(str(be.get('key', b('k'))), 'image');
    assert.equal(be.hasPendingWrites, false);
  });

  it('refuses a garbage file and keeps the old contents readable and writable', async () => {
    const root = tempDir();
    const be = openBackend(join(root, 'db'));
    be.put('key', b('keep'), b('me'));
    await be.commit();
    const garbage = join(root, 'garbage.mdb');
    writeFileSync(garbage, Buffer.alloc(64 * 1024, 0x5a));
    await assert.rejects(
      be.replaceWith(garbage),
      /backend: installing a snapshot failed: not a valid lmdb file/,
    );
    assert.equal(str(be.get('key', b('keep'))), 'me');
    assert.deepEqual(
      [...be.rangeCommitted('key', undefined, undefined)].map(([k]) => k.toString()),
      ['keep'],
    );
    be.put('key', b('more'), b('1'));
    await be.commit();
    assert.equal(str(be.get('key', b('more'))), '1');
    // And a good image still installs afterwards.
    await be.replaceWith(await image(root, { fresh: 'y' }));
    assert.equal(str(be.get('key', b('fresh'))), 'y');
    assert.equal(be.get('key', b('keep')), undefined);
  });

  it('refuses an empty file', async () => {
    const root = tempDir();
    const be = openBackend(join(root, 'db'));
    be.put('key', b('keep'), b('me'));
    await be.commit();
    const empty = join(root, 'empty.mdb');
    writeFileSync(empty, '');
    await assert.rejects(be.replaceWith(empty), /installing a snapshot failed/);
    assert.equal(str(be.get('key', b('keep'))), 'me');
  });

  it('refuses a valid lmdb file that is not a Cairn database', async () => {
    const root = tempDir();
    const be = openBackend(join(root, 'db'));
    be.put('key', b('keep'), b('me'));
    await be.commit();
    const foreign = open({ path: join(root, 'foreign'), encoding: 'binary' });
    await foreign.put('hello', Buffer.from('world'));
    await foreign.close();
    await assert.rejects(be.replaceWith(join(root, 'foreign', 'data.mdb')), /not a Cairn database/);
    assert.equal(str(be.get('key', b('keep'))), 'me');
  });
});
