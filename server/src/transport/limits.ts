import { TransportError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every queue, buffer, timer and retry of the transport, with its unit last. */
export interface TransportLimits {
  /** Messages queued per peer while the stream is busy or down; more are dropped (etcd: 4096). */
  sendQueueMessagesMax: number;
  /** One stream write carries at most this many bytes of frames (at least one frame). */
  batchBytesMax: number;
  /** Largest accepted frame (one encoded Message); larger lengths close the stream. */
  frameBytesMax: number;
  /** Snapshot data is written in chunks of this size, each waiting for 'drain' when needed. */
  snapshotChunkBytes: number;
  /** Largest snapshot data accepted by a receiver (etcd: 1 TiB). */
  snapshotBytesMax: number;
  /** A snapshot send fails when no chunk could be written for this long. */
  snapshotStallTimeoutMs: number;
  /** After the last chunk, the receiver must answer (file synced, MsgSnap delivered) within this. */
  snapshotResponseTimeoutMs: number;
  /** Snapshot receives in progress at once (all peers); more are answered 503. */
  snapshotReceivesInflightMax: number;
  /** Reconnect backoff: first delay, doubled per failure up to the max, with jitter. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** A stream that gets no response within this is abandoned and retried. */
  connectTimeoutMs: number;
  /** HTTP/2 PING every this often on a connected session (RTT histogram, liveness). */
  rttProbeIntervalMs: number;
  /** A PING unanswered for this long closes the session (etcd: 5 s read timeout). */
  rttProbeTimeoutMs: number;
  /** stop() waits at most this long for sessions and snapshot receives to wind down. */
  stopTimeoutMs: number;
  /** HTTP/2 flow-control window per stream and per session: bounds the bytes in flight. */
  streamWindowBytes: number;
  sessionWindowBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = {
  sendQueueMessagesMax: 4096,
  batchBytesMax: 256 * KiB,
  frameBytesMax: 64 * MiB,
  snapshotChunkBytes: 1 * MiB,
  snapshotBytesMax: 1024 * 1024 * MiB,
  snapshotStallTimeoutMs: 30_000,
  snapshotResponseTimeoutMs: 30_000,
  snapshotReceivesInflightMax: 4,
  backoffMinMs: 100,
  backoffMaxMs: 5_000,
  connectTimeoutMs: 5_000,
  rttProbeIntervalMs: 4_000,
  rttProbeTimeoutMs: 5_000,
  stopTimeoutMs: 2_000,
  streamWindowBytes: 1 * MiB,
  sessionWindowBytes: 8 * MiB,
};

// Inclusive bounds; a value outside is a configuration error reported once at construction.
const BOUNDS: Record<keyof TransportLimits, [number, number]> = {
  sendQueueMessagesMax: [1, 1_000_000],
  batchBytesMax: [1 * KiB, 64 * MiB],
  frameBytesMax: [1 * KiB, 1024 * MiB],
  snapshotChunkBytes: [1 * KiB, 64 * MiB],
  snapshotBytesMax: [1, Number.MAX_SAFE_INTEGER],
  snapshotStallTimeoutMs: [1, 3_600_000],
  snapshotResponseTimeoutMs: [1, 3_600_000],
  snapshotReceivesInflightMax: [1, 1024],
  backoffMinMs: [1, 60_000],
  backoffMaxMs: [1, 60_000],
  connectTimeoutMs: [1, 600_000],
  rttProbeIntervalMs: [10, 600_000],
  rttProbeTimeoutMs: [1, 600_000],
  stopTimeoutMs: [1, 60_000],
  streamWindowBytes: [65_535, 2 ** 31 - 1],
  sessionWindowBytes: [65_535, 2 ** 31 - 1],
};

/** The defaults overridden by `overrides`, validated; throws TransportError('ErrInvalidLimit'). */
export function resolveTransportLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits: TransportLimits = { ...DEFAULT_TRANSPORT_LIMITS, ...overrides };
  for (const [name, [lo, hi]] of Object.entries(BOUNDS) as [keyof TransportLimits, [number, number]][]) {
    const v = limits[name];
    if (!Number.isSafeInteger(v) || v < lo || v > hi) {
      throw new TransportError(
        'ErrInvalidLimit',
        `transport limit ${name}=${String(v)} must be an integer in [${lo}, ${hi}]`,
      );
    }
  }
  if (limits.backoffMinMs > limits.backoffMaxMs) {
    throw new TransportError(
      'ErrInvalidLimit',
      `transport limit backoffMinMs=${limits.backoffMinMs} exceeds backoffMaxMs=${limits.backoffMaxMs}`,
    );
  }
  return limits;
}
