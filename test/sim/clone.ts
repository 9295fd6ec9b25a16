import type { ConfState, Entry, HardState, Message, Snapshot } from '../../server/src/raftpb/types.js';

/*
 * Deep copies at the simulator's boundaries: what crosses the simulated network or lands on the simulated
 * disk must not share objects with the sender's memory, or a core that mutates an entry after handing it
 * out would corrupt other members (or its own "disk") and the bug would be hidden.
 */

export function cloneEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

export function cloneConfState(c: ConfState): ConfState {
  return {
    voters: c.voters.slice(),
    learners: c.learners.slice(),
    votersOutgoing: c.votersOutgoing.slice(),
    learnersNext: c.learnersNext.slice(),
    autoLeave: c.autoLeave,
  };
}

export function cloneSnapshot(s: Snapshot): Snapshot {
  return {
    data: s.data.slice(),
    metadata: {
      index: s.metadata.index,
      term: s.metadata.term,
      confState: cloneConfState(s.metadata.confState),
    },
  };
}

export function cloneHardState(h: HardState): HardState {
  return { term: h.term, vote: h.vote, commit: h.commit };
}

export function cloneMessage(m: Message): Message {
  return {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(cloneEntry),
    commit: m.commit,
    snapshot: m.snapshot === undefined ? undefined : cloneSnapshot(m.snapshot),
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context.slice(),
  };
}
