#!/usr/bin/env node
// A FAKE `codex app-server --listen stdio://` for the cluster benchmarks: threads and turns cost
// nothing, so the figures measure the nodes (queue, leases, PostgreSQL, room events), not Codex.
// A turn starts at once and completes on the next macrotask; with CLUSTER_FAKE_HOLD=1 it stays
// open until the process ends (the failover bench kills its node mid-turn). `thread/read` knows
// no turns: a node taking a conversation over runs the cut-off message again.
import readline from 'node:readline';

const HOLD = process.env.CLUSTER_FAKE_HOLD === '1';
const send = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
process.stdout.on('error', () => process.exit(0));

let threads = 0;
let turns = 0;
const model = 'gpt-5.5';

function turnStart(id, threadId) {
  const turnId = `turn_${process.pid}_${++turns}`;
  const turn = { id: turnId, status: 'inProgress', items: [] };
  send({ id, result: { turn } });
  send({ method: 'turn/started', params: { threadId, turn } });
  if (HOLD) return;
  setImmediate(() => {
    const itemId = `msg_${turnId}`;
    send({ method: 'item/completed', params: { threadId, turnId, item: { type: 'agentMessage', id: itemId, text: 'ok' } } });
    send({ method: 'turn/completed', params: { threadId, turn: { id: turnId, status: 'completed', items: [], error: null } } });
  });
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('close', () => process.exit(0));
rl.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  const { id, method, params } = msg;
  if (id === undefined || method === undefined) return; // notifications and answers
  switch (method) {
    case 'initialize':
      send({ id, result: { userAgent: 'codex_cli_rs/0.169.0 (fake cluster-bench app-server)', codexHome: '/tmp/cluster-bench', platformFamily: 'unix', platformOs: 'linux' } });
      return;
    case 'account/read':
      send({ id, result: { account: null, requiresOpenaiAuth: false } });
      return;
    case 'model/list':
      send({ id, result: { data: [{ id: model, model, displayName: 'GPT-5.5', isDefault: true }], nextCursor: null } });
      return;
    case 'thread/start': {
      // Unique across the nodes' fakes: a thread id names one conversation's thread everywhere.
      const thread = { id: `thr_${process.pid}_${++threads}` };
      send({ id, result: { thread, model } });
      send({ method: 'thread/started', params: { thread } });
      return;
    }
    case 'thread/resume':
      send({ id, result: { thread: { id: params.threadId }, model } });
      return;
    case 'thread/read':
      send({ id, result: { thread: { id: params.threadId, turns: [] } } });
      return;
    case 'thread/loaded/list':
      send({ id, result: { data: [], nextCursor: null } });
      return;
    case 'turn/start':
      turnStart(id, params.threadId);
      return;
    case 'turn/interrupt':
      send({ id, result: {} });
      return;
    default:
      send({ id, error: { code: -32601, message: `the cluster-bench fake does not implement ${method}` } });
  }
});
