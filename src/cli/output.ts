// Terminal output that respects NO_COLOR and non-TTY streams (no spinners in pipes/logs).
export interface Output {
  line(text: string): void;
  /** Text without a newline (streamed answers). */
  write(text: string): void;
  error(text: string): void;
  bold(text: string): string;
  progress(label: string): { done(): void };
}

export function terminalOutput(stream: NodeJS.WriteStream = process.stdout): Output {
  const tty = Boolean(stream.isTTY);
  const color = tty && !process.env.NO_COLOR;
  return {
    line: (text) => void stream.write(`${text}\n`),
    write: (text) => void stream.write(text),
    error: (text) => void process.stderr.write(`${color ? '\x1b[31m' : ''}${text}${color ? '\x1b[0m' : ''}\n`),
    bold: (text) => (color ? `\x1b[1m${text}\x1b[0m` : text),
    progress(label) {
      if (!tty) return { done() {} };
      const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
      let i = 0;
      const started = Date.now();
      const timer = setInterval(() => {
        stream.write(`\r${frames[i++ % frames.length]} ${label} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      }, 80);
      return {
        done() {
          clearInterval(timer);
          stream.write('\r\x1b[2K');
        },
      };
    },
  };
}
