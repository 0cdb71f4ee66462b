// Prints the bench's results as one plain-text table: a column per system, the ratios of zart
// (and DBOS) to the raw floor and of zart to DBOS, and whether each target was met.

export interface TableRow {
  label: string;
  raw?: number;
  dbos?: number;
  zart?: number;
  digits: number;
  /** Print the ratio columns (only where a ratio means something). */
  ratios?: boolean;
  /** `met` returns undefined when a system it compares was not measured. */
  target?: { text: string; met: (row: TableRow) => boolean | undefined };
}

export function formatTable(rows: readonly TableRow[]): string {
  const header = ['', 'raw pg', 'DBOS', 'zart', 'DBOS/raw', 'zart/raw', 'zart/DBOS', 'target'];
  const value = (v: number | undefined, digits: number): string =>
    v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`;
  const lines = rows.map((row) => {
    const met = row.target?.met(row);
    return [
      row.label,
      value(row.raw, row.digits),
      value(row.dbos, row.digits),
      value(row.zart, row.digits),
      row.ratios ? ratio(row.dbos, row.raw) : '',
      row.ratios ? ratio(row.zart, row.raw) : '',
      row.ratios ? ratio(row.zart, row.dbos) : '',
      row.target ? `${row.target.text}: ${met === undefined ? '?' : met ? 'met' : 'MISSED'}` : '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), ...lines.map(format)].join('\n');
}
