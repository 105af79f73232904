// B1: notifications/s through the connection (split, parse, validate, route to the thread's
// subscriber) vs a raw readline + JSON.parse pipe over the same bytes, same run.
import { RpcEngine } from '../src/connection/rpc-engine.js';
import { LineSplitter } from '../src/transport/lines.js';
import { MAX_FRAME_BYTES } from '../src/protocol/wire.js';
import { createLogger } from '../src/log/logger.js';
import { bestOf, deltaLines, lineStream, rawPipe, type Figure } from './common.js';


async function throughConnection(lines: string[]): Promise<number> {
  let n = 0;
  const engine = new RpcEngine({
    log: createLogger({ level: 'silent' }),
    serverRequestBackstopMs: 60_000,
    onNotification: (note) => {
      if (note.threadId === 'thr_bench') n++;
    },
  });
  const splitter = new LineSplitter((l) => engine.handleLine(l), () => {}, MAX_FRAME_BYTES);
  const input = lineStream(lines);
  input.setEncoding('utf8');
  const t0 = performance.now();
  for await (const chunk of input) splitter.push(chunk as string);
  splitter.end();
  const secs = (performance.now() - t0) / 1000;
  if (n !== lines.length) throw new Error(`routed ${n} of ${lines.length}`);
  return n / secs;
}

export async function benchConnection(count = 200_000): Promise<Figure> {
  const lines = deltaLines(count);
  await rawPipe(lines.slice(0, 20_000)); // warm-up both paths
  await throughConnection(lines.slice(0, 20_000));
  const baseline = await bestOf(3, () => rawPipe(lines));
  const value = await bestOf(3, () => throughConnection(lines));
  const ratio = value / baseline;
  return {
    figure: 'B1 notifications/s through the connection vs raw readline+JSON.parse',
    value: Math.round(value),
    unit: 'notifications/s',
    target: 'ratio >= 0.5',
    baseline: Math.round(baseline),
    ratio: Number(ratio.toFixed(3)),
    pass: ratio >= 0.5,
  };
}
