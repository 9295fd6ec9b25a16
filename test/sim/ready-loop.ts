import { StateType, type Ready } from '../../server/src/raft/ready.js';
import { decodeConfChange as decodeConfChangeV1 } from '../../server/src/raftpb/codec.js';
import {
  confChangeToV2,
  EntryType,
  isEmptySnapshot,
  type Entry,
  type Snapshot,
} from '../../server/src/raftpb/types.js';
import { assert } from '../../server/src/util/assert.js';
import { AppState } from './app-state.js';
import { checkAppliedDurable } from './checkers/applied-durable.js';
import { checkAppliedIndex } from './checkers/applied-index.js';
import { checkHardStateStep } from './checkers/hard-state.js';
import { checkLeaderCompleteness } from './checkers/leader-completeness.js';
import { describeConfChange, describeEntries, describeState, entryDigest } from './describe.js';
import type { Write } from './disk.js';
import type { Member } from './member.js';
import { decodeConfChange, decodeProposal } from './payload.js';
import type { Simulator } from './simulator.js';

/** Readies handled back to back for one member without an fsync in between, at most. */
const READY_LOOP_MAX = 64;

/**
 * Each member's Ready loop, as ready.ts orders it: on ready() the snapshot, entries and hard state go to
 * the in-memory Storage and a pending disk write; when the simulated fsync completes the write is
 * durable, THEN the messages are sent, the snapshot and committed entries applied (conf changes through
 * applyConfChange) and advance() called. Inputs keep arriving in between. The checkers that look at what
 * a member persists or applies run here.
 */
export class ReadyLoop {
  /** Proposal ids applied anywhere (for the committed count). */
  private readonly committedIds = new Set<string>();

  constructor(private readonly sim: Simulator) {}

  /** Hands out Readies while the member is up and not waiting for an fsync. */
  drive(m: Member): void {
    for (let i = 0; i < READY_LOOP_MAX; i++) {
      if (m.node === undefined || m.inFlight !== undefined || !m.node.hasReady()) return;
      const synchronous = this.handleReady(m);
      if (!synchronous) return;
    }
  }

  /** Starts one Ready; returns true when it completed at once (nothing to persist). */
  private handleReady(m: Member): boolean {
    const node = m.node!;
    const rd = node.ready();
    if (rd.softState !== undefined && rd.softState.raftState === StateType.StateLeader) {
      this.sim.electionSafety.observe(node.status().hardState.term, m.id, 'ready');
    }
    for (const rs of rd.readStates) this.sim.workload.onReadState(m, rs.requestCtx, rs.index);
    const hasSnapshot = rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot);
    if (this.sim.trace.verbose || hasSnapshot || rd.entries.length > 0 || rd.hardState !== undefined) {
      this.sim.log(`${m.name} ready ${describeReady(rd)}`);
    }
    if (hasSnapshot) m.storage.applySnapshot(rd.snapshot!);
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    if (rd.softState !== undefined && rd.softState.raftState === StateType.StateLeader) {
      checkLeaderCompleteness(node.status().hardState.term, m.storage, this.sim.committed, m.name);
    }
    m.inFlight = rd;
    if (!hasSnapshot && rd.entries.length === 0 && rd.hardState === undefined) {
      this.complete(m);
      return true;
    }
    m.disk.begin({
      snapshot: hasSnapshot ? rd.snapshot : undefined,
      entries: rd.entries,
      hardState: rd.hardState,
    });
    const lo = this.sim.o.fsyncDelayMinTime;
    this.sim.queue.schedule(lo + this.sim.rng.intn(this.sim.o.fsyncDelayMaxTime - lo + 1), {
      kind: 'fsync',
      id: m.id,
      incarnation: m.incarnation,
    });
    return false;
  }

  onFsync(id: bigint, incarnation: number): void {
    const m = this.sim.members.get(id);
    if (m?.node === undefined || m.incarnation !== incarnation || m.inFlight === undefined) return;
    const before = m.disk.hardState;
    const w = m.disk.fsync();
    if (this.sim.trace.verbose) {
      this.sim.log(
        `${m.name} fsync done: ${w.entries.length} entries, sending ${m.inFlight.messages.length}`,
      );
    }
    checkHardStateStep(before, m.disk.hardState, m.name);
    this.checkPersisted(m, w);
    this.complete(m);
    this.drive(m);
  }

  /** The Ready's writes are durable: send, apply, advance. */
  private complete(m: Member): void {
    const rd = m.inFlight!;
    for (const msg of rd.messages) this.sim.transport.send(m, msg);
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) this.restoreSnapshot(m, rd.snapshot);
    if (rd.committedEntries.length > 0) {
      this.sim.log(`${m.name} apply ${describeEntries(rd.committedEntries)}`);
      for (const e of rd.committedEntries) this.applyEntry(m, e);
    }
    m.node!.advance();
    m.inFlight = undefined;
    checkAppliedIndex(m.node!.status().applied, m.app.appliedIndex, m.name);
    this.sim.workload.serveReads(m);
    const snapIndex = m.maybeSnapshot(this.sim.o);
    if (snapIndex > 0)
      this.sim.log(`${m.name} snapshot at ${snapIndex}, log now ${m.storage.firstIndex()}..`);
  }

  /** Incremental log-matching and committed-entry checks on what just became durable. */
  private checkPersisted(m: Member, w: Write): void {
    const d = m.disk;
    for (const e of w.entries) {
      if (e.index < d.firstIndex) continue;
      this.sim.logMatching.observeEntry(e.index, e.term, d.term(e.index - 1), entryDigest(e), m.name);
    }
    if (w.snapshot !== undefined) {
      this.sim.committed.observeTerm(
        w.snapshot.metadata.index,
        w.snapshot.metadata.term,
        `${m.name} snapshot`,
      );
    }
    const commit = d.hardState.commit;
    for (let i = Math.max(m.commitChecked + 1, d.firstIndex); i <= commit; i++) {
      const e = d.entryAt(i);
      if (e !== undefined)
        this.sim.committed.observe(i, e.term, entryDigest(e), `${m.name} persisted commit`, d.hardState.term);
    }
    if (commit > m.commitChecked) m.commitChecked = commit;
  }

  private restoreSnapshot(m: Member, snap: Snapshot): void {
    m.app = AppState.decode(snap.data, snap.metadata.confState);
    assert(m.app.appliedIndex === snap.metadata.index, `${m.name}: snapshot data index mismatch`);
    this.sim.log(`${m.name} restore snapshot ${snap.metadata.term}/${snap.metadata.index}`);
    this.sim.appliedState.observe(snap.metadata.index, m.app.hash, `${m.name} snapshot`);
    this.sim.ackedWrites.checkState(m.app, `${m.name} snapshot`);
  }

  private applyEntry(m: Member, e: Entry): void {
    this.sim.committed.observe(e.index, e.term, entryDigest(e), `${m.name} apply`, m.disk.hardState.term);
    checkAppliedDurable(m.disk, e, m.name);
    if (e.type === EntryType.EntryNormal) {
      const id = decodeProposal(e.data);
      if (id === undefined) {
        m.app.advanceTo(e.index);
      } else if (m.app.applyProposal(e.index, id)) {
        if (!this.committedIds.has(id)) {
          this.committedIds.add(id);
          this.sim.stats.proposalsCommitted++;
        }
        this.sim.workload.onApplied(m, id, e.index);
      }
    } else {
      m.app.advanceTo(e.index);
      const cc =
        e.type === EntryType.EntryConfChangeV2
          ? decodeConfChange(e.data)
          : confChangeToV2(decodeConfChangeV1(e.data));
      const cs = m.node!.applyConfChange(cc);
      m.app.confState = cs;
      this.sim.log(`${m.name} apply conf change ${describeConfChange(cc)} at ${e.index}`);
      this.sim.membership.onApplied(e.index, cs);
    }
    this.sim.appliedState.observe(e.index, m.app.hash, m.name);
  }
}

export function describeReady(rd: Ready): string {
  let s = '';
  if (rd.softState !== undefined)
    s += ` state=${describeState(rd.softState.raftState)} lead=${rd.softState.lead}`;
  if (rd.hardState !== undefined) {
    s += ` hs=${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit}`;
  }
  if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
    s += ` snap=${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index}`;
  }
  if (rd.entries.length > 0) s += ` ents=${describeEntries(rd.entries)}`;
  if (rd.committedEntries.length > 0) s += ` commit=${describeEntries(rd.committedEntries)}`;
  if (rd.messages.length > 0) s += ` msgs=${rd.messages.length}`;
  if (rd.readStates.length > 0) s += ` reads=${rd.readStates.length}`;
  if (!rd.mustSync) s += ' nosync';
  return s.trimStart();
}
