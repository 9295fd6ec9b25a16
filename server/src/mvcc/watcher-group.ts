import type { Watcher } from './watcher.js';

/**
 * The synced watchers, indexed so that finding the watchers of a changed key does not visit unrelated
 * ones: single-key watchers by key; range watchers by their range (watchers of the same prefix share
 * one entry, which is how kube-apiserver watches: one prefix per resource type).
 */
export class WatcherGroup {
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly byRange = new Map<string, { sample: Watcher; watchers: Set<Watcher> }>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(w: Watcher): void {
    const set = this.slot(w, true)!;
    if (!set.has(w)) {
      set.add(w);
      this.count++;
    }
  }

  delete(w: Watcher): boolean {
    const set = this.slot(w, false);
    if (set === undefined || !set.delete(w)) return false;
    this.count--;
    if (set.size === 0) {
      if (w.opts.range.end === undefined) this.byKey.delete(keyOf(w.opts.range.key));
      else this.byRange.delete(rangeId(w));
    }
    return true;
  }

  /** Calls `fn` for each watcher whose range holds `key`. */
  forKey(key: Buffer, fn: (w: Watcher) => void): void {
    const exact = this.byKey.get(keyOf(key));
    if (exact !== undefined) for (const w of exact) fn(w);
    for (const { sample, watchers } of this.byRange.values()) {
      if (sample.matches(key)) for (const w of watchers) fn(w);
    }
  }

  *all(): Generator<Watcher> {
    for (const set of this.byKey.values()) yield* set;
    for (const { watchers } of this.byRange.values()) yield* watchers;
  }

  private slot(w: Watcher, create: boolean): Set<Watcher> | undefined {
    if (w.opts.range.end === undefined) {
      const k = keyOf(w.opts.range.key);
      let set = this.byKey.get(k);
      if (set === undefined && create) this.byKey.set(k, (set = new Set()));
      return set;
    }
    const id = rangeId(w);
    let entry = this.byRange.get(id);
    if (entry === undefined && create) this.byRange.set(id, (entry = { sample: w, watchers: new Set() }));
    return entry?.watchers;
  }
}

function keyOf(key: Buffer): string {
  return key.toString('latin1');
}

function rangeId(w: Watcher): string {
  return `${keyOf(w.opts.range.key)}\u0100${keyOf(w.opts.range.end!)}`;
}
