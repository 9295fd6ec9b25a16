// github.com/olekukonko/tablewriter v0.0.5 as etcdctl's -w table configures it: borders, a centred
// upper-case header, cells aligned right, and the library's defaults of wrapping cells at 30 columns
// (with "minimum raggedness" line breaking) and reflowing multi-line cells into one paragraph.
//
//   +----------+---------+
//   |    ID    | STATUS  |      header: centred (gap split floor/ceil)
//   +----------+---------+
//   | 8e9e05c5 | started |      cells: right-aligned
//   +----------+---------+

/** Max cell width before wrapping (tablewriter's MAX_ROW_WIDTH). */
const maxCellWidthColumns = 30;
/** Penalty for a line that is longer than the limit (tablewriter's defaultPenalty). */
const overlongLinePenalty = 1e5;

/** go-runewidth's StringWidth, approximated: East Asian wide runes count 2, combining marks 0. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const r = ch.codePointAt(0)!;
    if (/\p{M}/u.test(ch) || r === 0x200b) continue;
    const wide =
      (r >= 0x1100 && r <= 0x115f) ||
      (r >= 0x2e80 && r <= 0xa4cf && r !== 0x303f) ||
      (r >= 0xac00 && r <= 0xd7a3) ||
      (r >= 0xf900 && r <= 0xfaff) ||
      (r >= 0xfe30 && r <= 0xfe4f) ||
      (r >= 0xff00 && r <= 0xff60) ||
      (r >= 0xffe0 && r <= 0xffe6) ||
      (r >= 0x1f300 && r <= 0x1f64f) ||
      (r >= 0x1f900 && r <= 0x1f9ff) ||
      (r >= 0x20000 && r <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

/** tablewriter.WrapWords: line breaking with minimal raggedness (sum of squared slack). */
function wrapWords(words: string[], spc: number, lim: number, pen: number): string[][] {
  const n = words.length;
  const length: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(n).fill(0);
    row[i] = displayWidth(words[i]!);
    for (let j = i + 1; j < n; j++) row[j] = row[j - 1]! + spc + displayWidth(words[j]!);
    length.push(row);
  }
  const nbrk = new Array<number>(n).fill(0);
  const cost = new Array<number>(n).fill(2 ** 31 - 1);
  for (let i = n - 1; i >= 0; i--) {
    if (length[i]![n - 1]! <= lim) {
      cost[i] = 0;
      nbrk[i] = n;
    } else {
      for (let j = i + 1; j < n; j++) {
        const d = lim - length[i]![j - 1]!;
        let c = d * d + cost[j]!;
        if (length[i]![j - 1]! > lim) c += pen;
        if (c < cost[i]!) {
          cost[i] = c;
          nbrk[i] = j;
        }
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; i = nbrk[i]!) lines.push(words.slice(i, nbrk[i]));
  return lines;
}

/** tablewriter.WrapString: words are split on single spaces (so runs of spaces give empty words). */
function wrapString(s: string, lim: number): string[] {
  const words = s.replace(/\n/g, ' ').split(' ');
  for (const w of words) lim = Math.max(lim, displayWidth(w));
  return wrapWords(words, 1, lim, overlongLinePenalty).map((line) => line.join(' '));
}

/** parseDimension: the lines a cell is printed as, and its width. */
function cellLines(text: string): { lines: string[]; width: number } {
  const raw = text.split('\n');
  let maxWidth = Math.min(Math.max(0, ...raw.map(displayWidth)), maxCellWidthColumns);
  // reflowText: one paragraph of everything.
  const lines = wrapString(raw.join(' '), maxWidth);
  for (const l of lines) maxWidth = Math.max(maxWidth, displayWidth(l));
  return { lines, width: maxWidth };
}

/** tablewriter.Title: '_' and (non-numeric) '.' become spaces, trimmed, upper-cased. */
function title(name: string): string {
  const rs = [...name];
  const isNumOrSpace = (c: string | undefined): boolean => c !== undefined && /^[0-9 ]$/.test(c);
  for (let i = 0; i < rs.length; i++) {
    if (rs[i] === '_') rs[i] = ' ';
    else if (
      rs[i] === '.' &&
      ((i !== 0 && !isNumOrSpace(rs[i - 1])) || (i !== rs.length - 1 && !isNumOrSpace(rs[i + 1])))
    ) {
      rs[i] = ' ';
    }
  }
  const t = rs.join('').trim();
  return (t === '' && name.length > 0 ? ' ' : t).toUpperCase();
}

/** Renders a table exactly as etcdctl's table printer does. Text in, text out (UTF-16). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = new Map<number, number>();
  const grow = (col: number, w: number): void => {
    const v = widths.get(col);
    if (v === undefined || v < w || v === 0) widths.set(col, w);
  };
  const headerCells = header.map((h, i) => {
    const c = cellLines(h);
    grow(i, c.width);
    return c.lines;
  });
  const bodyRows = rows.map((row) =>
    row.map((v, i) => {
      const c = cellLines(v);
      grow(i, c.width);
      return c.lines;
    }),
  );
  const cs = [...Array(widths.size).keys()].map((i) => widths.get(i) ?? 0);
  const line = '+' + cs.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const padCentre = (s: string, w: number): string => {
    const gap = w - displayWidth(s);
    if (gap <= 0) return s;
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  };
  const padLeft = (s: string, w: number): string => ' '.repeat(Math.max(0, w - displayWidth(s))) + s;

  let out = line;
  const headerHeight = Math.max(0, ...headerCells.map((c) => c.length));
  for (let x = 0; x < headerHeight; x++) {
    out += '|';
    for (let y = 0; y < cs.length; y++) out += ` ${padCentre(title(headerCells[y]?.[x] ?? ''), cs[y]!)} |`;
    out += '\n';
  }
  out += line;
  for (const cells of bodyRows) {
    const height = Math.max(0, ...cells.map((c) => c.length));
    for (let x = 0; x < height; x++) {
      out += '|';
      for (let y = 0; y < cells.length; y++) out += ` ${padLeft(cells[y]![x] ?? '  ', cs[y]!)} |`;
      out += '\n';
    }
  }
  return out + line;
}
