// Micro-benchmark of the write-ahead log alone: saves per second and MB/s on this machine's disk, each
// save being what one Ready persists — N entries of 256 B and a hard state, in one write, fdatasynced
// before the next save starts (mustSync). Nothing else runs: no raft, no network, no apply.
//
//   npm run bench:wal [-- --ms 2000 --dir /path/on/the/disk/to/measure]
//
// For N = 1, 16 and 256 entries per save, a fresh WAL (default 64 MiB segments, so cuts are included
// when a run writes that much) is saved to for about --ms milliseconds after a short warm-up. Reported:
// saves/s, entries/s, payload MB/s (entry data only), WAL MB/s (bytes written: framing, CRCs, hard
// states, segment headers) and the mean fdatasync time from etcd_disk_wal_fsync_duration_seconds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const walDir = path.join(repoRoot, 'dist', 'server', 'src', 'wal');

let runMs = 2000;
let baseDir = os.tmpdir();
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--ms' && process.argv[i + 1] !== undefined) runMs = Number(process.argv[++i]);
  else if (process.argv[i] === '--dir' && process.argv[i + 1] !== undefined) baseDir = process.argv[++i];
  else {
    console.error('usage: node hack/bench-wal.mjs [--ms MILLISECONDS] [--dir DIRECTORY]');
    process.exit(2);
  }
}
if (!fs.existsSync(path.join(walDir, 'wal.js'))) {
  console.error('bench-wal: dist/server/src/wal/wal.js not found; run `npm run build` first');
  process.exit(1);
}
const { Wal } = await import(pathToFileURL(path.join(walDir, 'wal.js')).href);
const { newWalMetrics } = await import(pathToFileURL(path.join(walDir, 'metrics.js')).href);
const { Registry } = await import('prom-client');

const ENTRY_BYTES = 256;
const WARMUP_SAVES = 20;
const SAVES_MAX = 1_000_000;

async function metricValue(registry, name, suffix) {
  const m = await registry.getSingleMetric(name).get();
  return m.values.find((v) => v.metricName === undefined || v.metricName === `${name}${suffix}`).value;
}

async function bench(entriesPerSave) {
  const dir = fs.mkdtempSync(path.join(baseDir, 'cairn-bench-wal-'));
  try {
    const registry = new Registry();
    const wal = await Wal.create(path.join(dir, 'wal'), Buffer.from('bench'), {
      metrics: newWalMetrics(registry),
    });
    const data = Buffer.alloc(ENTRY_BYTES, 0x5a);
    let index = 0;
    const save = () => {
      const entries = [];
      for (let k = 0; k < entriesPerSave; k++) entries.push({ term: 1, index: ++index, type: 0, data });
      return wal.save({ term: 1, vote: 1n, commit: index - entriesPerSave }, entries, true);
    };
    for (let i = 0; i < WARMUP_SAVES; i++) await save();
    const bytes0 = await metricValue(registry, 'etcd_disk_wal_write_bytes_total', '');
    const syncs0 = await metricValue(registry, 'etcd_disk_wal_fsync_duration_seconds', '_count');
    const syncSec0 = await metricValue(registry, 'etcd_disk_wal_fsync_duration_seconds', '_sum');
    let saves = 0;
    const start = performance.now();
    while (performance.now() - start < runMs && saves < SAVES_MAX) {
      await save();
      saves++;
    }
    const sec = (performance.now() - start) / 1000;
    const bytes = (await metricValue(registry, 'etcd_disk_wal_write_bytes_total', '')) - bytes0;
    const syncs = (await metricValue(registry, 'etcd_disk_wal_fsync_duration_seconds', '_count')) - syncs0;
    const syncSec = (await metricValue(registry, 'etcd_disk_wal_fsync_duration_seconds', '_sum')) - syncSec0;
    await wal.close();
    return {
      entriesPerSave,
      savesPerSec: saves / sec,
      entriesPerSec: (saves * entriesPerSave) / sec,
      payloadMBps: (saves * entriesPerSave * ENTRY_BYTES) / sec / 1e6,
      walMBps: bytes / sec / 1e6,
      fsyncMeanMs: (syncSec / syncs) * 1000,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`bench-wal: ${ENTRY_BYTES} B entries, fdatasync every save, ~${runMs} ms per row, in ${baseDir}`);
console.log('entries/save     saves/s    entries/s  payload MB/s   WAL MB/s  fdatasync mean ms');
for (const n of [1, 16, 256]) {
  const r = await bench(n);
  console.log(
    [
      String(n).padStart(12),
      r.savesPerSec.toFixed(0).padStart(11),
      r.entriesPerSec.toFixed(0).padStart(12),
      r.payloadMBps.toFixed(2).padStart(13),
      r.walMBps.toFixed(2).padStart(10),
      r.fsyncMeanMs.toFixed(3).padStart(18),
    ].join(' '),
  );
}
