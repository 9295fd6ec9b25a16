// pflag's string-slice flags (--endpoints) read their value as one encoding/csv record and print their
// value as one: `--endpoints 'a,"b,c"'` is [a, b,c], and the default prints as [127.0.0.1:2379].

export class GoCsvError extends Error {}

/** csv.NewReader(value).Read() with default settings: the first record of `value`. */
export function readCsvRecord(value: string): string[] {
  if (value === '') return [];
  const fields: string[] = [];
  let i = 0;
  const line = value.split('\n')[0]!.replace(/\r$/, '');
  const fail = (col: number, what: string): GoCsvError =>
    new GoCsvError(`parse error on line 1, column ${col}: ${what}`);
  for (;;) {
    if (line[i] !== '"') {
      const end = line.indexOf(',', i);
      const field = end < 0 ? line.slice(i) : line.slice(i, end);
      const q = field.indexOf('"');
      if (q >= 0) throw fail(i + q + 1, 'bare " in non-quoted-field');
      fields.push(field);
      if (end < 0) return fields;
      i = end + 1;
      continue;
    }
    // Quoted field: "" is an escaped quote; the closing quote must be followed by ',' or the end.
    let field = '';
    i++;
    for (;;) {
      const q = line.indexOf('"', i);
      if (q < 0) throw fail(line.length + 1, 'extraneous or missing " in quoted-field');
      field += line.slice(i, q);
      if (line[q + 1] === '"') {
        field += '"';
        i = q + 2;
        continue;
      }
      i = q + 1;
      break;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    if (line[i] !== ',') throw fail(i + 1, 'extraneous or missing " in quoted-field');
    i++;
  }
}

/** csv.Writer.Write of one record, without the trailing newline. */
export function writeCsvRecord(values: readonly string[]): string {
  return values
    .map((f) => {
      const needsQuotes = f !== '' && (f === '\\.' || /[,"\r\n]/.test(f) || /^[ \t]/.test(f));
      return needsQuotes ? `"${f.replace(/"/g, '""')}"` : f;
    })
    .join(',');
}
