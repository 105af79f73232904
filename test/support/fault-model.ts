// A scripted Responses-API model for the fault suite. Same step vocabulary as
// `mock-model.ts` (`say`, `shell`, stalls, HTTP errors) plus what fault injection needs and
// the shared mock does not have: text streamed slowly, one delta every `everyMs`, so a test
// can kill the app-server while deltas are still flowing. A client that goes away mid-stream
// (the app-server was killed) is expected: the stream just stops.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXHAUSTED_TEXT, type ResponsesRequest, type Step, type StepItem } from './mock-model.js';

/** Assistant text streamed as `chunks` deltas, one every `everyMs`. */
export interface SlowText {
  slow: { text: string; chunks: number; everyMs: number };
}

export type FaultStep = Step | SlowText;
export type FaultScript = FaultStep[] | ((req: ResponsesRequest, index: number) => FaultStep);

export interface FaultModel {
  url: string;
  requests: ResponsesRequest[];
  /** Deltas written so far by slow steps (a test waits for "mid-stream" with this). */
  slowDeltasSent: number;
  close(): Promise<void>;
}

export function slowText(text: string, chunks: number, everyMs: number): SlowText {
  return { slow: { text, chunks, everyMs } };
}

/** Everything the model saw in one request, as text (for "contains the earlier conversation"). */
export const requestText = (req: ResponsesRequest | undefined): string => JSON.stringify(req?.input ?? []);

export async function startFaultModel(script: FaultScript): Promise<FaultModel> {
  const requests: ResponsesRequest[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  let ids = 0;
  const nextId = (prefix: string) => `${prefix}_${++ids}`;
  const model: FaultModel = { url: '', requests, slowDeltasSent: 0, close: async () => {} };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
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
    const step: FaultStep = (typeof script === 'function' ? script(body, index) : script[index]) ?? { text: EXHAUSTED_TEXT, chunks: 1 };
    const { signal } = closing;

    if ('delayMs' in step && step.delayMs) await sleep(step.delayMs, undefined, { signal });
    if ('httpStatus' in step) {
      const error = step.body ?? JSON.stringify({ error: { message: `mock status ${step.httpStatus}`, type: 'server_error' } });
      res.writeHead(step.httpStatus, { 'content-type': 'application/json' }).end(error);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (data: Record<string, unknown> & { type: string }): boolean => {
      if (res.destroyed || res.writableEnded) return false;
      res.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    };
    const responseId = nextId('resp');
    send({ type: 'response.created', response: { id: responseId } });
    if ('stallMs' in step && step.stallMs) await sleep(step.stallMs, undefined, { signal });

    const message = (text: string, parts: string[]) => {
      const id = nextId('msg');
      return { id, parts, done: { type: 'message', role: 'assistant', id, content: [{ type: 'output_text', text, annotations: [] }] } };
    };
    if ('slow' in step) {
      const m = message(step.slow.text, split(step.slow.text, step.slow.chunks));
      send({ type: 'response.output_item.added', item: { type: 'message', role: 'assistant', id: m.id, content: [] } });
      for (const delta of m.parts) {
        if (!send({ type: 'response.output_text.delta', delta, item_id: m.id })) return; // the client went away
        model.slowDeltasSent++;
        await sleep(step.slow.everyMs, undefined, { signal });
      }
      send({ type: 'response.output_item.done', item: m.done });
    } else {
      const items: StepItem[] = 'items' in step ? step.items : [step as StepItem];
      for (const item of items) {
        if ('text' in item) {
          const m = message(item.text, split(item.text, item.chunks ?? 3));
          send({ type: 'response.output_item.added', item: { type: 'message', role: 'assistant', id: m.id, content: [] } });
          for (const delta of m.parts) send({ type: 'response.output_text.delta', delta, item_id: m.id });
          send({ type: 'response.output_item.done', item: m.done });
        } else {
          const { name, namespace, callId } = item.call;
          const args = typeof item.call.arguments === 'string' ? item.call.arguments : JSON.stringify(item.call.arguments);
          send({
            type: 'response.output_item.done',
            item: { type: 'function_call', name, arguments: args, call_id: callId ?? nextId('call'), ...(namespace ? { namespace } : {}) },
          });
        }
      }
    }
    const usage = { input_tokens: 10, input_tokens_details: null, output_tokens: 5, output_tokens_details: null, total_tokens: 15 };
    send({ type: 'response.completed', response: { id: responseId, usage } });
    res.end();
  };

  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
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
  model.url = `http://127.0.0.1:${port}`;
  model.close = async () => {
    closing.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return model;
}

function split(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length ? parts : [''];
}
