// The terminal of `switchboard chat`: output lines above a prompt, streamed text, and input.
//
// Interactive (stdin and stdout are TTYs): raw mode and a small line editor, so a prompt can
// take one key, the typed line survives output printed above it, and nothing is echoed twice.
// Otherwise: lines in (readline), plain text out, no escape sequences.
//
// This class is the ONLY writer of the chat's output, and the one choke point of terminal
// safety: every text it is handed is run through `sanitize` first; our own colours and cursor
// controls are added after that, so remote text can never carry an escape sequence through.
import { createInterface, type Interface } from 'node:readline';
import { paint, type Line, type Style } from './chat-render.js';
import { sanitize } from './chat-sanitize.js';

/** What may be printed: one line of one tone, or segments of several tones. */
export type Printable = Line | readonly Line[];

interface Ask {
  kind: 'key' | 'line';
  prompt: string;
  secret: boolean;
  buf: string;
  resolve: (v: string | undefined) => void;
}

export class Terminal {
  onLine: (line: string) => void = () => {};
  onEnd: (why: 'eof' | 'interrupt') => void = () => {};

  private rl: Interface | undefined;
  private started = false;
  private stopped = false;
  private ended = false;
  /** The message being typed (interactive). */
  private readonly msg = { buf: '' };
  private ask_: Ask | undefined;
  /** Lines typed while an approval flow is between two questions. */
  private held = false;
  private readonly heldLines: string[] = [];
  /** Keys pressed (interactive) while an approval flow is between two questions. */
  private heldKeys = '';
  // Output state.
  private promptRows = 0;
  private stream_: string | undefined;
  private midLine = false;
  private lastKey: string | undefined;
  private esc = 0;
  private lastCR = false;
  private readonly onData = (chunk: string | Buffer) => this.feed(String(chunk));

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly interactive: boolean,
    private readonly style: Style,
  ) {}

  get columns(): number | undefined {
    return (this.output as Partial<NodeJS.WriteStream>).columns || undefined;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.interactive) {
      const tty = this.input as NodeJS.ReadStream;
      tty.setRawMode(true);
      tty.setEncoding('utf8');
      tty.on('data', this.onData);
      tty.resume();
      this.showPrompt();
    } else {
      this.rl = createInterface({ input: this.input, terminal: false, crlfDelay: Infinity });
      this.rl.on('line', (line) => this.deliver(line));
      this.rl.on('close', () => this.eof());
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.hidePrompt();
    if (this.midLine) this.write('\n');
    this.midLine = false;
    const a = this.ask_;
    this.ask_ = undefined;
    a?.resolve(undefined);
    if (this.interactive) {
      const tty = this.input as NodeJS.ReadStream;
      tty.removeListener('data', this.onData);
      try {
        tty.setRawMode(false);
      } catch {
        // the terminal is gone
      }
      tty.pause();
    } else {
      this.rl?.removeAllListeners();
      this.rl?.close();
      // A pipe that stays open (a script still holding our stdin) must not keep us alive.
      (this.input as Partial<NodeJS.ReadStream>).unref?.();
    }
  }

  /** While held, lines nobody asked for wait for the next question instead of being posted. */
  hold(on: boolean): void {
    this.held = on;
    if (on) return;
    for (const l of this.heldLines.splice(0)) this.onLine(l);
    const keys = this.heldKeys;
    this.heldKeys = '';
    if (keys) this.feed(keys);
  }

  /** One key (interactive) or one line; undefined when aborted or input ended. */
  ask(kind: 'key' | 'line', prompt: string, opts: { signal?: AbortSignal; secret?: boolean } = {}): Promise<string | undefined> {
    if (this.stopped || opts.signal?.aborted) return Promise.resolve(undefined);
    if (!this.interactive) {
      this.line({ text: prompt.trimEnd(), tone: 'plain' });
      const queued = this.heldLines.shift();
      if (queued !== undefined) return Promise.resolve(queued);
    }
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = () => {
        if (this.ask_ !== ask) return;
        this.hidePrompt();
        this.ask_ = undefined;
        this.showPrompt();
        resolve(undefined);
      };
      const ask: Ask = {
        kind: this.interactive ? kind : 'line',
        prompt,
        secret: opts.secret ?? false,
        buf: '',
        resolve: (v) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.hidePrompt();
      this.ask_ = ask;
      this.showPrompt();
      // Keys typed ahead (between two questions of one prompt) answer this one.
      const keys = this.heldKeys;
      this.heldKeys = '';
      if (keys) this.feed(keys);
    });
  }

  // ----- output

  private write(s: string): void {
    if (s) this.output.write(s);
  }

  /** Sanitized, then painted: the only way text reaches the output. */
  private render(p: Printable, inline: boolean): string {
    const parts = Array.isArray(p) ? (p as readonly Line[]) : [p as Line];
    return parts.map((l) => paint(this.style, { ...l, text: sanitize(l.text, { multiline: !inline }) })).join('');
  }

  /**
   * A whole line, printed above the prompt. `replace` rewrites the previous line of the same
   * key; a keyed line is kept to one row (line breaks become spaces) so it can be rewritten.
   */
  line(p: Printable, key?: { key: string; replace?: boolean }): void {
    const text = this.render(p, key !== undefined);
    this.hidePrompt();
    if (this.midLine) this.write('\n');
    this.midLine = false;
    this.stream_ = undefined;
    if (this.interactive && key?.replace && this.lastKey === key.key) this.write('\x1b[1A\r\x1b[2K');
    this.write(`${text}\n`);
    this.lastKey = key?.key;
    this.showPrompt();
  }

  /** Streamed text (an answer arriving): inline, the label once per stream. */
  stream(key: string, label: string, raw: string): void {
    const text = sanitize(raw, { multiline: true });
    this.hidePrompt();
    if (this.stream_ !== key) {
      if (this.midLine) this.write('\n');
      this.write(this.style.bold(sanitize(label)));
      this.stream_ = key;
      this.midLine = true;
    }
    if (text) {
      this.write(text);
      this.midLine = !text.endsWith('\n');
    }
    this.lastKey = undefined;
  }

  endStream(key: string): void {
    if (this.stream_ !== key) return;
    if (this.midLine) this.write('\n');
    this.midLine = false;
    this.stream_ = undefined;
    this.showPrompt();
  }

  private promptText(): string {
    const a = this.ask_;
    if (a) {
      const shown = a.secret ? '*'.repeat([...a.buf].length) : sanitize(a.buf);
      return this.style.yellow(sanitize(a.prompt)) + shown;
    }
    return this.style.bold('> ') + sanitize(this.msg.buf);
  }

  private showPrompt(): void {
    if (!this.interactive || this.stopped || this.stream_ !== undefined || this.promptRows > 0) return;
    const text = this.promptText();
    this.write(text);
    const cols = this.columns ?? 80;
    const len = [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
    this.promptRows = Math.max(1, Math.ceil(len / cols) || 1);
  }

  private hidePrompt(): void {
    if (!this.interactive || this.promptRows === 0) return;
    this.write(`\r${this.promptRows > 1 ? `\x1b[${this.promptRows - 1}A` : ''}\x1b[J`);
    this.promptRows = 0;
  }

  private redraw(): void {
    this.hidePrompt();
    this.showPrompt();
  }

  // ----- input

  private deliver(line: string): void {
    const a = this.ask_;
    if (a && a.kind === 'line') {
      this.ask_ = undefined;
      if (this.interactive) this.line([{ text: a.prompt, tone: 'yellow' }, { text: a.secret ? '*'.repeat([...line].length) : line, tone: 'plain' }]);
      a.resolve(line);
      return;
    }
    if (this.held) {
      this.heldLines.push(line);
      return;
    }
    this.onLine(line);
  }

  private eof(): void {
    if (this.ended) return;
    this.ended = true;
    const a = this.ask_;
    this.ask_ = undefined;
    a?.resolve(undefined);
    this.onEnd('eof');
  }

  /** Raw-mode keys: a tiny line editor (printable, Backspace, Ctrl-U, Enter, Ctrl-C, Ctrl-D). */
  private feed(chunk: string): void {
    for (const ch of chunk) {
      if (this.stopped) return;
      // Escape sequences (arrows, function keys) are not supported: skip them whole.
      if (this.esc === 1) {
        this.esc = ch === '[' || ch === 'O' ? 2 : 0;
        continue;
      }
      if (this.esc === 2) {
        if (ch >= '@' && ch <= '~') this.esc = 0;
        continue;
      }
      if (ch === '\x1b') {
        this.esc = 1;
        continue;
      }
      const cr = this.lastCR;
      this.lastCR = ch === '\r';
      if (ch === '\x03') {
        this.onEnd('interrupt');
        return;
      }
      const a = this.ask_;
      if (!a && this.held) {
        this.heldKeys += ch;
        continue;
      }
      if (a?.kind === 'key') {
        if (ch === '\x04') {
          this.eof();
          return;
        }
        if (ch < ' ' || ch === '\x7f') continue;
        this.hidePrompt();
        this.ask_ = undefined;
        this.line([{ text: a.prompt, tone: 'yellow' }, { text: ch, tone: 'plain' }]);
        a.resolve(ch);
        continue;
      }
      const target = a ?? this.msg;
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && cr) continue;
        const line = target.buf;
        target.buf = '';
        this.hidePrompt();
        this.deliver(line);
        this.showPrompt();
        continue;
      }
      if (ch === '\x04') {
        if (!target.buf) {
          this.eof();
          return;
        }
        continue;
      }
      if (ch === '\x7f' || ch === '\b') {
        target.buf = [...target.buf].slice(0, -1).join('');
      } else if (ch === '\x15') {
        target.buf = '';
      } else if (ch === '\t') {
        target.buf += ' ';
      } else if (ch < ' ') {
        continue;
      } else {
        target.buf += ch;
      }
      this.redraw();
    }
  }
}
