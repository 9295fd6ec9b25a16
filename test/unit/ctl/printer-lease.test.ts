// The lease printers against outputs captured from etcdctl 3.4.23 (Debian) on etcd 3.4.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CtlExit } from '../../../server/src/ctl/exit.js';
import { MemorySink } from '../../../server/src/ctl/io.js';
import { leaseIdHex, leasePrinter } from '../../../server/src/ctl/printer-lease.js';
import type { ResponseHeader } from '../../../server/src/proto/gen/etcdserverpb/rpc.js';

const header: ResponseHeader = {
  clusterId: 11512617680405134305n,
  memberId: 10440633376088200632n,
  revision: 6n,
  raftTerm: 2n,
};
const ID = 1565178984360631566n;
const ttl = { header, ID, TTL: 59n, grantedTTL: 60n, keys: [Buffer.from('k1'), Buffer.from('k2')] };
const H = '{"cluster_id":11512617680405134305,"member_id":10440633376088200632,"revision":6,"raft_term":2,';

function print(
  kind: 'simple' | 'json' | 'fields' | 'protobuf',
  fn: (p: ReturnType<typeof leasePrinter>) => void,
) {
  const out = new MemorySink();
  fn(leasePrinter(kind, out));
  return out.text;
}

describe('lease printers', () => {
  it("formats ids as Go's %016x of an int64", () => {
    assert.equal(leaseIdHex(ID), '15b8a1fe5cb8dd0e');
    assert.equal(leaseIdHex(0x12n), '0000000000000012');
    assert.equal(leaseIdHex(-1n), '-000000000000001');
  });

  it('simple', () => {
    assert.equal(
      print('simple', (p) => p.grant({ header, ID, TTL: 60n, error: '' })),
      'lease 15b8a1fe5cb8dd0e granted with TTL(60s)\n',
    );
    assert.equal(
      print('simple', (p) => p.revoke(ID, { header })),
      'lease 15b8a1fe5cb8dd0e revoked\n',
    );
    assert.equal(
      print('simple', (p) => p.keepAlive({ header, ID, TTL: 60n })),
      'lease 15b8a1fe5cb8dd0e keepalived with TTL(60)\n',
    );
    assert.equal(
      print('simple', (p) => p.timeToLive(ttl, true)),
      'lease 15b8a1fe5cb8dd0e granted with TTL(60s), remaining(59s), attached keys([k1 k2])\n',
    );
    assert.equal(
      print('simple', (p) => p.timeToLive({ ...ttl, TTL: -1n, grantedTTL: 0n, keys: [] }, true)),
      'lease 15b8a1fe5cb8dd0e already expired\n',
    );
    assert.equal(
      print('simple', (p) => p.leases({ header, leases: [{ ID }, { ID: 0x12n }] })),
      'found 2 leases\n15b8a1fe5cb8dd0e\n0000000000000012\n',
    );
  });

  it('json: the header inlined, clientv3 field names', () => {
    assert.equal(
      print('json', (p) => p.timeToLive(ttl, true)),
      `${H}"id":${ID},"ttl":59,"granted-ttl":60,"keys":["azE=","azI="]}\n`,
    );
    assert.equal(
      print('json', (p) => p.timeToLive({ ...ttl, TTL: -1n, grantedTTL: 0n, keys: [] }, false)),
      `${H}"id":${ID},"ttl":-1,"granted-ttl":0,"keys":null}\n`,
    );
    assert.equal(
      print('json', (p) => p.grant({ header, ID, TTL: 60n, error: '' })),
      `${H}"ID":${ID},"TTL":60,"Error":""}\n`,
    );
    assert.equal(
      print('json', (p) => p.keepAlive({ header, ID, TTL: 60n })),
      `${H}"ID":${ID},"TTL":60}\n`,
    );
    assert.equal(
      print('json', (p) => p.leases({ header, leases: [] })),
      `${H}"leases":[]}\n`,
    );
    assert.equal(
      print('json', (p) => p.revoke(ID, { header })),
      '{"header":{"cluster_id":11512617680405134305,"member_id":10440633376088200632,"revision":6,"raft_term":2}}\n',
    );
  });

  it('fields', () => {
    assert.equal(
      print('fields', (p) => p.timeToLive(ttl, true)),
      '"ClusterID" : 11512617680405134305\n"MemberID" : 10440633376088200632\n"Revision" : 6\n"RaftTerm" : 2\n' +
        `"ID" : ${ID}\n"TTL" : 59\n"GrantedTTL" : 60\n"Key" : "k1"\n"Key" : "k2"\n`,
    );
  });

  it('protobuf: the header only; revoke cannot be marshalled (exit 4 with Go %v)', () => {
    const out = print('protobuf', (p) => p.keepAlive({ header, ID, TTL: 60n }));
    assert.equal(
      Buffer.from(out, 'latin1').toString('hex'),
      '08e1f7b7db8a99c2e29f0110b8abccded197a5f290011806' + '2002',
    );
    assert.throws(
      () => print('protobuf', (p) => p.revoke(ID, { header })),
      (err: unknown) =>
        err instanceof CtlExit &&
        err.code === 4 &&
        err.errorText ===
          'marshal unsupported for type clientv3.LeaseRevokeResponse ({cluster_id:11512617680405134305 member_id:10440633376088200632 revision:6 raft_term:2 })',
    );
  });
});
