// B2: streamed deltas/s from app-server stdout to the room event sink, through the real
// path (line splitting → RpcEngine.handleLine: decode + validate → Connection routing by
// thread → the turn's translator → sink), vs a raw `readline` + `JSON.parse` pipe over the
// same input, in the same run. Run alone with `npx tsx bench/deltas.ts`.
import { pathToFileURL } from 'node:url';
import { createActor, fromPromise, waitFor } from 'xstate';
import { Connection } from '../src/connection/connection.js';
import { LineSplitter } from '../src/transport/lines.js';
import { MAX_FRAME_BYTES } from '../src/protocol/wire.js';
import { createLogger } from '../src/log/logger.js';
import type { TransportFactory, TransportHandlers } from '../src/transport/types.js';
import type { RoomEvent } from '../src/events/room-events.js';
import { provideTurnMachine } from '../src/turn/provide.js';
import { bestOfEach, deltaLines, lineStream, rawPipe, splitPipe, type Figure } from './common.js';

const THREAD = 'thr_bench';
const TURN = 'turn_bench';


/** A transport that answers the handshake and lets the bench push stdout lines. */
function benchTransport(): { open: TransportFactory; feed: () => TransportHandlers } {
  let handlers: TransportHandlers | undefined;
  const open: TransportFactory = async (h) => {
    handlers = h;
    return {
      pid: undefined,
      description: 'bench',
      send(text: string) {
        const msg = JSON.parse(text) as { id?: number; method?: string };
        if (msg.method === 'initialize') {
          setImmediate(() => h.onLine(JSON.stringify({ id: msg.id, result: { userAgent: 'bench/0.169.0 (bench)' } })));
        }
      },
      close: async () => h.onClose({ kind: 'closed', retryable: false, intentional: true, reason: 'closed by bench' }),
    };
  };
  return {
    open,
    feed: () => {
      if (!handlers) throw new Error('transport not open');
      return handlers;
    },
  };
}

async function throughSwitchboard(lines: string[]): Promise<number> {
  const log = createLogger({ level: 'silent' });
  const transport = benchTransport();
  const conn = new Connection({ transport: { kind: 'custom', open: transport.open, description: 'bench' }, log });
  await conn.start();
  let n = 0;
  let chars = 0;
  const sink = (e: RoomEvent): void => {
    if (e.type === 'message.delta') {
      n++;
      chars += e.delta.length;
    }
  };
  // The real turn machine and stream actor; only turn/start is answered locally.
  const machine = provideTurnMachine({ conn, sink, approvals: undefined, log }).provide({
    actors: { startTurn: fromPromise(async () => ({ turnId: TURN })) },
  });
  const turn = createActor(machine, {
    input: { session: 'bench/room/thread', threadId: THREAD, input: [{ type: 'text', text: 'go', text_elements: [] }] },
  });
  turn.start();
  await waitFor(turn, (s) => s.matches('running'));

  const handlers = transport.feed();
  const splitter = new LineSplitter((l) => handlers.onLine(l), () => {}, MAX_FRAME_BYTES);
  const input = lineStream(lines);
  input.setEncoding('utf8');
  const t0 = performance.now();
  for await (const chunk of input) splitter.push(chunk as string);
  splitter.end();
  const secs = (performance.now() - t0) / 1000;

  turn.stop();
  await conn.stop();
  if (n !== lines.length || chars === 0) throw new Error(`sink got ${n} of ${lines.length} deltas`);
  return n / secs;
}

export interface DeltaBench {
  /** deltas/s through readline + JSON.parse */
  raw: number;
  /** deltas/s through a hand-written split + JSON.parse (no readline, no validation) */
  split: number;
  /** deltas/s from stdout lines to the room event sink */
  switchboard: number;
  ratio: number;
  /** switchboard / split */
  splitRatio: number;
}

export async function benchDeltas(count = 200_000): Promise<DeltaBench> {
  const lines = deltaLines(count, THREAD).map((l) => l.replace('"turn_bench"', JSON.stringify(TURN)));
  const warm = lines.slice(0, 20_000);
  await rawPipe(warm);
  await splitPipe(warm);
  await throughSwitchboard(warm);
  const { raw: rawRate, split: splitRate, sb: sbRate } = await bestOfEach(5, {
    raw: () => rawPipe(lines),
    split: () => splitPipe(lines),
    sb: () => throughSwitchboard(lines),
  });
  return {
    raw: Math.round(rawRate),
    split: Math.round(splitRate),
    switchboard: Math.round(sbRate),
    ratio: Number((sbRate / rawRate).toFixed(3)),
    splitRatio: Number((sbRate / splitRate).toFixed(3)),
  };
}

/** For `npm run bench` (bench/run.ts picks up `benches` from this module). */
export const benches = [
  {
    name: 'deltas',
    run: async (): Promise<Figure> => {
      const r = await benchDeltas();
      return {
        figure: 'B2 agentMessage deltas/s from app-server stdout to the room sink vs raw readline+JSON.parse',
        value: r.switchboard,
        unit: 'deltas/s',
        target: 'ratio >= 0.5',
        baseline: r.raw,
        ratio: r.ratio,
        pass: r.ratio >= 0.5,
      };
    },
  },
];

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchDeltas();
  console.log(
    `deltas/s: switchboard ${r.switchboard.toLocaleString()} vs readline ${r.raw.toLocaleString()} (ratio ${r.ratio}) vs split ${r.split.toLocaleString()} (ratio ${r.splitRatio})`,
  );
}
