/**
 * The event trace: one line per simulator event. Every line goes into a running FNV-1a hash (two runs of
 * one seed must produce the same hash: the determinism test) and into a ring buffer of the most recent
 * lines (printed when a checker fails). With `verbose`, lines are also written out as they happen.
 */
export class Trace {
  private readonly recent: string[] = [];
  private next = 0;
  private hash = 0x811c9dc5;
  lines = 0;

  constructor(
    /** Lines kept for the failure report. */
    private readonly recentLinesMax: number,
    private readonly sink: ((line: string) => void) | undefined,
  ) {}

  get verbose(): boolean {
    return this.sink !== undefined;
  }

  line(time: number, text: string): void {
    const s = `${String(time).padStart(8)} ${text}`;
    let h = this.hash;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 10;
    this.hash = Math.imul(h, 0x01000193);
    this.lines++;
    if (this.recent.length < this.recentLinesMax) this.recent.push(s);
    else this.recent[this.next] = s;
    this.next = (this.next + 1) % this.recentLinesMax;
    this.sink?.(s);
  }

  /** The last lines, oldest first. */
  tail(): string[] {
    if (this.recent.length < this.recentLinesMax) return this.recent.slice();
    return [...this.recent.slice(this.next), ...this.recent.slice(0, this.next)];
  }

  digest(): string {
    return (this.hash >>> 0).toString(16).padStart(8, '0') + ':' + String(this.lines);
  }
}
