import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  dataDirState,
  decideRestore,
  markerFile,
  markerMatches,
  readMarker,
  type RestoreMarker,
} from '../../../../server/src/ctl/backup-marker.js';

describe('backup restore: the marker and the decision', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cairn-restore-marker-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const url = 's3://backups/c1/a.db';
  const sha = 'ab'.repeat(32);
  const token = 'kv-token';
  const marker: RestoreMarker = {
    url,
    sha256: sha,
    revision: 7,
    token,
    restoredAt: '2026-01-01T00:00:00Z',
  };

  it('decides: absent or empty → restore; same url+sha → already restored; other → refuse or replace', () => {
    const base = { marker: undefined, url, sha256: sha, token, replace: false };
    assert.equal(decideRestore({ ...base, state: 'absent' }), 'restore');
    assert.equal(decideRestore({ ...base, state: 'empty' }), 'restore');
    assert.equal(decideRestore({ ...base, state: 'nonEmpty' }), 'refuse');
    assert.equal(decideRestore({ ...base, state: 'nonEmpty', replace: true }), 'replace');
    assert.equal(decideRestore({ ...base, state: 'nonEmpty', marker }), 'alreadyRestored');
    // A restarted init container with --replace must not replace again.
    assert.equal(decideRestore({ ...base, state: 'nonEmpty', marker, replace: true }), 'alreadyRestored');
    assert.equal(decideRestore({ ...base, state: 'nonEmpty', marker, sha256: 'cd'.repeat(32) }), 'refuse');
    assert.equal(
      decideRestore({ ...base, state: 'nonEmpty', marker, url: 's3://backups/c1/b.db' }),
      'refuse',
    );
    // The same snapshot under a new cluster token (an in-place restore of a cluster that started from
    // it) is a new cluster: replaced with --replace, refused without.
    assert.equal(decideRestore({ ...base, state: 'nonEmpty', marker, token: 'kv-new' }), 'refuse');
    assert.equal(
      decideRestore({ ...base, state: 'nonEmpty', marker, token: 'kv-new', replace: true }),
      'replace',
    );
  });

  it('matches on url, token and, when one is expected, sha256 (either case)', () => {
    assert.ok(markerMatches(marker, url, undefined, token));
    assert.ok(markerMatches(marker, url, sha.toUpperCase(), token));
    assert.ok(!markerMatches(undefined, url, sha, token));
    assert.ok(!markerMatches(marker, url, 'cd'.repeat(32), token));
    assert.ok(!markerMatches(marker, url, sha, 'other-token'));
  });

  it('reads the data dir: absent, empty (a fresh volume: lost+found only), not empty; the marker', () => {
    const d = join(tmp, 'data');
    assert.equal(dataDirState(d), 'absent');
    mkdirSync(join(d, 'lost+found'), { recursive: true });
    assert.equal(dataDirState(d), 'empty');
    mkdirSync(join(d, 'member'));
    assert.equal(dataDirState(d), 'nonEmpty');
    assert.equal(readMarker(d), undefined);
    writeFileSync(join(d, markerFile), JSON.stringify(marker));
    assert.deepEqual(readMarker(d), marker);
    writeFileSync(join(d, markerFile), '{"url": 1}');
    assert.equal(readMarker(d), undefined);
    writeFileSync(join(d, markerFile), 'not json');
    assert.equal(readMarker(d), undefined);
  });
});
