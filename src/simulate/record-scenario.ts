// A recorded timeline (room steps + every frame both ways) as a scenario whose app-server
// side is scripted, so it replays without the binary.
import type { RoomEvent } from '../events/room-events.js';
import type { SessionManager } from '../session/manager.js';
import type { Scenario } from './scenario.js';
import { eventExpectation, type Entry } from './record.js';

export function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export interface Final {
  cwd: string;
  connection: string;
  status: ReturnType<SessionManager['sessionStatus']>;
}

/** The recorded timeline as a scenario (plain JSON). */
export function toScenario(plan: Scenario, timeline: Entry[], events: RoomEvent[], final: Final): Record<string, unknown> {
  const steps: Array<Record<string, unknown>> = [];
  const processes: Array<Record<string, unknown>> = [];
  const clientRequests = new Map<string, { step: Record<string, unknown>; index: number; process: number }>();
  const serverRequests = new Map<string, string>();
  const handshakes: Array<{ ok: boolean; userAgent: string | undefined }> = [];
  const initIds = new Map<string, number>();
  const initNames = new Set<unknown>();
  let lastServerFrameAt = -1;

  for (const entry of timeline) {
    if (entry.kind === 'stop') break;
    if (entry.kind === 'room') {
      steps.push(entry.step);
      continue;
    }
    const e = entry.e;
    if (e.kind === 'open') {
      processes[e.process - 1] = {};
      continue;
    }
    if (e.kind === 'refused') {
      processes[e.process - 1] = { refuse: { kind: e.exit.kind === 'auth' ? 'auth' : e.exit.kind === 'spawn-error' ? 'spawn-error' : 'error', reason: e.exit.reason, retryable: e.exit.retryable } };
      continue;
    }
    if (e.kind === 'close') {
      if (!e.exit.intentional) {
        steps.push({
          crash: stripUndefined({
            code: e.exit.code,
            signal: e.exit.signal,
            reason: e.exit.reason,
            retryable: e.exit.retryable,
            ...(e.exit.kind !== 'exit' ? { kind: e.exit.kind } : {}),
            ...(e.exit.stderrTail ? { stderr: e.exit.stderrTail } : {}),
          }),
        });
      }
      continue;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(e.text) as Record<string, unknown>;
    } catch {
      if (e.kind === 'in') steps.push({ malformed: e.text });
      continue;
    }
    const id = msg.id as string | number | undefined;
    const hasMethod = typeof msg.method === 'string';
    if (e.kind === 'out') {
      if (hasMethod && id !== undefined) {
        if (msg.method === 'initialize') {
          initIds.set(`${e.process}:${String(id)}`, handshakes.length);
          handshakes.push({ ok: false, userAgent: undefined });
        }
        const params = clientParams(msg.params);
        const step: Record<string, unknown> = { expect: msg.method, ...(params !== undefined ? { params } : {}), as: `r${String(id)}` };
        if (msg.method === 'initialize') initNames.add(step.as);
        clientRequests.set(`${e.process}:${String(id)}`, { step, index: steps.length, process: e.process });
        steps.push(step);
      } else if (!hasMethod && id !== undefined) {
        const name = serverRequests.get(`${e.process}:${String(id)}`);
        if (name) steps.push('error' in msg ? { answer: name, error: msg.error } : { answer: name, result: msg.result });
      }
      continue;
    }
    // server → client
    if (hasMethod && id !== undefined) {
      const name = `s${String(id)}`;
      serverRequests.set(`${e.process}:${String(id)}`, name);
      steps.push({ request: msg.method, id, params: msg.params ?? {}, as: name });
      lastServerFrameAt = steps.length - 1;
    } else if (hasMethod) {
      steps.push(msg.params === undefined ? { notify: msg.method } : { notify: msg.method, params: msg.params });
      lastServerFrameAt = steps.length - 1;
    } else if (id !== undefined) {
      const k = `${e.process}:${String(id)}`;
      const hs = initIds.get(k);
      if (hs !== undefined) handshakes[hs] = { ok: 'result' in msg, userAgent: (msg.result as { userAgent?: string } | undefined)?.userAgent };
      const req = clientRequests.get(k);
      const answer = 'error' in msg ? { error: msg.error } : { result: msg.result };
      if (req && req.index === steps.length - 1 && lastServerFrameAt < req.index) {
        // Answered before anything else happened: answer inline.
        delete req.step.as;
        if ('error' in answer) req.step.error = answer.error;
        else req.step.respond = answer.result ?? {};
      } else if (req) {
        steps.push({ respond: req.step.as, ...answer });
      } else {
        steps.push({ send: msg });
      }
      lastServerFrameAt = steps.length - 1;
    }
  }

  const autoHandshake = handshakes.every((h) => h.ok);
  const userAgent = handshakes.find((h) => h.userAgent)?.userAgent;
  const config = JSON.parse(JSON.stringify({ ...plan.config, session: { ...plan.config.session, cwd: final.cwd } })) as Record<string, unknown>;
  const st = final.status;
  const scenario = {
    name: `${plan.name} (recorded)`,
    description: `Recorded from a real codex app-server run of "${plan.name}". The app-server side is scripted from the frames it sent; replays without the binary.`,
    tags: [...plan.tags, 'recorded'],
    config,
    server: {
      ...(userAgent ? { userAgent } : {}),
      handshake: autoHandshake ? 'auto' : 'manual',
      ...(processes.some((p) => Object.keys(p).length) ? { processes } : {}),
    },
    // With every handshake answered, the auto-handshake replays them: drop their steps.
    steps: autoHandshake ? steps.filter((st) => st.expect !== 'initialize' && !initNames.has(st.respond)) : steps,
    expect: {
      events: events.map(eventExpectation),
      final: {
        connection: final.connection,
        ...(st ? { sessionStatus: stripUndefined({ threadId: st.threadId, turns: st.turns, lastTurn: st.lastTurn ? stripUndefined({ ...st.lastTurn }) : undefined }) } : {}),
      },
    },
  };
  return scenario;
}

/**
 * What a replay can be expected to send again: the recorded params, less the ids the client
 * makes up itself (a message's `clientUserMessageId` is a fresh id in every run). Expected
 * params match partially, so a dropped field is simply not checked.
 */
function clientParams(params: unknown): unknown {
  if (typeof params !== 'object' || params === null || !('clientUserMessageId' in params)) return params;
  const { clientUserMessageId: _made, ...rest } = params as Record<string, unknown>;
  return rest;
}
