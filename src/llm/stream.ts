// One streamed Responses-API request (`responses.create({stream: true})` of the official
// client): text deltas as they come, the final text and token usage; every failure as an
// `LlmTurnError` whose message a room can show. Nothing here trusts the endpoint's strings.
import OpenAI from 'openai';
import { z } from 'zod';
import type { TokenCounts } from '../events/room-events.js';
import { cleanName } from '../attachments/text.js';
import type { InputMessage } from './history.js';

export interface LlmRequest {
  model: string;
  instructions: string | undefined;
  input: InputMessage[];
}

export interface StreamResult {
  text: string;
  usage: TokenCounts | undefined;
}

/** Cap on an answer's characters (a runaway stream cannot grow memory without bound). */
export const MAX_ANSWER_CHARS = 1_000_000;
const MAX_ERROR_CHARS = 300;

export class LlmTurnError extends Error {
  constructor(
    message: string,
    /** The endpoint's HTTP status, when it answered with one. */
    readonly status: number | undefined,
    /** The stream was aborted (`/stop`, shutdown). */
    readonly aborted: boolean,
  ) {
    super(message);
    this.name = 'LlmTurnError';
  }
}

const UsageSchema = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative().optional(),
  input_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative().optional() }).nullish(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().int().nonnegative().optional() }).nullish(),
});

export function usageOf(raw: unknown): TokenCounts | undefined {
  const u = UsageSchema.safeParse(raw);
  if (!u.success) return undefined;
  const d = u.data;
  return {
    inputTokens: d.input_tokens,
    cachedInputTokens: d.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: d.output_tokens,
    reasoningOutputTokens: d.output_tokens_details?.reasoning_tokens ?? 0,
    totalTokens: d.total_tokens ?? d.input_tokens + d.output_tokens,
  };
}

/** A remote string for a notice: one line, no control characters, bounded. */
export const remoteText = (s: unknown): string => cleanName(typeof s === 'string' ? s : String(s)).slice(0, MAX_ERROR_CHARS);

/** What went wrong, in words for the room (never the key: the client does not put it in messages). */
export function describeError(err: unknown, baseUrl: string): LlmTurnError {
  if (err instanceof LlmTurnError) return err;
  if (err instanceof OpenAI.APIUserAbortError) return new LlmTurnError('stopped', undefined, true);
  if (err instanceof OpenAI.APIConnectionError) return new LlmTurnError(`cannot reach the model endpoint ${baseUrl}: ${remoteText(err.message)}`, undefined, false);
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    const what = err.status === 429 ? 'rate limit or quota exceeded' : err.status >= 500 ? 'server error' : 'request refused';
    return new LlmTurnError(`the model endpoint answered HTTP ${err.status} (${what}): ${remoteText(err.message)}`, err.status, false);
  }
  return new LlmTurnError(remoteText((err as Error)?.message ?? err), undefined, false);
}

/** Stream one answer; `onDelta` sees each text delta. Throws an LlmTurnError (`aborted` on signal). */
export async function streamResponse(client: OpenAI, req: LlmRequest, signal: AbortSignal, onDelta: (delta: string) => void, baseUrl: string): Promise<StreamResult> {
  let text = '';
  let usage: TokenCounts | undefined;
  try {
    const stream = await client.responses.create(
      { model: req.model, input: req.input, stream: true, store: false, ...(req.instructions ? { instructions: req.instructions } : {}) },
      { signal },
    );
    for await (const ev of stream) {
      if (ev.type === 'response.output_text.delta') {
        if (typeof ev.delta !== 'string' || text.length >= MAX_ANSWER_CHARS) continue;
        const delta = ev.delta.slice(0, MAX_ANSWER_CHARS - text.length);
        text += delta;
        onDelta(delta);
      } else if (ev.type === 'response.completed' || ev.type === 'response.incomplete') {
        usage = usageOf((ev.response as { usage?: unknown } | undefined)?.usage);
      } else if (ev.type === 'response.failed') {
        const e = (ev.response as { error?: { message?: unknown } | null } | undefined)?.error;
        throw new LlmTurnError(`the model failed: ${remoteText(e?.message ?? 'no reason given')}`, undefined, false);
      } else if (ev.type === 'error') {
        throw new LlmTurnError(`the model failed: ${remoteText((ev as { message?: unknown }).message ?? 'stream error')}`, undefined, false);
      }
    }
  } catch (err) {
    // An abort can surface as another error (a reset socket): the signal says what it was.
    throw signal.aborted ? new LlmTurnError('stopped', undefined, true) : describeError(err, baseUrl);
  }
  if (signal.aborted) throw new LlmTurnError('stopped', undefined, true);
  return { text, usage };
}
