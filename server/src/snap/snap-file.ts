import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { crc32c } from '../util/crc32c.js';

/**
 * One snapshot file, etcd's snappb layout: a protobuf `Snapshot{crc = 1 (uint32), data = 2 (bytes)}`
 * where data is the encoded raftpb Snapshot (metadata and the application's data) and crc is the
 * CRC-32C of data, so a torn or flipped file is recognised before anything trusts it.
 */
export class SnapFileError extends Error {
  override readonly name = 'SnapFileError';
}

export function encodeSnapFile(data: Uint8Array): Uint8Array {
  return new BinaryWriter().uint32(8).uint32(crc32c(data)).uint32(18).bytes(data).finish();
}

/** The raftpb Snapshot bytes of a snapshot file, after checking the CRC. */
export function decodeSnapFile(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) throw new SnapFileError('empty snapshot file');
  let crc: number | undefined;
  let data: Uint8Array | undefined;
  try {
    const r = new BinaryReader(bytes);
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (field === 1 && wireType === WireType.Varint) crc = r.uint32();
      else if (field === 2 && wireType === WireType.LengthDelimited) data = r.bytes();
      else r.skip(wireType);
    }
  } catch (e) {
    throw new SnapFileError(`unreadable snapshot file: ${(e as Error).message}`);
  }
  if (crc === undefined || data === undefined) throw new SnapFileError('snapshot file without crc or data');
  if (crc32c(data) !== crc) throw new SnapFileError('crc mismatch');
  return data;
}
