import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergePatchTo } from '../../../../operator/src/runtime/api-calls.js';

/** RFC 7386's application of a merge patch, to check that the patch really produces `after`. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

describe('mergePatchTo: the merge patch that makes a status exactly the new one', () => {
  it('removes keys the new status leaves out, at any depth, and replaces arrays whole', () => {
    const before = {
      phase: 'Running',
      leader: 'kv-0',
      restore: { phase: 'Failed', objectURL: 's3://b/a.db', claimName: 'old', message: 'checksum mismatch' },
      members: [{ name: 'kv-0' }, { name: 'kv-1' }],
    };
    const after = {
      phase: 'Running',
      restore: { phase: 'Restored', objectURL: 's3://b/a.db' },
      members: [{ name: 'kv-0' }],
    };
    const patch = mergePatchTo(before, after);
    assert.deepEqual(patch, {
      leader: null,
      phase: 'Running',
      restore: { phase: 'Restored', objectURL: 's3://b/a.db', claimName: null, message: null },
      members: [{ name: 'kv-0' }],
    });
    assert.deepEqual(applyMergePatch(before, patch), after);
  });

  it('treats an undefined value as absent, and works from nothing', () => {
    const after = { phase: 'Pending', message: undefined };
    assert.deepEqual(mergePatchTo({ message: 'x' }, after), { message: null, phase: 'Pending' });
    assert.deepEqual(mergePatchTo({}, { a: { b: 1 } }), { a: { b: 1 } });
    assert.deepEqual(applyMergePatch({ a: { b: 1, c: 2 } }, mergePatchTo({ a: { b: 1, c: 2 } }, { a: 5 })), {
      a: 5,
    });
  });
});
