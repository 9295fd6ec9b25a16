import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey, splitKey } from '../../../../operator/src/runtime/object-key.js';

describe('objectKey / splitKey', () => {
  it('builds namespace/name, or name alone for cluster-scoped objects', () => {
    assert.equal(objectKey({ metadata: { namespace: 'prod', name: 'main' } }), 'prod/main');
    assert.equal(objectKey({ metadata: { name: 'node-1' } }), 'node-1');
    assert.throws(() => objectKey({ kind: 'Pod', metadata: {} }), /Pod has no name/);
  });

  it('splits keys back and rejects malformed ones', () => {
    assert.deepEqual(splitKey('prod/main'), { namespace: 'prod', name: 'main' });
    assert.deepEqual(splitKey('node-1'), { namespace: '', name: 'node-1' });
    for (const bad of ['', 'a/b/c', '/x', 'x/']) assert.throws(() => splitKey(bad), /unexpected key format/);
  });
});
