/**
 * Which of a peer's URLs to dial: the current one until it fails, then the next (etcd's urlPicker).
 */
export class UrlPicker {
  // Invariant: urls is non-empty and index < urls.length.
  private urls: string[];
  private index = 0;

  constructor(urls: string[]) {
    this.urls = urls;
  }

  pick(): string {
    return this.urls[this.index] ?? this.urls[0] ?? '';
  }

  /** `url` failed: move on to the next URL, unless another failure already did. */
  unreachable(url: string): void {
    if (this.pick() === url) this.index = (this.index + 1) % this.urls.length;
  }

  /** Replaces the URLs; keeps the current one when it is still listed. Returns whether it changed. */
  update(urls: string[]): boolean {
    const current = this.pick();
    this.urls = urls;
    const kept = urls.indexOf(current);
    this.index = kept >= 0 ? kept : 0;
    return kept < 0;
  }

  list(): readonly string[] {
    return this.urls;
  }
}
