// JSON-RPC frames as the Codex app-server writes them: one JSON object per line or
// WebSocket frame, no "jsonrpc" field (tolerated when present).
import { z } from 'zod';

const RequestIdSchema = z.union([z.string(), z.number()]);
export type RequestId = z.infer<typeof RequestIdSchema>;

const method = z.string().min(1);

const WireRequestSchema = z.compile(
  z.looseObject({ id: RequestIdSchema, method, params: z.unknown().optional() }),
);
const WireNotificationSchema = z.compile(
  z.looseObject({ method, params: z.unknown().optional() }),
);
const WireResponseSchema = z.compile(z.looseObject({ id: RequestIdSchema, result: z.unknown() }));
const WireErrorObjectSchema = z.looseObject({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});
export const WireErrorSchema = z.compile(
  z.looseObject({ id: RequestIdSchema.nullable(), error: WireErrorObjectSchema }),
);

export type WireError = z.infer<typeof WireErrorObjectSchema>;

export type Frame =
  | { kind: 'request'; id: RequestId; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; id: RequestId; result: unknown }
  | { kind: 'error'; id: RequestId | null; error: WireError };

export type DecodeResult = { ok: true; frame: Frame } | { ok: false; reason: string };

/** Largest frame we accept; a bigger line is treated as malformed instead of parsed. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Decode one line/frame. Never throws: a bad frame becomes `{ok:false, reason}`. */
export function decodeFrame(text: string): DecodeResult {
  if (text.length > MAX_FRAME_BYTES) return { ok: false, reason: `frame of ${text.length} bytes exceeds limit` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'frame is not a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  if ('method' in obj) {
    if ('id' in obj) {
      const r = WireRequestSchema.safeParse(obj);
      if (!r.success) return { ok: false, reason: `bad request frame: ${summarize(r.error)}` };
      return { ok: true, frame: { kind: 'request', id: r.data.id, method: r.data.method, params: r.data.params } };
    }
    // The hottest frame (every streamed delta): the schema's one rule, checked inline.
    if (typeof obj.method === 'string' && obj.method.length > 0) return { ok: true, frame: { kind: 'notification', method: obj.method, params: obj.params } };
    const r = WireNotificationSchema.safeParse(obj);
    return { ok: false, reason: `bad notification frame: ${r.success ? 'method: invalid' : summarize(r.error)}` };
  }
  if ('error' in obj) {
    const r = WireErrorSchema.safeParse(obj);
    if (!r.success) return { ok: false, reason: `bad error frame: ${summarize(r.error)}` };
    return { ok: true, frame: { kind: 'error', id: r.data.id, error: r.data.error } };
  }
  if ('result' in obj) {
    const r = WireResponseSchema.safeParse(obj);
    if (!r.success) return { ok: false, reason: `bad response frame: ${summarize(r.error)}` };
    return { ok: true, frame: { kind: 'response', id: r.data.id, result: r.data.result } };
  }
  return { ok: false, reason: 'frame has neither method, result nor error' };
}

export function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

export const encodeRequest = (id: RequestId, method: string, params: unknown): string =>
  JSON.stringify(params === undefined ? { id, method } : { id, method, params });
export const encodeNotification = (method: string, params?: unknown): string =>
  JSON.stringify(params === undefined ? { method } : { method, params });
export const encodeResult = (id: RequestId, result: unknown): string => JSON.stringify({ id, result });
export const encodeError = (id: RequestId, error: WireError): string => JSON.stringify({ id, error });

/** JSON-RPC error codes we use or recognise. */
export const ErrorCodes = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** Codex: server overloaded; safe to retry idempotent calls. */
  overloaded: -32001,
  /** Ours: the client does not support this server request. */
  unsupported: -32000,
} as const;
