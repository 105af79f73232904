// P1: streamed deltas/s from app-server output to the room event stream, validated, vs two
// baselines over the same bytes in the same run: readline + JSON.parse, and the real limit,
// a hand-written newline split + JSON.parse with no validation at all.
//
// B2 (bench/deltas.ts) measures this path — stdout chunks → LineSplitter → RpcEngine.handleLine
// (decode + schema validation) → Connection routing by thread → the turn's translator → the
// room sink — so P1 reuses its measurement and labels it with the figures and targets.
import { benchDeltas } from './deltas.js';
import type { Figure } from './common.js';

export async function benchP1(count = 200_000): Promise<Figure[]> {
  const r = await benchDeltas(count);
  return [
    {
      figure: 'P1 deltas/s from app-server stdout to the room event stream (validated) vs raw readline+JSON.parse',
      value: r.switchboard,
      unit: 'deltas/s',
      target: 'ratio >= 0.5',
      baseline: r.raw,
      ratio: r.ratio,
      pass: r.ratio >= 0.5,
    },
    {
      figure: 'P1 deltas/s from app-server stdout to the room event stream (validated) vs a plain newline split + JSON.parse (no validation)',
      value: r.switchboard,
      unit: 'deltas/s',
      target: 'ratio >= 0.8',
      baseline: r.split,
      ratio: r.splitRatio,
      pass: r.splitRatio >= 0.8,
    },
  ];
}
