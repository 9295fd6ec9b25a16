import type { ClientHttp2Stream } from 'node:http2';
import { assert } from '../util/assert.js';
import { encodeFrames, frameBytes } from './frame.js';

export interface StreamWriterOptions {
  sendQueueMessagesMax: number;
  batchBytesMax: number;
  /** Called after each write with the frames and bytes it carried. */
  onWrite(frames: number, bytes: number): void;
}

/**
 * The outgoing side of one peer's /raft/stream: a bounded queue of encoded messages and a flusher that
 * writes them in batches. send() only enqueues and schedules a flush with setImmediate, so everything a
 * Ready produces in one turn leaves in one write (up to batchBytesMax, then one more write per turn).
 * When the stream's write() returns false the flusher waits for 'drain' and the queue absorbs the
 * burst; when the queue is full, enqueue() refuses and the caller drops the message.
 */
export class StreamWriter {
  // The queue is an array with a moving head (O(1) dequeue); compacted when the head passes half.
  // Invariant: queue.length - head <= sendQueueMessagesMax.
  private queue: Uint8Array[] = [];
  private head = 0;
  private stream: ClientHttp2Stream | undefined;
  private flushScheduled = false;
  private waitingDrain = false;

  constructor(private readonly opts: StreamWriterOptions) {}

  queued(): number {
    return this.queue.length - this.head;
  }

  /** Queues an encoded message; false when the queue is full (the caller drops it). */
  enqueue(message: Uint8Array): boolean {
    if (this.queued() >= this.opts.sendQueueMessagesMax) return false;
    this.queue.push(message);
    this.schedule();
    return true;
  }

  /** The stream was accepted by the peer: start flushing into it. */
  attach(stream: ClientHttp2Stream): void {
    this.stream = stream;
    this.waitingDrain = false;
    this.schedule();
  }

  /** The stream is gone; queued messages wait for the next one (or are dropped by the caller). */
  detach(): void {
    this.stream = undefined;
    this.waitingDrain = false;
  }

  /** Drops everything queued; returns how many messages were dropped. */
  clear(): number {
    const n = this.queued();
    this.queue = [];
    this.head = 0;
    return n;
  }

  private schedule(): void {
    if (this.flushScheduled || this.stream === undefined || this.waitingDrain || this.queued() === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const stream = this.stream;
    if (stream === undefined || this.waitingDrain || this.queued() === 0) return;
    if (stream.destroyed || stream.writableEnded) return;
    // Take frames up to batchBytesMax, but always at least one (a frame may exceed the batch bound).
    let end = this.head;
    let bytes = 0;
    while (end < this.queue.length) {
      const m = this.queue[end];
      assert(m !== undefined, 'stream writer: queued message present');
      const b = frameBytes(m);
      if (end > this.head && bytes + b > this.opts.batchBytesMax) break;
      bytes += b;
      end++;
    }
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    const buf = encodeFrames(batch);
    const ok = stream.write(buf);
    this.opts.onWrite(batch.length, buf.length);
    if (!ok) {
      this.waitingDrain = true;
      stream.once('drain', () => {
        if (this.stream !== stream) return;
        this.waitingDrain = false;
        this.schedule();
      });
      return;
    }
    this.schedule();
  }
}
