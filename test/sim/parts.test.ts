// Unit tests of the simulator's parts: the event queue (deterministic order), the simulated disk (a
// crash loses only the un-fsynced write), the network (partitions cut the right links) and the state
// machine's snapshot encoding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '../../server/src/raft/rng.js';
import { emptyConfState, newEntry, type Entry } from '../../server/src/raftpb/types.js';
import { AppState } from './app-state.js';
import { SimDisk } from './disk.js';
import { EventQueue } from './event-queue.js';
import { Network } from './network.js';
import { decodeProposal, encodeProposal } from './payload.js';

function ents(term: number, from: number, to: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(newEntry({ term, index: i, data: encodeProposal(`p${i}`, 0) }));
  return out;
}

describe('sim parts', () => {
  it('event queue pops by time, then in insertion order', () => {
    const q = new EventQueue<string>(100);
    q.schedule(5, 'b');
    q.schedule(1, 'a');
    q.schedule(5, 'c');
    q.schedule(0, 'z');
    const got: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) got.push(`${e}@${q.now}`);
    assert.deepEqual(got, ['z@0', 'a@1', 'b@5', 'c@5']);
    assert.throws(() => new EventQueue<number>(1).schedule(-1, 0));
  });

  it('disk: a write is durable only after fsync; a crash loses the pending one', () => {
    const d = SimDisk.withSnapshot(undefined);
    d.begin({ snapshot: undefined, entries: ents(1, 1, 3), hardState: { term: 1, vote: 1n, commit: 2 } });
    assert.equal(d.lastIndex(), 0);
    d.fsync();
    assert.equal(d.lastIndex(), 3);
    assert.equal(d.hardState.commit, 2);
    d.begin({ snapshot: undefined, entries: ents(2, 3, 5), hardState: { term: 2, vote: 2n, commit: 2 } });
    d.crash();
    assert.equal(d.lastIndex(), 3);
    assert.equal(d.hardState.term, 1);
    // An overlapping append replaces the suffix.
    d.begin({ snapshot: undefined, entries: ents(2, 3, 4), hardState: undefined });
    d.fsync();
    assert.deepEqual([d.term(2), d.term(3), d.term(4)], [1, 2, 2]);
    // Snapshot + compaction keep the entries after the compaction point.
    const snap = { data: new Uint8Array(), metadata: { index: 3, term: 2, confState: emptyConfState() } };
    d.saveSnapshot(snap);
    d.compact(2);
    assert.equal(d.firstIndex, 3);
    assert.equal(d.term(2), undefined);
    assert.equal(d.term(3), 2);
    const copy = d.copy();
    d.begin({ snapshot: undefined, entries: ents(3, 5, 5), hardState: undefined });
    d.fsync();
    assert.equal(copy.lastIndex(), 4);
    assert.equal(d.lastIndex(), 5);
  });

  it('network: partitions cut links by direction; heal restores them', () => {
    const n = new Network(new Prng(1), {
      delayMinTime: 1,
      delayMaxTime: 10,
      dropProbability: 0,
      duplicateProbability: 0,
      reorderProbability: 0,
    });
    n.partition([1n], [2n, 3n], false);
    assert.equal(n.fate(1n, 2n).kind, 'cut');
    assert.equal(n.fate(2n, 1n).kind, 'deliver');
    n.healPartitions();
    n.isolate(3n, [1n, 2n, 3n]);
    assert.equal(n.fate(3n, 1n).kind, 'cut');
    assert.equal(n.fate(2n, 3n).kind, 'cut');
    const f = n.fate(1n, 2n);
    assert.ok(f.kind === 'deliver' && f.delays.length === 1 && f.delays[0]! >= 1 && f.delays[0]! <= 10);
    n.healAll();
    assert.equal(n.partitioned, false);
  });

  it('state machine: dedups ids, and a snapshot restores the same sequence and hash', () => {
    const s = new AppState(emptyConfState());
    assert.equal(s.applyProposal(1, 'a'), true);
    s.advanceTo(2);
    assert.equal(s.applyProposal(3, 'b'), true);
    assert.equal(s.applyProposal(4, 'a'), false);
    assert.throws(() => s.advanceTo(6));
    const back = AppState.decode(s.encode(), emptyConfState());
    assert.deepEqual(back.ids, ['a', 'b']);
    assert.equal(back.hash, s.hash);
    assert.equal(back.appliedIndex, 4);
    assert.equal(decodeProposal(encodeProposal('c1.7', 30)), 'c1.7');
    assert.equal(decodeProposal(new Uint8Array()), undefined);
  });
});
