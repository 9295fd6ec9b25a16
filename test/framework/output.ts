// Parsing etcdctl output exactly: JSON with 64-bit integers, the client's JSON warning lines on stderr,
// tablewriter tables (-w table), and a readable line diff for failure messages.

// ---------------------------------------------------------------------------------------------
// JSON with uint64 ids
// ---------------------------------------------------------------------------------------------

/**
 * JSON.parse that keeps integers beyond Number.MAX_SAFE_INTEGER exact by turning them into decimal
 * strings (etcd's cluster_id / member_id are uint64). Safe integers stay numbers.
 */
export function parseJson(text: string): unknown {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      // copy a string literal verbatim
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < n && /[0-9.eE+-]/.test(text[j]!)) j++;
      const lit = text.slice(i, j);
      if (/^-?\d+$/.test(lit) && !Number.isSafeInteger(Number(lit))) out += `"${lit}"`;
      else out += lit;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}

/** Base64 as etcdctl prints keys and values in JSON. */
export function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

// ---------------------------------------------------------------------------------------------
// stderr: etcdctl (the Go client) logs a JSON warning line per failed unary attempt
// ---------------------------------------------------------------------------------------------

export interface SplitStderr {
  /** The `error` fields of the client's JSON log lines, e.g. `rpc error: code = OutOfRange desc = ...`. */
  clientErrors: string[];
  /** Everything else, line by line (e.g. `Error: etcdserver: ...`). */
  lines: string[];
}

/** Separates the Go client's JSON log lines (which carry timestamps and random ids) from the rest. */
export function splitStderr(stderr: string): SplitStderr {
  const clientErrors: string[] = [];
  const lines: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.startsWith('{"level":')) {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        clientErrors.push(typeof rec['error'] === 'string' ? rec['error'] : String(rec['msg']));
        continue;
      } catch {
        /* not JSON after all */
      }
    }
    if (line !== '') lines.push(line);
  }
  return { clientErrors, lines };
}

/** `rpc error: code = <Code> desc = <message>` → { code, desc }. */
export function parseRpcError(s: string): { code: string; desc: string } | undefined {
  const m = /^rpc error: code = (\w+) desc = (.*)$/.exec(s);
  return m ? { code: m[1]!, desc: m[2]! } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Tables (github.com/olekukonko/tablewriter as configured by etcdctl: header centred, cells right-aligned)
// ---------------------------------------------------------------------------------------------

export interface Table {
  header: string[];
  rows: string[][];
}

/** Parses a `-w table` output. Throws if the text is not a table. */
export function parseTable(text: string): Table {
  const lines = text.split('\n').filter((l) => l !== '');
  const cellLines = lines.filter((l) => l.startsWith('|'));
  if (cellLines.length === 0 || !lines.every((l) => l.startsWith('|') || l.startsWith('+'))) {
    throw new Error(`not a table:\n${text}`);
  }
  const cells = (l: string): string[] =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  const [head, ...rows] = cellLines.map(cells);
  return { header: head!, rows };
}

function padCentre(s: string, w: number): string {
  const gap = w - [...s].length;
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + s + ' '.repeat(gap - left);
}

/** Renders a table exactly as etcdctl 3.4 does. */
export function renderTable(t: Table): string {
  const widths = t.header.map((h, i) =>
    Math.max(...[h, ...t.rows.map((r) => r[i] ?? '')].map((c) => [...c].length)),
  );
  const border = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const line = (cells: string[], pad: (s: string, w: number) => string): string =>
    '|' + widths.map((w, i) => ` ${pad(cells[i] ?? '', w)} `).join('|') + '|\n';
  let out = border + line(t.header, padCentre) + border;
  for (const r of t.rows) out += line(r, (s, w) => ' '.repeat(w - [...s].length) + s);
  return out + border;
}

// ---------------------------------------------------------------------------------------------
// Line diff (LCS) for readable failure messages
// ---------------------------------------------------------------------------------------------

/** A unified-style diff: `  ` common, `- ` only in `expected`, `+ ` only in `actual`. */
export function lineDiff(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const m = a.length;
  const n = b.length;
  if (m * n > 4_000_000) return `--- expected\n${expected}\n+++ actual\n${actual}`;
  const lcs: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0));
  for (let i = m - 1; i >= 0; i--) {
    for (let j = n - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < m || j < n) {
    if (i < m && j < n && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < m && (j === n || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${a[i]}`);
      i++;
    } else {
      out.push(`+ ${b[j]}`);
      j++;
    }
  }
  return out.join('\n');
}
