// How the CLI prints: JSON for scripts (--json), aligned tables and short texts for people, with
// colour only on a terminal (and never with NO_COLOR). Values from runs may be anything a workflow
// stored, so they are turned into plain JSON first (errors, bigints, maps, sets, dates).
import { styleText } from 'node:util';
import { toPlainJson } from '../serialization/plain-json';

export { toPlainJson };

/** Where a command writes; the process's streams, or buffers in tests. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `out` is a terminal: colour and the widest layouts only then. */
  colour: boolean;
}

export type Colour = 'green' | 'red' | 'yellow' | 'cyan' | 'gray' | 'bold';

export function paint(io: CliIo, colour: Colour, text: string): string {
  return io.colour ? styleText(colour, text) : text;
}

/** Prints `data` as one line of JSON. */
export function printJson(io: CliIo, data: unknown): void {
  io.out(`${JSON.stringify(toPlainJson(data))}\n`);
}

/** One line of a value for a table cell or a field: JSON, cut at `max` characters. */
export function shortValue(value: unknown, max = 120): string {
  if (value === undefined) return '-';
  const text = JSON.stringify(toPlainJson(value));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface Column<Row> {
  header: string;
  cell: (row: Row) => string;
  colour?: (row: Row) => Colour | undefined;
  /** Right-aligned (numbers, durations). */
  right?: boolean;
}

/** An aligned table: a header line, then one line per row. */
export function printTable<Row>(io: CliIo, rows: Row[], columns: Column<Row>[]): void {
  const cells = rows.map((row) => columns.map((column) => column.cell(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)));
  const pad = (text: string, i: number): string =>
    columns[i]!.right ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  io.out(
    `${paint(
      io,
      'bold',
      columns
        .map((column, i) => pad(column.header, i))
        .join('  ')
        .trimEnd(),
    )}\n`,
  );
  rows.forEach((row, r) => {
    const line = columns.map((column, i) => {
      const text = pad(cells[r]![i]!, i);
      const colour = column.colour?.(row);
      return colour ? paint(io, colour, text) : text;
    });
    io.out(`${line.join('  ').trimEnd()}\n`);
  });
}

/** The colour of a run's or a step's status. */
export function statusColour(status: string): Colour | undefined {
  if (status === 'completed') return 'green';
  if (status === 'failed') return 'red';
  if (status === 'cancelled') return 'gray';
  if (status === 'running') return 'cyan';
  if (status === 'waiting' || status === 'sleeping' || status === 'retrying') return 'yellow';
  return undefined;
}

/** 950 ms, 12.3 s, 4 min 2 s, 3 h 10 min, 2 d 4 h. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.round(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3_600)} h`;
}

/** A time as the CLI shows it: ISO 8601 in UTC, to the second. */
export function formatTime(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 19)}Z` : '-';
}
