import { RaftpbDecodeError, decodeConfChange, decodeConfChangeV2 } from '../raftpb/codec.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  confChangeToV2,
  isEmptyHardState,
  isEmptySnapshot,
  type ConfChangeSingle,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from '../raftpb/types.js';
import { stateName, type ReadState, type Ready, type SoftState } from './ready.js';

/**
 * Canonical one-line descriptions of raft's types, for golden transcript tests and debug logs. The
 * format is etcd-io/raft's (util.go DescribeMessage, DescribeEntry, DescribeReady) so transcripts read
 * like etcd's testdata, with one deliberate difference: node ids print in decimal (etcd prints hex,
 * which is the same for the small ids tests use).
 */

/** Formats entry data for display; the default is a Go-%q-style quoted string. */
export type EntryFormatter = (data: Uint8Array) => string;

/**
 * `term/index Type data`, e.g. `1/5 EntryNormal "data"`. Conf-change entries show their changes as etcd
 * does (`v2 l3 r1 u4`: add voter, add learner, remove, update); an empty ConfChangeV2 (leave joint) shows
 * nothing after the type.
 */
export function describeEntry(e: Entry, format: EntryFormatter = goQuote): string {
  let formatted: string;
  switch (e.type) {
    case EntryType.EntryNormal:
      formatted = format(e.data);
      break;
    case EntryType.EntryConfChange:
      formatted = describeOrError(() =>
        confChangesToString(confChangeToV2(decodeConfChange(e.data)).changes),
      );
      break;
    case EntryType.EntryConfChangeV2:
      formatted = describeOrError(() => confChangesToString(decodeConfChangeV2(e.data).changes));
      break;
    default:
      formatted = '';
  }
  const type = EntryType[e.type] ?? String(e.type);
  return `${e.term}/${e.index} ${type}${formatted === '' ? '' : ' ' + formatted}`;
}

/** One described entry per line, each line ending in a newline. */
export function describeEntries(es: readonly Entry[], format: EntryFormatter = goQuote): string {
  return es.map((e) => describeEntry(e, format) + '\n').join('');
}

/** `Term:1 Vote:2 Commit:5`; Vote is left out when there is none. */
export function describeHardState(hs: HardState): string {
  const vote = hs.vote === NONE ? '' : ` Vote:${hs.vote}`;
  return `Term:${hs.term}${vote} Commit:${hs.commit}`;
}

/** `Lead:1 State:StateLeader`. */
export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.lead} State:${stateName(ss.raftState)}`;
}

/** `Voters:[1 2 3] VotersOutgoing:[] Learners:[4] LearnersNext:[] AutoLeave:false`. */
export function describeConfState(cs: ConfState): string {
  return (
    `Voters:${idList(cs.voters)} VotersOutgoing:${idList(cs.votersOutgoing)} ` +
    `Learners:${idList(cs.learners)} LearnersNext:${idList(cs.learnersNext)} AutoLeave:${cs.autoLeave}`
  );
}

/** `Index:5 Term:2 ConfState:Voters:[...] ...`. */
export function describeSnapshot(s: Snapshot): string {
  const md = s.metadata;
  return `Index:${md.index} Term:${md.term} ConfState:${describeConfState(md.confState)}`;
}

/**
 * `1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "x"]`. Log is logTerm/index; a
 * rejection adds ` Rejected (Hint: n)`; Commit appears when not zero; several entries go one per
 * indented line; a non-empty snapshot goes on its own indented line.
 */
export function describeMessage(m: Message, format: EntryFormatter = goQuote): string {
  let s = `${describeTarget(m.from)}->${describeTarget(m.to)} ${MessageType[m.type] ?? String(m.type)}`;
  s += ` Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  const only = m.entries.length === 1 ? m.entries[0] : undefined;
  if (only !== undefined) {
    s += ` Entries:[${describeEntry(only, format)}]`;
  } else if (m.entries.length > 1) {
    s += ' Entries:[';
    for (const e of m.entries) s += '\n  ' + describeEntry(e, format);
    s += '\n]';
  }
  if (m.snapshot !== undefined && !isEmptySnapshot(m.snapshot)) {
    s += `\n  Snapshot: ${describeSnapshot(m.snapshot)}`;
  }
  return s;
}

/**
 * A multi-line description of a Ready, sections in etcd's order and empty ones left out:
 *
 *   Ready MustSync=true:
 *   Lead:1 State:StateLeader
 *   HardState Term:1 Vote:1 Commit:2
 *   ReadStates [{5 [99 116 120]}]
 *   Entries:
 *   1/3 EntryNormal ""
 *   Snapshot Index:4 Term:1 ConfState:...
 *   CommittedEntries:
 *   1/3 EntryNormal ""
 *   Messages:
 *   1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[1/3 EntryNormal ""]
 *
 * or `<empty Ready>`. Every line, the last included, ends in a newline (except `<empty Ready>`).
 */
export function describeReady(rd: Ready, format: EntryFormatter = goQuote): string {
  let buf = '';
  if (rd.softState !== undefined) buf += describeSoftState(rd.softState) + '\n';
  if (rd.hardState !== undefined && !isEmptyHardState(rd.hardState)) {
    buf += `HardState ${describeHardState(rd.hardState)}\n`;
  }
  if (rd.readStates.length > 0) buf += `ReadStates ${describeReadStates(rd.readStates)}\n`;
  if (rd.entries.length > 0) buf += 'Entries:\n' + describeEntries(rd.entries, format);
  if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
    buf += `Snapshot ${describeSnapshot(rd.snapshot)}\n`;
  }
  if (rd.committedEntries.length > 0)
    buf += 'CommittedEntries:\n' + describeEntries(rd.committedEntries, format);
  if (rd.messages.length > 0) {
    buf += 'Messages:\n';
    for (const m of rd.messages) buf += describeMessage(m, format) + '\n';
  }
  return buf === '' ? '<empty Ready>' : `Ready MustSync=${rd.mustSync}:\n${buf}`;
}

/**
 * Go's %v of a []ReadState, as etcd's transcripts print it: `[{index [ctx bytes in decimal]} ...]`.
 */
function describeReadStates(rs: readonly ReadState[]): string {
  return '[' + rs.map((r) => `{${r.index} [${Array.from(r.requestCtx).join(' ')}]}`).join(' ') + ']';
}

function describeTarget(id: bigint): string {
  return id === NONE ? 'None' : id.toString();
}

function idList(ids: readonly bigint[]): string {
  return `[${ids.join(' ')}]`;
}

/** etcd's ConfChangesToString: `v1 l2 r3 u4`. */
function confChangesToString(changes: readonly ConfChangeSingle[]): string {
  return changes.map((c) => `${confChangeLetter(c.type)}${c.nodeId}`).join(' ');
}

function confChangeLetter(t: ConfChangeType): string {
  switch (t) {
    case ConfChangeType.ConfChangeAddNode:
      return 'v';
    case ConfChangeType.ConfChangeAddLearnerNode:
      return 'l';
    case ConfChangeType.ConfChangeRemoveNode:
      return 'r';
    case ConfChangeType.ConfChangeUpdateNode:
      return 'u';
    default:
      return 'unknown';
  }
}

/** Undecodable conf-change data shows the decode error instead of the changes, as etcd does. */
function describeOrError(describe: () => string): string {
  try {
    return describe();
  } catch (err) {
    if (err instanceof RaftpbDecodeError) return err.message;
    throw err;
  }
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/**
 * Go's `fmt.Sprintf("%q", data)` for a byte slice (strconv.Quote): a double-quoted string where
 * printable UTF-8 is kept, `"` and `\` are escaped, \a\b\f\n\r\t\v use their short escapes, other
 * control characters and invalid UTF-8 bytes print as \xNN, other non-printable runes as \uNNNN or
 * \UNNNNNNNN. "Printable" is Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and
 * the ASCII space (JavaScript's Unicode tables may be a different version than Go's).
 */
export function goQuote(data: Uint8Array): string {
  let out = '"';
  let i = 0;
  // Bounded: every iteration consumes at least one byte.
  while (i < data.length) {
    const [rune, width] = decodeRune(data, i);
    if (rune < 0) {
      out += '\\x' + hex(data[i] ?? 0, 2);
      i += 1;
      continue;
    }
    i += width;
    out += escapeRune(rune);
  }
  return out + '"';
}

function escapeRune(r: number): string {
  if (r === 0x22) return '\\"';
  if (r === 0x5c) return '\\\\';
  const ch = String.fromCodePoint(r);
  if (PRINTABLE.test(ch)) return ch;
  switch (r) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + hex(r, 2);
  if (r < 0x10000) return '\\u' + hex(r, 4);
  return '\\U' + hex(r, 8);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * Decodes one UTF-8 sequence at `i` as Go's utf8.DecodeRune does: returns [rune, width], or [-1, 1] for
 * an invalid or truncated sequence, an overlong encoding, or a surrogate.
 */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i] ?? 0;
  if (b0 < 0x80) return [b0, 1];
  const cont = (k: number, lo = 0x80, hi = 0xbf): number => {
    const c = b[i + k];
    return c !== undefined && c >= lo && c <= hi ? c & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? [-1, 1] : [((b0 & 0x1f) << 6) | c1, 2];
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    // E0 needs A0.. (no overlongs); ED needs ..9F (no surrogates).
    const c1 = cont(1, b0 === 0xe0 ? 0xa0 : 0x80, b0 === 0xed ? 0x9f : 0xbf);
    const c2 = cont(2);
    return c1 < 0 || c2 < 0 ? [-1, 1] : [((b0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    // F0 needs 90.. (no overlongs); F4 needs ..8F (nothing above U+10FFFF).
    const c1 = cont(1, b0 === 0xf0 ? 0x90 : 0x80, b0 === 0xf4 ? 0x8f : 0xbf);
    const c2 = cont(2);
    const c3 = cont(3);
    return c1 < 0 || c2 < 0 || c3 < 0 ? [-1, 1] : [((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return [-1, 1];
}
