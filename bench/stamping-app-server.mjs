#!/usr/bin/env node
// A FAKE `codex app-server --listen stdio://` for P7: every turn streams STAMP_DELTAS agent
// message deltas, STAMP_EVERY_MS apart, and records the moment it wrote each one's stdout
// line (performance.timeOrigin + performance.now(): wall-clock milliseconds that a browser
// on the same machine reads from its own clock) into STAMP_FILE (a JSON array, by delta
// index) when the stream ends. A delta's text is one short word, `k<index> ` (a realistic
// token size; "k" is not a hex digit, so no id in a frame looks like one), so the page's DOM
// shows which delta arrived when.
import { writeFileSync } from 'node:fs';
import readline from 'node:readline';

const COUNT = Number(process.env.STAMP_DELTAS ?? 2000);
const EVERY_MS = Number(process.env.STAMP_EVERY_MS ?? 2);
const send = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
process.stdout.on('error', () => process.exit(0));

let threads = 0;
let turns = 0;

async function stream(threadId, turnId) {
  const itemId = `msg_${turnId}`;
  send({ method: 'turn/started', params: { threadId, turn: { id: turnId, status: 'inProgress', items: [] } } });
  send({ method: 'item/started', params: { threadId, turnId, item: { type: 'agentMessage', id: itemId, text: '' } } });
  let text = '';
  const stamps = [];
  for (let i = 0; i < COUNT; i++) {
    if (EVERY_MS > 0) await sleep(EVERY_MS);
    const delta = `k${String(i).padStart(4, '0')} `;
    text += delta;
    stamps.push(now());
    send({ method: 'item/agentMessage/delta', params: { threadId, turnId, itemId, delta } });
  }
  if (process.env.STAMP_FILE) writeFileSync(process.env.STAMP_FILE, JSON.stringify(stamps));
  send({ method: 'item/completed', params: { threadId, turnId, item: { type: 'agentMessage', id: itemId, text } } });
  send({ method: 'turn/completed', params: { threadId, turn: { id: turnId, status: 'completed', items: [], error: null } } });
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
      send({ id, result: { userAgent: 'codex_cli_rs/0.169.0 (fake stamping app-server for P7)', codexHome: '/tmp/p7', platformFamily: 'unix', platformOs: 'linux' } });
      return;
    case 'account/read':
      // Like the scripted model's provider: no OpenAI login needed.
      send({ id, result: { account: null, requiresOpenaiAuth: false } });
      return;
    case 'model/list':
      send({ id, result: { data: [{ id: 'gpt-5.5', model: 'gpt-5.5', displayName: 'GPT-5.5', isDefault: true }], nextCursor: null } });
      return;
    case 'thread/start': {
      const thread = { id: `thr_p7_${++threads}` };
      send({ id, result: { thread, model: 'gpt-5.5' } });
      send({ method: 'thread/started', params: { thread } });
      return;
    }
    case 'turn/start': {
      const turnId = `turn_p7_${++turns}`;
      send({ id, result: { turn: { id: turnId, status: 'inProgress', items: [] } } });
      void stream(params.threadId, turnId);
      return;
    }
    default:
      send({ id, error: { code: -32601, message: `the P7 fake does not implement ${method}` } });
  }
});
