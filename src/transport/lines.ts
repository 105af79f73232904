// Splits a byte stream into lines without readline's per-line overhead; a line longer
// than `maxLine` is discarded (reported once) instead of growing memory without bound.

export class LineSplitter {
  private carry = '';
  private overflow = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOversize: (bytes: number) => void,
    private readonly maxLine: number,
  ) {}

  push(chunk: string): void {
    let start = 0;
    let nl = chunk.indexOf('\n');
    if (nl === -1) {
      this.append(chunk);
      return;
    }
    while (nl !== -1) {
      let line = chunk.slice(start, nl);
      if (this.carry || this.overflow) {
        if (this.overflow) {
          this.onOversize(this.carry.length + line.length);
          this.overflow = false;
          this.carry = '';
          line = '';
          start = nl + 1;
          nl = chunk.indexOf('\n', start);
          continue;
        }
        line = this.carry + line;
        this.carry = '';
      }
      if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (line.length > 0) this.onLine(line);
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) this.append(chunk.slice(start));
  }

  /** The unterminated tail at end of stream. */
  end(): void {
    if (this.carry && !this.overflow) this.onLine(this.carry);
    this.carry = '';
    this.overflow = false;
  }

  private append(part: string): void {
    if (this.overflow) return;
    if (this.carry.length + part.length > this.maxLine) {
      this.overflow = true;
      this.carry = '';
      return;
    }
    this.carry += part;
  }
}
