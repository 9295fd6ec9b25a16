// The report arithmetic on hand-made latencies: etcd pkg/report's percentiles, population stddev,
// histogram buckets, and the printed and JSON forms.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeStats,
  formatReport,
  histogram,
  jsonSummary,
  percentile,
} from '../../../server/src/bench/report.js';
import { putKey, putVarint } from '../../../server/src/bench/keys.js';

const ms = (...xs: number[]): number[] => xs.map((x) => x / 1000);

describe('computeStats', () => {
  it('fastest, slowest, average, population stddev and requests/sec', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9 ms: mean 5, population stddev 2 (the textbook example).
    const s = computeStats({ latenciesSec: ms(9, 2, 4, 7, 4, 5, 4, 5), errors: new Map(), totalSec: 0.5 });
    assert.deepEqual(s.sortedSec, ms(2, 4, 4, 4, 5, 5, 7, 9));
    assert.equal(s.fastestSec, 0.002);
    assert.equal(s.slowestSec, 0.009);
    assert.ok(Math.abs(s.averageSec - 0.005) < 1e-12);
    assert.ok(Math.abs(s.stddevSec - 0.002) < 1e-12);
    assert.equal(s.rps, 16);
  });

  it('is all zeros without samples', () => {
    const s = computeStats({ latenciesSec: [], errors: new Map([['boom', 3]]), totalSec: 1 });
    assert.equal(s.averageSec, 0);
    assert.equal(s.stddevSec, 0);
    assert.equal(s.rps, 0);
  });
});

describe('percentile', () => {
  it('uses index ceil(p(n+1)/100)-1, clamped to the samples', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    assert.equal(percentile(hundred, 10), 11); // ceil(10.1) - 1 = 10
    assert.equal(percentile(hundred, 50), 51);
    assert.equal(percentile(hundred, 99), 100); // ceil(99.99) - 1 = 99
    assert.equal(percentile(hundred, 99.9), 100); // index 100 clamped to 99
    const four = [1, 2, 3, 4];
    assert.equal(percentile(four, 10), 1); // ceil(0.5) - 1 = 0
    assert.equal(percentile(four, 50), 3); // ceil(2.5) - 1 = 2
    assert.equal(percentile(four, 75), 4);
    assert.equal(percentile([], 50), 0);
  });
});

describe('histogram', () => {
  const stats = (secs: number[]) => computeStats({ latenciesSec: secs, errors: new Map(), totalSec: 1 });

  it('has ten even marks from fastest plus the slowest, each latency in the first mark >= it', () => {
    const b = histogram(stats([1, 1, 1, 2, 2.5, 11]));
    assert.deepEqual(
      b.map((x) => x.markSec),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    assert.deepEqual(
      b.map((x) => x.count),
      [3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1],
    );
  });

  it('puts every sample in the first bucket when all are equal', () => {
    const b = histogram(stats([3, 3, 3]));
    assert.equal(b.length, 11);
    assert.equal(b[0]?.count, 3);
    assert.equal(
      b.reduce((n, x) => n + x.count, 0),
      3,
    );
  });
});

describe('formatReport and jsonSummary', () => {
  const s = computeStats({
    latenciesSec: ms(2, 4, 4, 4, 5, 5, 7, 9),
    errors: new Map([['context deadline exceeded', 2]]),
    totalSec: 0.5,
  });

  it("prints etcd's sections", () => {
    const text = formatReport(s);
    assert.match(text, /\nSummary:\n {2}Total:\t0\.5000 secs\.\n {2}Slowest:\t0\.0090 secs\.\n/);
    assert.match(
      text,
      / {2}Fastest:\t0\.0020 secs\.\n {2}Average:\t0\.0050 secs\.\n {2}Stddev:\t0\.0020 secs\.\n/,
    );
    assert.match(text, / {2}Requests\/sec:\t16\.0000\n/);
    assert.match(text, /\nResponse time histogram:\n {2}0\.0020 \[1\]\t\|∎{13}\n/);
    // Marks every 0.7 ms from 2 ms: the three 4 ms samples fall under 4.1 ms, the fullest bar.
    assert.match(text, / {2}0\.0041 \[3\]\t\|∎{40}\n {2}0\.0048 \[0\]\t\|\n {2}0\.0055 \[2\]\t\|∎{26}\n/);
    assert.match(
      text,
      /\nLatency distribution:\n {2}10% in 2\.000 ms\.\n {2}25% in 4\.000 ms\.\n {2}50% in 5\.000 ms\.\n/,
    );
    assert.match(text, / {2}99\.9% in 9\.000 ms\.\n/);
    assert.match(text, /\nError distribution:\n {2}\[2\]\tcontext deadline exceeded\n/);
  });

  it('summarises for scripts', () => {
    assert.deepEqual(jsonSummary(s), {
      requests: 8,
      errors: 2,
      errorDist: { 'context deadline exceeded': 2 },
      totalSec: 0.5,
      qps: 16,
      avgMs: 5,
      p50Ms: 5,
      p90Ms: 9,
      p99Ms: 9,
      slowestMs: 9,
    });
  });
});

describe('put keys', () => {
  it("writes Go's zigzag varint into a zero-filled key", () => {
    const k = Buffer.alloc(4);
    putVarint(k, 300); // zigzag 600 = 0b100_1011000 -> d8 04
    assert.deepEqual([...k], [0xd8, 0x04, 0, 0]);
  });

  it('cycles through the key space with sequential keys and stays inside it at random', () => {
    const keys = Array.from({ length: 6 }, (_, i) => putKey(i, 8, 3, true, () => 0.99).toString('hex'));
    assert.deepEqual(keys, ['0000000000000000', '0200000000000000', '0400000000000000', ...keys.slice(0, 3)]);
    assert.equal(putKey(0, 8, 3, false, () => 0.99).toString('hex'), '0400000000000000');
    assert.equal(putKey(5, 8, 3, false, () => 0).toString('hex'), '0000000000000000');
  });
});
