// Shows progress on stderr: a bar redrawn in place on a terminal, or a plain line every few seconds
// when stderr is a file or a pipe (CI logs), so that logs are not filled with carriage returns.
const barWidth = 30;
const plainLineEveryMs = 5_000;

export class ProgressBar {
  // Counted from the first update, so that setting up before the work starts does not lower the rate.
  private startedAt: number | undefined;
  private lastPlainLineAt = 0;
  private lastDone = -1;
  private drawn = false;

  constructor(
    private readonly total: number,
    private readonly unit: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number): void {
    if (done === this.lastDone) return;
    this.lastDone = done;
    const line = this.describe(done);
    if (this.stream.isTTY) {
      const filled = Math.round((barWidth * done) / this.total);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${line}\x1b[K`);
      this.drawn = true;
    } else if (Date.now() - this.lastPlainLineAt >= plainLineEveryMs || done === this.total) {
      this.stream.write(`progress: ${line}\n`);
      this.lastPlainLineAt = Date.now();
    }
  }

  /** Prints a line of text without tearing the bar: clears it first; the next update redraws it. */
  print(text: string): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
    process.stdout.write(`${text}\n`);
  }

  /** Leaves the bar where it is and moves to the next line. */
  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private describe(done: number): string {
    this.startedAt ??= Date.now();
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? formatSeconds((this.total - done) / rate) : '?';
    const percent = Math.floor((100 * done) / this.total);
    return `${percent}% ${done.toLocaleString('en')}/${this.total.toLocaleString('en')} ${this.unit}, ${Math.round(rate)} ${this.unit}/s, ETA ${eta}`;
  }
}

function formatSeconds(seconds: number): string {
  const s = Math.ceil(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
