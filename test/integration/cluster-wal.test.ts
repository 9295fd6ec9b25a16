// WAL damage on a follower of a 3-member cluster (`<data-dir>/member/wal/*.wal`, etcd's byte format in
// both etcd and cairn: 8-byte little-endian length frames, top byte = padding flag, CRC-chained records):
// - the last few bytes of the last record cut off (a torn write at crash time) → the member repairs the
//   tail on start (etcd: "repairing" the WAL, truncating to the last whole record), rejoins and catches up;
// - one byte flipped in a record in the middle of the log (not the tail) → the member refuses to start,
//   exits non-zero and says why (etcd 3.4: "walpb: crc mismatch"); the other two go on.
import assert from 'node:assert/strict';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { kvClient, startCluster, type Cluster, type ClusterMember } from '../framework/index.js';

interface Frame {
  offset: number;
  end: number;
  dataLen: number;
}

/** The whole frames of a segment, up to the first zero length field (preallocated tail) or torn frame. */
function frames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const field = buf.readBigUInt64LE(off);
    if (field === 0n) break;
    const dataLen = Number(field & 0x00ff_ffff_ffff_ffffn);
    const flag = Number(field >> 56n);
    const pad = (flag & 0x80) !== 0 ? flag & 0x7 : 0;
    const end = off + 8 + dataLen + pad;
    if (end > buf.length) break;
    out.push({ offset: off, end, dataLen });
    off = end;
  }
  return out;
}

async function segments(m: ClusterMember): Promise<string[]> {
  const names = (await readdir(m.walDir)).filter((n) => n.endsWith('.wal')).sort();
  assert.ok(names.length > 0, `no WAL segment in ${m.walDir}`);
  return names.map((n) => join(m.walDir, n));
}

async function write(via: ClusterMember[], prefix: string, n: number): Promise<void> {
  const client = kvClient(via);
  try {
    for (let i = 0; i < n; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, j) =>
          client
            .put(`${prefix}${i + j}`)
            .value('v')
            .exec(),
        ),
      );
    }
  } finally {
    client.close();
  }
}

describe('cluster: WAL repair and corruption', () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it(
    'a torn last record is repaired; a flipped byte mid-log refuses start',
    { timeout: 120_000 },
    async (t) => {
      cluster = await startCluster({ size: 3 });
      const c = cluster;
      const leader = await c.leader();
      const follower = c.members.find((m) => m !== leader)!;
      const others = c.members.filter((m) => m !== follower);
      await write(c.members, 'wal/a', 200);
      await c.waitConverged();
      await follower.stop(); // SIGTERM: a clean stop, then damage the files

      // 1. Torn tail: cut the last 3 bytes of the last record of the last segment.
      const segs = await segments(follower);
      const last = segs[segs.length - 1]!;
      const lastFrames = frames(await readFile(last));
      assert.ok(lastFrames.length > 2, `only ${lastFrames.length} records in ${last}`);
      const tail = lastFrames[lastFrames.length - 1]!;
      await truncate(last, tail.end - 3);
      t.diagnostic(
        `${segs.length} segment(s); truncated ${last} to ${tail.end - 3} bytes (${lastFrames.length} records)`,
      );

      await write(others, 'wal/b', 100); // progress it has to catch up on
      await follower.restart(); // waits for endpoint health: it serves linearizable reads again
      await c.waitConverged(c.members, 30_000);
      const b = await follower.ctl(['get', 'wal/b99', '--print-value-only']);
      assert.equal(b.stdout, 'v\n', b.stderr);
      // It says so (etcd: "repairing" / "repaired WAL", error "unexpected EOF"; cairn: "repairing a torn write").
      const restartLog = follower.logs().split('--- [framework] start #2')[1] ?? '';
      const repairLog = restartLog.split('\n').filter((l) => /repair/i.test(l));
      assert.ok(
        repairLog.length > 0,
        `the restarted member does not log a WAL repair:\n${restartLog.slice(0, 4000)}`,
      );
      t.diagnostic(`repair log: ${repairLog.slice(0, 3).join(' | ')}`);

      // 2. Mid-log corruption: flip the last data byte of a record in the middle of the first segment.
      await follower.stop();
      const first = (await segments(follower))[0]!;
      const buf = await readFile(first);
      const fs = frames(buf);
      const candidates = fs.slice(Math.floor(fs.length / 3), fs.length - 2).filter((f) => f.dataLen > 16);
      assert.ok(
        candidates.length > 0,
        `no record in the middle of ${first} to corrupt (${fs.length} records)`,
      );
      const victim = candidates[Math.floor(candidates.length / 2)]!;
      const at = victim.offset + 8 + victim.dataLen - 1;
      buf[at] = buf[at]! ^ 0xff;
      await writeFile(first, buf);
      t.diagnostic(`flipped byte ${at} of ${first} (record ${fs.indexOf(victim)} of ${fs.length})`);

      await follower.restart({ waitReady: false });
      assert.ok(await follower.waitExit(20_000), 'a member with a corrupt WAL must not keep running');
      const exit = follower.exitStatus!;
      assert.notEqual(exit.code, 0, `exit status ${JSON.stringify(exit)}`);
      // etcd echoes its config at start, which contains "initial-corrupt-check": not a diagnosis, ignored.
      const startLog = (follower.logs().split('--- [framework] start #3')[1] ?? '').replace(
        /corrupt-check/g,
        '',
      );
      const fatal = startLog.split('\n').filter((l) => /wal/i.test(l) && /crc|corrupt/i.test(l));
      assert.ok(
        fatal.length > 0,
        `the refusal does not name the cause (WAL, crc/corrupt):\n${startLog.slice(-3000)}`,
      );
      t.diagnostic(`exit ${JSON.stringify(exit)}; ${fatal.slice(0, 2).join(' | ')}`);

      // The two others still form a quorum.
      assert.equal((await leader.ctl(['put', 'wal/after', 'ok'])).code, 0);
    },
  );
});
