// Property-based fuzzing of inbound frames through the real engine path (line splitter →
// decode → validate → route/answer). Whatever arrives: no throw, no unhandled rejection,
// and every well-formed server request among the garbage gets exactly one answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RpcEngine } from '../../src/connection/rpc-engine.js';
import { LineSplitter } from '../../src/transport/lines.js';
import { createLogger } from '../../src/log/logger.js';
import { isServerRequestMethod } from '../../src/protocol/server-requests.js';

export const fuzzReport = { frames: 0, serverRequests: 0, answered: 0 };

const methods = [
  'item/commandExecution/requestApproval',
  'item/fileChange/requestApproval',
  'item/permissions/requestApproval',
  'mcpServer/elicitation/request',
  'item/tool/requestUserInput',
  'item/tool/call',
  'applyPatchApproval',
  'execCommandApproval',
  'account/chatgptAuthTokens/refresh',
  'attestation/generate',
  'unknown/method',
  'turn/completed',
  'item/agentMessage/delta',
  'serverRequest/resolved',
];

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const frameObject = fc.record(
  {
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.boolean(), jsonValue),
    method: fc.oneof(fc.constantFrom(...methods), fc.string({ maxLength: 20 }), fc.integer()),
    params: fc.oneof(
      jsonValue,
      fc.record({ threadId: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), turnId: fc.string({ maxLength: 6 }), itemId: fc.string({ maxLength: 6 }) }),
    ),
    result: jsonValue,
    error: fc.oneof(jsonValue, fc.record({ code: fc.integer(), message: fc.string() })),
    jsonrpc: fc.constant('2.0'),
  },
  { requiredKeys: [] },
);

/** Lines as they could arrive: valid-looking objects, truncated ones, junk, huge ones. */
const line = fc.oneof(
  { weight: 6, arbitrary: frameObject.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: frameObject.chain((o) => { const s = JSON.stringify(o); return fc.nat(s.length).map((n) => s.slice(0, n)); }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('{"id":1,"method":"item/tool/call","params":' + '['.repeat(5000), 'null', '[]', '"str"', '\u0000\u0001', '{}') },
);

function harness() {
  const answers = new Map<string, number>();
  const engine = new RpcEngine({
    log: createLogger({ level: 'silent' }),
    serverRequestBackstopMs: 60_000,
    onNotification: () => {},
  });
  engine.attach({
    pid: 1,
    description: 'fuzz',
    send: (text) => {
      const msg = JSON.parse(text) as { id: unknown };
      const key = JSON.stringify(msg.id);
      answers.set(key, (answers.get(key) ?? 0) + 1);
    },
    close: async () => {},
  });
  // A reviewer that sometimes answers garbage, sometimes throws, sometimes accepts.
  let n = 0;
  engine.setServerRequestHandler(async () => {
    n++;
    if (n % 4 === 0) throw new Error('reviewer crashed');
    if (n % 4 === 1) return { result: { decision: 'definitely' } };
    if (n % 4 === 2) return undefined;
    return { result: { nonsense: true } };
  });
  const splitter = new LineSplitter((l) => engine.handleLine(l), () => engine.stats.malformed++, 1_000_000);
  return { engine, splitter, answers };
}

describe('inbound frame fuzzing', () => {
  it('100,000 random frames: no throw, every server request answered exactly once', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { engine, splitter, answers } = harness();
      const sample = fc.sample(line, { numRuns: 100_000, seed: 20261122 });
      // Server requests we expect to be answered: well-formed id + known-or-unknown method.
      const expected = new Set<string>();
      let id = 0;
      for (const text of sample) {
        // Give every request-shaped frame a unique id so answers can be counted per request.
        let out = text;
        try {
          const obj = JSON.parse(text) as Record<string, unknown>;
          if (obj && typeof obj === 'object' && !Array.isArray(obj) && typeof obj.method === 'string' && 'id' in obj && obj.method.length > 0) {
            obj.id = `fz${id++}`;
            out = JSON.stringify(obj);
            expected.add(JSON.stringify(obj.id));
          }
        } catch {
          /* not JSON: fed as is */
        }
        // Random chunking, as a pipe would deliver it.
        const cut = out.length >> 1;
        expect(() => {
          splitter.push(out.slice(0, cut));
          splitter.push(`${out.slice(cut)}\n`);
        }).not.toThrow();
      }
      await new Promise((r) => setTimeout(r, 50));
      const missing = [...expected].filter((k) => answers.get(k) !== 1);
      expect(missing).toEqual([]);
      expect(engine.stats.pendingServerRequests).toBe(0);
      fuzzReport.frames += sample.length;
      fuzzReport.serverRequests += expected.size;
      fuzzReport.answered += [...expected].filter((k) => answers.get(k) === 1).length;
      console.log(
        `fuzz: ${sample.length} frames, ${engine.stats.malformed} malformed, ${expected.size} server requests, all answered once; ` +
          `${engine.stats.serverRequestsFailClosed} fail-closed`,
      );
      expect(expected.size).toBeGreaterThan(1000);
      expect(isServerRequestMethod('item/tool/call')).toBe(true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  }, 120_000);

  it('no accept is ever sent by a fault: garbage reviewer answers become denials', async () => {
    const { engine, splitter, answers } = harness();
    const sent: string[] = [];
    engine.attach({ pid: 1, description: 'x', send: (t) => sent.push(t), close: async () => {} });
    for (let i = 0; i < 400; i++) {
      splitter.push(`${JSON.stringify({ id: i, method: 'item/commandExecution/requestApproval', params: { threadId: 't', turnId: 'u', itemId: `i${i}` } })}\n`);
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(400);
    expect(sent.every((s) => JSON.parse(s).result.decision === 'decline')).toBe(true);
    void answers;
  });
});
