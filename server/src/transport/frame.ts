import { assert } from '../util/assert.js';
import { TransportError } from './errors.js';

/**
 * Length-prefixed frames, the body of a /raft/stream request:
 *
 *   ┌──────────────────────┬────────────────────────────────────┐
 *   │ length: u32 big-end. │ raftpb Message (encodeMessage), len │  ... repeated until the stream ends
 *   └──────────────────────┴────────────────────────────────────┘
 *
 * A Message always encodes to at least its type field, so a zero length is malformed, like a length above
 * the receiver's frameBytesMax.
 */
export const FRAME_HEADER_BYTES = 4;

/** Concatenates frames for `messages` into one buffer: one stream write for the whole batch. */
export function encodeFrames(messages: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const m of messages) total += FRAME_HEADER_BYTES + m.length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const m of messages) {
    out.writeUInt32BE(m.length, off);
    out.set(m, off + FRAME_HEADER_BYTES);
    off += FRAME_HEADER_BYTES + m.length;
  }
  assert(off === total, 'encodeFrames: every byte written');
  return out;
}

export function frameBytes(message: Uint8Array): number {
  return FRAME_HEADER_BYTES + message.length;
}

/**
 * Incremental frame parser for a byte stream that arrives in arbitrary chunks. A frame held entirely in
 * one chunk is returned as a view of it (no copy); a frame that spans chunks is assembled into one buffer
 * allocated once at its final size, so a large frame costs one copy, never a quadratic re-concatenation.
 * Memory held between calls: at most 3 header bytes or one partial frame (≤ frameBytesMax).
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  // The frame being assembled across chunks, or undefined while reading a header.
  private body: Uint8Array | undefined;
  private bodyFill = 0;

  constructor(private readonly frameBytesMax: number) {}

  /** Bytes of an incomplete frame held back (header included). */
  bufferedBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  /**
   * Feeds a chunk; returns the complete frames' payloads in order, and the error that stopped parsing
   * (a bad length) if any: the frames before a malformed one are still good and returned. After an
   * error the decoder must not be fed again.
   */
  push(chunk: Uint8Array): { frames: Uint8Array[]; error: TransportError | undefined } {
    const out: Uint8Array[] = [];
    try {
      this.parse(chunk, out);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      return { frames: out, error: err };
    }
    return { frames: out, error: undefined };
  }

  private parse(chunk: Uint8Array, out: Uint8Array[]): void {
    let off = 0;
    // Bounded: every iteration consumes at least one byte of the chunk or returns.
    while (off < chunk.length) {
      if (this.body === undefined) {
        if (this.headerFill === 0 && chunk.length - off >= FRAME_HEADER_BYTES) {
          // Fast path: the whole header is in this chunk.
          const len = readLength(chunk, off);
          this.checkLength(len);
          off += FRAME_HEADER_BYTES;
          if (chunk.length - off >= len) {
            out.push(chunk.subarray(off, off + len));
            off += len;
            continue;
          }
          this.body = new Uint8Array(len);
          this.bodyFill = 0;
          continue;
        }
        const n = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - off);
        this.header.set(chunk.subarray(off, off + n), this.headerFill);
        this.headerFill += n;
        off += n;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        const len = this.header.readUInt32BE(0);
        this.headerFill = 0;
        this.checkLength(len);
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
        continue;
      }
      const n = Math.min(this.body.length - this.bodyFill, chunk.length - off);
      this.body.set(chunk.subarray(off, off + n), this.bodyFill);
      this.bodyFill += n;
      off += n;
      if (this.bodyFill === this.body.length) {
        out.push(this.body);
        this.body = undefined;
        this.bodyFill = 0;
      }
    }
  }

  private checkLength(len: number): void {
    if (len === 0) throw new TransportError('ErrFrameEmpty', 'frame of length 0 (a Message is never empty)');
    if (len > this.frameBytesMax) {
      throw new TransportError(
        'ErrFrameTooLarge',
        `frame of ${len} bytes exceeds frameBytesMax=${this.frameBytesMax}`,
      );
    }
  }
}

function readLength(b: Uint8Array, off: number): number {
  return (
    ((b[off] ?? 0) * 2 ** 24 + ((b[off + 1] ?? 0) << 16) + ((b[off + 2] ?? 0) << 8) + (b[off + 3] ?? 0)) >>> 0
  );
}
