/**
 * raft_internal.proto and membership.proto against etcd's field numbers: bytes encoded by our
 * generated code decode with etcd's schema (the relevant part of etcd's
 * api/etcdserverpb/raft_internal.proto and api/membershippb/membership.proto, copied below), and back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { InternalRaftRequest } from '../../../server/src/proto/gen/etcdserverpb/raft_internal.js';

const ETCD_SCHEMA = `
syntax = "proto3";
package etcdserverpb;
message PutRequest { bytes key = 1; bytes value = 2; int64 lease = 3; bool prev_kv = 4; bool ignore_value = 5; bool ignore_lease = 6; }
message LeaseRevokeRequest { int64 ID = 1; }
message RequestHeader { uint64 ID = 1; string username = 2; uint64 auth_revision = 3; }
message Attributes { string name = 1; repeated string client_urls = 2; }
message ClusterMemberAttrSetRequest { uint64 member_ID = 1; Attributes member_attributes = 2; }
message InternalRaftRequest {
  RequestHeader header = 100;
  uint64 ID = 1;
  PutRequest put = 4;
  LeaseRevokeRequest lease_revoke = 9;
  ClusterMemberAttrSetRequest cluster_member_attr_set = 1301;
}
`;

const etcd = protobuf
  .parse(ETCD_SCHEMA, { keepCase: true })
  .root.lookupType('etcdserverpb.InternalRaftRequest');

function empty(): InternalRaftRequest {
  return InternalRaftRequest.decode(new Uint8Array(0));
}

describe('InternalRaftRequest wire compatibility with etcd', () => {
  it('a put with its header decodes with etcd field numbers', () => {
    const bytes = InternalRaftRequest.encode({
      ...empty(),
      header: { ID: 0xfedcba9876543210n, username: '', authRevision: 0n },
      put: {
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        lease: 7n,
        prevKv: true,
        ignoreValue: false,
        ignoreLease: false,
      },
    }).finish();
    const decoded = etcd.toObject(etcd.decode(bytes), { longs: String, bytes: String });
    assert.deepEqual(decoded, {
      header: { ID: '18364758544493064720' },
      put: { key: 'aw==', value: 'dg==', lease: '7', prev_kv: true },
    });
  });

  it('etcd bytes for a lease revoke and a member attribute update decode with ours', () => {
    const msg = etcd.fromObject({
      header: { ID: '42' },
      lease_revoke: { ID: '99' },
      cluster_member_attr_set: {
        member_ID: '12345',
        member_attributes: { name: 'n1', client_urls: ['http://a:1'] },
      },
    });
    const ours = InternalRaftRequest.decode(etcd.encode(msg).finish());
    assert.equal(ours.header?.ID, 42n);
    assert.equal(ours.leaseRevoke?.ID, 99n);
    assert.equal(ours.clusterMemberAttrSet?.memberID, 12345n);
    assert.deepEqual(ours.clusterMemberAttrSet?.memberAttributes, { name: 'n1', clientUrls: ['http://a:1'] });
    assert.equal(ours.put, undefined);
  });
});
