// Go's text/tabwriter as etcdctl's help uses it: Init(w, minwidth 0, tabwidth 8, padding 1, padchar '\t',
// flags 0). A cell is text terminated by '\t'; the text after the last tab of a line is not a cell. A
// "column block" is a run of consecutive lines that all have a cell in that column; its width is the
// widest cell + padding, and with '\t' as padchar every cell is padded with tabs to the next multiple
// of tabwidth at or after that width.

const tabWidthColumns = 8;
const cellPaddingColumns = 1;

interface Cell {
  text: string;
  width: number;
}

export function formatTabs(text: string): string {
  const lines: Cell[][] = text
    .split('\n')
    .map((l) => l.split('\t').map((t) => ({ text: t, width: [...t].length })));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!;
      let s = '';
      for (let j = 0; j < line.length; j++) {
        const c = line[j]!;
        s += c.text;
        if (j < widths.length && j < line.length - 1) {
          const cellw = Math.ceil(widths[j]! / tabWidthColumns) * tabWidthColumns;
          s += '\t'.repeat(Math.ceil((cellw - c.width) / tabWidthColumns));
        }
      }
      out.push(s);
    }
  };

  // Go's recursive Writer.format: find column blocks for column `widths.length` in [line0, line1).
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let width = 0;
      for (; t < line1; t++) {
        const line = lines[t]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column]!.width + cellPaddingColumns);
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
      // Like Go, the loop's t++ then skips line t: it has no cell in this column.
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}
