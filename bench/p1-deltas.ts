// P1: streamed deltas/s from app-server output to the room event stream, validated, vs a
// raw readline + JSON.parse pipe over the same bytes, in the same run.
//
// B2 (bench/deltas.ts) already measures exactly this path — stdout chunks → LineSplitter →
// RpcEngine.handleLine (decode + schema validation) → Connection routing by thread → the
// turn's translator → the room sink — against the raw pipe, so P1 reuses its measurement
// and only labels it with the figure and target.
import { benchDeltas } from './deltas.js';
import type { Figure } from './common.js';

export async function benchP1(count = 200_000): Promise<Figure> {
  const r = await benchDeltas(count);
  return {
    figure: 'P1 deltas/s from app-server stdout to the room event stream (validated) vs raw readline+JSON.parse',
    value: r.switchboard,
    unit: 'deltas/s',
    target: 'ratio >= 0.5',
    baseline: r.raw,
    ratio: r.ratio,
    pass: r.ratio >= 0.5,
  };
}
