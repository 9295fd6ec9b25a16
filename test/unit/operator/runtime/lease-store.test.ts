import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import {
  fromLease,
  KubernetesLeaseStore,
  LeaseConflictError,
} from '../../../../operator/src/runtime/lease-store.js';

/** Just the three CoordinationV1Api calls the store makes, answering like the API server. */
function fakeApi(respond: (op: string, body?: V1Lease) => V1Lease) {
  const calls: { op: string; body?: V1Lease }[] = [];
  const call = async (op: string, body?: V1Lease): Promise<V1Lease> => {
    calls.push({ op, body });
    await Promise.resolve(); // an HTTP round trip
    return respond(op, body);
  };
  const api = {
    readNamespacedLease: () => call('read'),
    createNamespacedLease: (p: { body: V1Lease }) => call('create', p.body),
    replaceNamespacedLease: (p: { body: V1Lease }) => call('replace', p.body),
  };
  return { api: api as unknown as CoordinationV1Api, calls };
}

const record = {
  holderIdentity: 'op-0',
  leaseDurationSeconds: 15,
  acquireTime: new Date('2026-01-01T00:00:00.123Z'),
  renewTime: new Date('2026-01-01T00:00:05.456Z'),
  leaseTransitions: 2,
};

describe('KubernetesLeaseStore', () => {
  it('maps 404 on read to undefined and 409 on write to LeaseConflictError', async () => {
    const { api } = fakeApi((op) => {
      throw new ApiException(op === 'read' ? 404 : 409, 'HTTP error', {}, {});
    });
    const store = new KubernetesLeaseStore(api, 'cairn-system', 'cairn-operator');
    assert.equal(await store.get(), undefined);
    await assert.rejects(store.create(record), LeaseConflictError);
    await assert.rejects(store.update(record, '7'), LeaseConflictError);
  });

  it('other API errors propagate as they are', async () => {
    const { api } = fakeApi(() => {
      throw new ApiException(500, 'etcdserver: request timed out', {}, {});
    });
    const store = new KubernetesLeaseStore(api, 'ns', 'l');
    await assert.rejects(store.get(), (err: unknown) => err instanceof ApiException && err.code === 500);
  });

  it('writes the resourceVersion it read and MicroTime with six fractional digits', async () => {
    const { api, calls } = fakeApi((_op, body) => ({
      ...body,
      metadata: { ...body?.metadata, resourceVersion: '8' },
    }));
    const store = new KubernetesLeaseStore(api, 'cairn-system', 'cairn-operator');
    const stored = await store.update(record, '7');
    const body = calls[0]?.body;
    assert.equal(body?.metadata?.resourceVersion, '7');
    assert.equal(body?.metadata?.namespace, 'cairn-system');
    const wire = JSON.parse(JSON.stringify(body)) as {
      spec: Record<string, unknown>;
    };
    assert.equal(wire.spec['renewTime'], '2026-01-01T00:00:05.456000Z');
    assert.equal(wire.spec['acquireTime'], '2026-01-01T00:00:00.123000Z');
    assert.equal(wire.spec['holderIdentity'], 'op-0');
    assert.equal(stored.resourceVersion, '8');
    assert.equal(stored.record.renewTime?.getTime(), record.renewTime.getTime());
  });

  it('reads MicroTime fields that client-node leaves as strings', () => {
    const lease = {
      metadata: { resourceVersion: '3' },
      spec: { holderIdentity: 'op-1', renewTime: '2026-01-01T00:00:05.456789Z' as unknown as Date },
    };
    const { record: r, resourceVersion } = fromLease(lease);
    assert.equal(resourceVersion, '3');
    assert.equal(r.holderIdentity, 'op-1');
    assert.equal(r.renewTime?.toISOString(), '2026-01-01T00:00:05.456Z');
    assert.equal(r.acquireTime, undefined);
    assert.equal(r.leaseTransitions, 0);
  });
});
