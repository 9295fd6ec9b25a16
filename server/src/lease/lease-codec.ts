import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

/**
 * The 'lease' bucket, byte for byte as etcd's: key = the lease ID as 8 bytes big-endian, value = a
 * leasepb.Lease protobuf message.
 *
 *   key    +---------------------------+
 *          | ID (int64, big-endian)    |  8 bytes
 *          +---------------------------+
 *   value  leasepb.Lease { int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3; }
 *
 * RemainingTTL (lease checkpoints) is written as 0 and ignored on read: Cairn does not checkpoint.
 */
export interface LeaseRecord {
  readonly id: bigint;
  readonly ttlSeconds: bigint;
}

export function leaseKey(id: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(id);
  return b;
}

export function encodeLeaseRecord(r: LeaseRecord): Buffer {
  const w = new BinaryWriter();
  if (r.id !== 0n) w.uint32(8).int64(r.id);
  if (r.ttlSeconds !== 0n) w.uint32(16).int64(r.ttlSeconds);
  return Buffer.from(w.finish());
}

export function decodeLeaseRecord(key: Buffer, value: Buffer): LeaseRecord {
  if (key.length !== 8) throw new Error(`lease: bucket key of ${key.length} bytes (want 8)`);
  const r = new BinaryReader(value);
  let id = 0n;
  let ttlSeconds = 0n;
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag) {
      case 8:
        id = BigInt(r.int64());
        break;
      case 16:
        ttlSeconds = BigInt(r.int64());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (id !== key.readBigInt64BE()) {
    throw new Error(`lease: record ${id.toString(16)} stored under key ${key.toString('hex')}`);
  }
  return { id, ttlSeconds };
}
