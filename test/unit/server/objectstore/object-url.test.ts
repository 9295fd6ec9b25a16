import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatObjectURL,
  ObjectURLError,
  parseObjectURL,
  redactURL,
} from '../../../../server/src/objectstore/object-url.js';
import { checkEndpoint } from '../../../../server/src/objectstore/open-store.js';

describe('backup URLs', () => {
  it('parses s3://bucket/key and file:///path', () => {
    assert.deepEqual(parseObjectURL('s3://backups/c1/2026-01-01.db'), {
      kind: 's3',
      bucket: 'backups',
      key: 'c1/2026-01-01.db',
    });
    assert.deepEqual(parseObjectURL('file:///var/backups/a.db'), { kind: 'file', path: '/var/backups/a.db' });
    assert.deepEqual(parseObjectURL('file:///var/my%20backups/a.db'), {
      kind: 'file',
      path: '/var/my backups/a.db',
    });
    for (const u of ['s3://backups/c1/x.db', 'file:///var/backups/a.db']) {
      assert.equal(formatObjectURL(parseObjectURL(u)), u);
    }
  });

  it('takes prefixes only where a prefix is wanted (list)', () => {
    assert.deepEqual(parseObjectURL('s3://backups', true), { kind: 's3', bucket: 'backups', key: '' });
    assert.deepEqual(parseObjectURL('s3://backups/c1/', true), { kind: 's3', bucket: 'backups', key: 'c1/' });
    assert.deepEqual(parseObjectURL('file:///var/backups/', true), { kind: 'file', path: '/var/backups/' });
    assert.throws(() => parseObjectURL('s3://backups'), /names no object/);
    assert.throws(() => parseObjectURL('s3://backups/c1/'), /names no object/);
    assert.throws(() => parseObjectURL('file:///var/backups/'), /names no file/);
  });

  it('refuses anything else with the accepted forms in the message', () => {
    for (const u of ['http://host/b/k', 'gs://b/k', '/var/backups/a.db', 'S3://b/k', '']) {
      assert.throws(
        () => parseObjectURL(u),
        (e: unknown) =>
          e instanceof ObjectURLError && /expected s3:\/\/<bucket>\/<key> or file:\/\/\//.test(e.message),
        u,
      );
    }
    assert.throws(() => parseObjectURL('s3://Bad_Bucket/k'), /invalid bucket name/);
    assert.throws(() => parseObjectURL('file://host/var/a.db'), ObjectURLError);
  });

  it('never echoes credentials put into a URL', () => {
    assert.equal(redactURL('s3://AKID:secret@bucket/k'), 's3://bucket/k');
    for (const u of ['s3://AKID:secret@bucket/k', 'gs://AKID:secret@bucket/k']) {
      assert.throws(
        () => parseObjectURL(u),
        (e: unknown) => e instanceof Error && !e.message.includes('secret') && !e.message.includes('AKID'),
      );
    }
    assert.throws(
      () => checkEndpoint('http://AKID:secret@127.0.0.1:9000'),
      (e: unknown) =>
        e instanceof Error && !e.message.includes('secret') && /must not contain credentials/.test(e.message),
    );
    assert.throws(() => checkEndpoint('ftp://127.0.0.1'), /expected http:\/\/ or https:\/\//);
    checkEndpoint('http://127.0.0.1:4568');
  });
});
