// Shared benchmark plumbing: every figure is a ratio against a baseline measured in the same run.
import readline from 'node:readline';
import { Readable } from 'node:stream';

export interface Figure {
  figure: string;
  value: number;
  unit: string;
  target: string;
  baseline: number;
  ratio: number;
  pass: boolean;
}

/** A stream of newline-terminated lines, delivered in 64 KiB chunks like a pipe would. */
export function lineStream(lines: string[]): Readable {
  const text = lines.join('\n') + '\n';
  const chunk = 64 * 1024;
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= text.length) {
        this.push(null);
        return;
      }
      this.push(text.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** Best of `runs` (ops/s): the least disturbed run on a shared 2-core machine. */
export async function bestOf(runs: number, fn: () => Promise<number>): Promise<number> {
  let best = 0;
  for (let i = 0; i < runs; i++) best = Math.max(best, await fn());
  return best;
}

/**
 * `bestOf` for several sides at once, their runs interleaved (a, b, c, a, b, c, …): a burst of
 * load from the other users of the machine then hits every side alike, instead of whichever
 * side happened to run its block of runs during it.
 */
export async function bestOfEach<K extends string>(runs: number, sides: Record<K, () => Promise<number>>): Promise<Record<K, number>> {
  const best = Object.fromEntries(Object.keys(sides).map((k) => [k, 0])) as Record<K, number>;
  for (let i = 0; i < runs; i++) {
    for (const k of Object.keys(sides) as K[]) best[k] = Math.max(best[k], await sides[k]());
  }
  return best;
}

export function deltaLines(n: number, threadId = 'thr_bench'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      JSON.stringify({
        method: 'item/agentMessage/delta',
        params: { threadId, turnId: 'turn_bench', itemId: 'msg_1', delta: `tok${i % 97} ` },
      }),
    );
  }
  return out;
}

/** The baseline every throughput figure is compared with: readline + JSON.parse, lines/s. */
export async function rawPipe(lines: string[]): Promise<number> {
  const rl = readline.createInterface({ input: lineStream(lines), crlfDelay: Infinity });
  let n = 0;
  const t0 = performance.now();
  for await (const line of rl) {
    const msg = JSON.parse(line) as { params?: { delta?: string } };
    if (msg.params?.delta !== undefined) n++;
  }
  const secs = (performance.now() - t0) / 1000;
  if (n !== lines.length) throw new Error(`raw saw ${n} of ${lines.length}`);
  return n / secs;
}

/**
 * The tightest baseline: the same 64 KiB chunks split on newlines by hand and parsed with
 * JSON.parse, no validation, no readline (which costs more than the split itself).
 */
export async function splitPipe(lines: string[]): Promise<number> {
  let n = 0;
  let rest = '';
  const input = lineStream(lines);
  input.setEncoding('utf8');
  const t0 = performance.now();
  for await (const chunk of input) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const msg = JSON.parse(text.slice(start, nl)) as { params?: { delta?: string } };
      if (msg.params?.delta !== undefined) n++;
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  const secs = (performance.now() - t0) / 1000;
  if (n !== lines.length) throw new Error(`split pipe saw ${n} of ${lines.length}`);
  return n / secs;
}
