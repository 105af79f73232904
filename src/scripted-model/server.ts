// Scripted OpenAI Responses-API provider: lets the real Codex binary run whole turns (text,
// tool calls, approvals, provider errors) with no network and no real model. The demo and
// the tests use it; point Codex at it with `codexHomeFor(model.url)`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A function_call output item; `arguments` objects are JSON-encoded for the wire. */
export interface FunctionCall {
  name: string;
  arguments: Record<string, unknown> | string;
  /** e.g. `mcp__test` for tools of MCP server `test`. */
  namespace?: string;
  callId?: string;
}

/** Assistant text, streamed as `chunks` deltas (default 3) before the final item. */
export interface TextItem {
  text: string;
  chunks?: number;
  /** Pause before each delta (a slowly streaming model, e.g. to kill Codex mid-stream). */
  everyMs?: number;
}
export interface CallItem {
  call: FunctionCall;
}
export type StepItem = TextItem | CallItem;

export interface StepTiming {
  /** Wait this long before sending anything (headers included). */
  delayMs?: number;
  /** After `response.created`, wait this long before the rest (simulates a slow model). */
  stallMs?: number;
  /** Token usage reported in `response.completed` (default 10 in, 5 out): a large one makes Codex compact. */
  usage?: { input: number; output: number };
}

export type Step = StepTiming & (TextItem | CallItem | { items: StepItem[] } | { httpStatus: number; body?: string });

/** The parsed JSON body Codex POSTed to /v1/responses. */
export interface ResponsesRequest {
  model: string;
  input: Array<Record<string, unknown> & { type?: string }>;
  [key: string]: unknown;
}

export type Script = Step[] | ((req: ResponsesRequest, index: number) => Step);

export interface MockModel {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Every POST /v1/responses body, in arrival order. */
  requests: ResponsesRequest[];
  /** Text deltas written so far (a test waits for "mid-stream" with this). */
  deltasSent: number;
  close(): Promise<void>;
}

const EXHAUSTED_TEXT = '(script exhausted)';

export function say(text: string, chunks?: number): TextItem {
  return chunks === undefined ? { text } : { text, chunks };
}

export interface ShellOptions {
  /** Ask for `require_escalated`, which makes Codex request approval from the client. */
  escalated?: boolean;
  justification?: string;
  workdir?: string;
  callId?: string;
}

/** An `exec_command` call (Codex's unified-exec shell tool). */
export function shell(cmd: string, opts: ShellOptions = {}): CallItem {
  const args: Record<string, unknown> = { cmd };
  if (opts.workdir !== undefined) args.workdir = opts.workdir;
  if (opts.escalated) {
    args.sandbox_permissions = 'require_escalated';
    args.justification = opts.justification ?? 'The test needs to run this outside the sandbox.';
  }
  return { call: { name: 'exec_command', arguments: args, ...(opts.callId ? { callId: opts.callId } : {}) } };
}

/** An apply_patch run via exec_command; Codex intercepts it and reports a fileChange item. */
export function applyPatch(patchText: string, opts: ShellOptions = {}): CallItem {
  const body = patchText.endsWith('\n') ? patchText : `${patchText}\n`;
  return shell(`apply_patch <<'PATCH'\n${body}PATCH`, opts);
}

/** Codex's guardian (its approval-reviewer subagent, appServer.mode "guardian") asks the model too; its requests say so. */
export function isGuardianReview(req: ResponsesRequest): boolean {
  const meta = req.client_metadata as Record<string, unknown> | undefined;
  return meta?.['x-openai-subagent'] === 'guardian';
}

export interface GuardianVerdict {
  outcome: 'allow' | 'deny';
  riskLevel?: 'low' | 'medium' | 'high' | 'critical';
  userAuthorization?: 'unknown' | 'low' | 'medium' | 'high';
  rationale?: string;
}

/** The guardian's answer: the JSON object its output schema asks for. */
export function guardianVerdict(v: GuardianVerdict): TextItem {
  const body = { outcome: v.outcome, risk_level: v.riskLevel ?? (v.outcome === 'allow' ? 'low' : 'high'), user_authorization: v.userAuthorization ?? 'unknown', rationale: v.rationale ?? '' };
  return { text: JSON.stringify(body), chunks: 1 };
}

/** `function_call_output` items of a request (what Codex reports back after running tools). */
export function functionCallOutputs(req: ResponsesRequest | undefined): Array<Record<string, unknown>> {
  return (req?.input ?? []).filter((item) => item.type === 'function_call_output');
}

export async function startMockModel(script: Script): Promise<MockModel> {
  const requests: ResponsesRequest[] = [];
  const model: MockModel = { url: '', port: 0, requests, deltasSent: 0, close: async () => {} };
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  let ids = 0;
  const nextId = (prefix: string) => `${prefix}_${++ids}`;

  const stepFor = (req: ResponsesRequest, index: number): Step => {
    const step = typeof script === 'function' ? script(req, index) : script[index];
    // Never hang on a short script: end the turn with a recognisable message instead.
    return step ?? { text: EXHAUSTED_TEXT, chunks: 1 };
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      // Codex may refresh its model list; an empty list makes it use fallback metadata.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/responses') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ResponsesRequest;
    const index = requests.length;
    requests.push(body);
    const step = stepFor(body, index);
    const { signal } = closing;

    if (step.delayMs) await sleep(step.delayMs, undefined, { signal });
    if ('httpStatus' in step) {
      const error = step.body ?? JSON.stringify({ error: { message: `mock status ${step.httpStatus}`, type: 'server_error' } });
      res.writeHead(step.httpStatus, { 'content-type': 'application/json' }).end(error);
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // False once the client has gone (Codex was killed mid-stream): the stream just stops.
    const send = (data: Record<string, unknown> & { type: string }): boolean => {
      if (res.destroyed || res.writableEnded) return false;
      res.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    };
    const responseId = nextId('resp');
    send({ type: 'response.created', response: { id: responseId } });
    if (step.stallMs) await sleep(step.stallMs, undefined, { signal });

    const items = 'items' in step ? step.items : [step as StepItem];
    for (const item of items) {
      if ('text' in item) {
        const id = nextId('msg');
        send({ type: 'response.output_item.added', item: { type: 'message', role: 'assistant', id, content: [] } });
        for (const delta of split(item.text, item.chunks ?? 3)) {
          if (item.everyMs) await sleep(item.everyMs, undefined, { signal });
          if (!send({ type: 'response.output_text.delta', delta, item_id: id })) return;
          model.deltasSent++;
        }
        const content = [{ type: 'output_text', text: item.text, annotations: [] }];
        send({ type: 'response.output_item.done', item: { type: 'message', role: 'assistant', id, content } });
      } else {
        const { name, namespace, callId } = item.call;
        const args = typeof item.call.arguments === 'string' ? item.call.arguments : JSON.stringify(item.call.arguments);
        const call = { type: 'function_call', name, arguments: args, call_id: callId ?? nextId('call'), ...(namespace ? { namespace } : {}) };
        send({ type: 'response.output_item.done', item: call });
      }
    }
    const { input, output } = step.usage ?? { input: 10, output: 5 };
    const usage = { input_tokens: input, input_tokens_details: null, output_tokens: output, output_tokens_details: null, total_tokens: input + output };
    send({ type: 'response.completed', response: { id: responseId, usage } });
    res.end();
  };

  const server = createServer((req, res) => {
    answer(req, res).catch(() => {
      // Aborted by close(), or the client went away mid-stream: just drop the connection.
      res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return Object.assign(model, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      closing.abort(); // wake any delayMs/stallMs sleepers so nothing keeps the loop alive
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy(); // keep-alive/SSE sockets would block close()
      await closed;
    },
  });
}

/** Split text into at most `n` non-empty pieces that join back to it. */
function split(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length ? parts : [''];
}

/** The product name of the same thing (the demo's built-in model). */
export const startScriptedModel = startMockModel;
