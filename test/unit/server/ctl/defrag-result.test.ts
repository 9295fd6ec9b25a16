// The result line of `defrag --safe --result-file` (the operator parses it from the termination log):
// the field names, one line, and never more than 4000 bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  renderDefragResult,
  resultBytesMax,
  type MemberResult,
} from '../../../../server/src/ctl/defrag-result.js';

/** The result is a byte string (latin1 code units), written as such. */
const utf8 = (bytes: string): string => Buffer.from(bytes, 'latin1').toString('utf8');

interface Parsed {
  members: { name: string; error?: string }[];
  truncated?: boolean;
}
const parse = (line: string): Parsed => JSON.parse(utf8(line)) as Parsed;

const start = new Date('2025-03-04T05:06:07.890Z');
const end = new Date('2025-03-04T05:06:09.100Z');

const done: MemberResult = {
  name: 'kv-1',
  endpoint: 'http://10.0.0.2:2379',
  leader: false,
  dbSizeBefore: 1000,
  dbSizeInUseBefore: 400,
  dbSizeAfter: 420,
  defragmented: true,
  seconds: 1.2345,
};

describe('defrag result JSON', () => {
  it('has the shape the operator parses', () => {
    const line = renderDefragResult({
      startTime: start,
      completionTime: end,
      members: [
        done,
        {
          ...done,
          name: 'kv-2',
          dbSizeAfter: undefined,
          defragmented: false,
          skipped: 'rule false',
          seconds: undefined,
        },
        {
          name: 'kv-0',
          endpoint: 'http://10.0.0.1:2379',
          leader: true,
          dbSizeBefore: 5,
          dbSizeInUseBefore: 4,
          defragmented: false,
          seconds: 0.5,
          error: 'context deadline exceeded',
        },
      ],
      disarmed: ['NOSPACE'],
    });
    assert.equal(
      line,
      '{"startTime":"2025-03-04T05:06:07Z","completionTime":"2025-03-04T05:06:09Z","members":[' +
        '{"name":"kv-1","endpoint":"http://10.0.0.2:2379","leader":false,"dbSizeBefore":1000,"dbSizeInUseBefore":400,' +
        '"dbSizeAfter":420,"defragmented":true,"seconds":1.235},' +
        '{"name":"kv-2","endpoint":"http://10.0.0.2:2379","leader":false,"dbSizeBefore":1000,"dbSizeInUseBefore":400,' +
        '"defragmented":false,"skipped":"rule false"},' +
        '{"name":"kv-0","endpoint":"http://10.0.0.1:2379","leader":true,"dbSizeBefore":5,"dbSizeInUseBefore":4,' +
        '"defragmented":false,"seconds":0.5,"error":"context deadline exceeded"}],"disarmed":["NOSPACE"]}\n',
    );
    assert.deepEqual(
      parse(line).members.map((m) => m.name),
      ['kv-1', 'kv-2', 'kv-0'],
    );
  });

  it('a run that stopped early says why at the top level', () => {
    const line = renderDefragResult({
      startTime: start,
      completionTime: end,
      members: [],
      disarmed: [],
      error: 'gate "x"',
    });
    assert.deepEqual(JSON.parse(line), {
      startTime: '2025-03-04T05:06:07Z',
      completionTime: '2025-03-04T05:06:09Z',
      members: [],
      disarmed: [],
      error: 'gate "x"',
    });
  });

  it('stays within 4000 bytes: long errors clipped, then trailing members left out', () => {
    const long = 'e'.repeat(3000);
    const few = renderDefragResult({
      startTime: start,
      completionTime: end,
      members: [0, 1, 2].map((i) => ({ ...done, name: `kv-${i}`, error: long })),
      disarmed: [],
      error: long,
    });
    assert.ok(few.length <= resultBytesMax, String(few.length));
    const parsed = parse(few);
    assert.equal(parsed.members.length, 3);
    assert.ok(
      (parsed.members[0]?.error ?? '').length < 400 && (parsed.members[0]?.error ?? '').endsWith('…'),
    );

    const many = renderDefragResult({
      startTime: start,
      completionTime: end,
      members: Array.from({ length: 60 }, (_, i) => ({ ...done, name: `kv-${i}`, error: long })),
      disarmed: [],
    });
    assert.ok(many.length <= resultBytesMax, String(many.length));
    assert.ok(many.endsWith('}\n') && many.indexOf('\n') === many.length - 1);
    const p = parse(many);
    assert.equal(p.truncated, true);
    assert.ok(p.members.length > 5 && p.members.length < 60, String(p.members.length));
    assert.deepEqual(
      p.members.map((m) => m.name),
      Array.from({ length: p.members.length }, (_, i) => `kv-${i}`),
    );
  });
});
