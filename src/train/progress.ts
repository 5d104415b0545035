// fit's terminal progress bar, drawn without a dependency: one line rewritten in place on a
// terminal (at most ten times a second), or a plain line per epoch where the output is not a
// terminal. It writes to process.stdout only where there is one; browsers and edge runtimes
// never get here (fit's progress option is then off), so bundles need no terminal library.

/** What the bar shows: the epoch, the batch within it, the running loss, speed and time. */
export interface BarFields {
  epoch: number;
  epochs: number;
  loss: string;
  speed: string | number;
  elapsed: string;
}

interface Stream { write(text: string): unknown; isTTY?: boolean; columns?: number }

const WIDTH = 30;

export class ProgressBar {
  private total = 0;
  private value = 0;
  private fields: BarFields | undefined;
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: Stream, private readonly tty: boolean, private readonly clock: () => number) {}

  start(total: number, value: number, fields: BarFields): void {
    this.total = total;
    this.value = value;
    this.fields = fields;
    this.lastDraw = 0;
    if (this.tty) this.draw(true);
  }

  update(value: number, fields: BarFields): void {
    this.value = value;
    this.fields = fields;
    if (this.tty) this.draw(value >= this.total);
  }

  /** Ends the epoch's line: on a terminal the bar stays as it is; elsewhere the line is printed now. */
  stop(): void {
    if (this.fields === undefined) return;
    if (this.tty) {
      this.draw(true);
      if (this.drawn) this.stream.write('\n');
    } else {
      this.stream.write(`${this.line()}\n`);
    }
    this.fields = undefined;
    this.drawn = false;
  }

  private draw(force: boolean): void {
    const t = this.clock();
    if (!force && t - this.lastDraw < 0.1) return;
    this.lastDraw = t;
    let text = this.line();
    const columns = this.stream.columns;
    if (typeof columns === 'number' && columns > 10 && text.length >= columns) text = text.slice(0, columns - 1);
    this.stream.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  private line(): string {
    const f = this.fields!;
    const done = this.total > 0 ? Math.min(1, this.value / this.total) : 1;
    const filled = Math.round(done * WIDTH);
    const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
    return `epoch ${f.epoch}/${f.epochs} |${bar}| ${this.value}/${this.total} batches | loss ${f.loss} | ${f.speed} samples/s | ${f.elapsed}s`;
  }
}
