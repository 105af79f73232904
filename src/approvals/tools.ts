// Dynamic tools the host registers: Codex calls them with `item/tool/call`. An unknown
// tool, bad arguments, a throw or a malformed result all answer `success: false`.
import { z } from 'zod';
import { serverAnswerSchemas } from '../protocol/server-requests.js';
import { summarize } from '../protocol/wire.js';
import { validateJson } from './form.js';

export type ToolContentItem = { type: 'inputText'; text: string } | { type: 'inputImage'; imageUrl: string };

export interface ToolCallResult {
  contentItems: ToolContentItem[];
  success: boolean;
}

export interface ToolCallContext {
  signal: AbortSignal;
  threadId: string;
  turnId: string;
  callId: string;
}

export interface DynamicTool {
  name: string;
  /** Optional namespace; Codex reports it back in the call. */
  namespace?: string;
  description: string;
  /** JSON Schema of the arguments; calls are validated against it before `execute`. */
  inputSchema: Record<string, unknown>;
  /** A string is sent as one text item with success:true. */
  execute(args: unknown, ctx: ToolCallContext): Promise<ToolCallResult | string> | ToolCallResult | string;
}

const ToolSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
  namespace: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'namespaces are 1-64 letters, digits, _ or -').optional(),
  description: z.string().min(1, 'a tool needs a description'),
  inputSchema: z.record(z.string(), z.unknown()),
  execute: z.custom<DynamicTool['execute']>((v) => typeof v === 'function', 'execute must be a function'),
});

export interface ToolCallOutcome {
  result: ToolCallResult;
  reason: string;
  /** True when Switchboard answered the failure (unknown tool, bad arguments, a throw). */
  failClosed: boolean;
}

export interface ToolCall {
  namespace: string | null | undefined;
  tool: string;
  arguments: unknown;
  threadId: string;
  turnId: string;
  callId: string;
}

const key = (namespace: string | null | undefined, name: string): string => (namespace ? `${namespace}/${name}` : name);
const failure = (text: string): ToolCallResult => ({ contentItems: [{ type: 'inputText', text }], success: false });

export class ToolRegistry {
  private readonly tools = new Map<string, DynamicTool>();

  /** Register a tool; returns its unregister function. */
  register(tool: DynamicTool): () => void {
    const r = ToolSchema.safeParse(tool);
    if (!r.success) throw new Error(`invalid dynamic tool: ${summarize(r.error)}`);
    const k = key(tool.namespace, tool.name);
    if (this.tools.has(k)) throw new Error(`dynamic tool "${k}" is already registered`);
    this.tools.set(k, tool);
    return () => {
      if (this.tools.get(k) === tool) this.tools.delete(k);
    };
  }

  has(namespace: string | null | undefined, name: string): boolean {
    return this.tools.has(key(namespace, name));
  }

  /** Specs for `thread/start` `dynamicTools` (experimental API). */
  specs(): Array<{ type: 'function'; name: string; description: string; inputSchema: Record<string, unknown> }> {
    return [...this.tools.values()]
      .filter((t) => !t.namespace)
      .map((t) => ({ type: 'function' as const, name: t.name, description: t.description, inputSchema: t.inputSchema }));
  }

  /** Run a call. Never throws; `reason` explains the result, `failClosed` marks our own failures. */
  async call(call: ToolCall, signal: AbortSignal): Promise<ToolCallOutcome> {
    const name = key(call.namespace, call.tool);
    const tool = this.tools.get(name);
    if (!tool) return { result: failure(`unknown tool: ${name}`), reason: `unknown tool ${name}`, failClosed: true };
    const args = validateJson(tool.inputSchema, call.arguments);
    if (!args.ok) return { result: failure(`invalid arguments for ${name}: ${args.problem}`), reason: `invalid arguments: ${args.problem}`, failClosed: true };
    let raw: ToolCallResult | string;
    try {
      raw = await tool.execute(call.arguments, { signal, threadId: call.threadId, turnId: call.turnId, callId: call.callId });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      return { result: failure(`tool ${name} failed: ${msg}`), reason: `tool threw: ${msg}`, failClosed: true };
    }
    const result: unknown = typeof raw === 'string' ? { contentItems: [{ type: 'inputText', text: raw }], success: true } : raw;
    const shape = serverAnswerSchemas['item/tool/call']!.safeParse(result);
    if (!shape.success) {
      return { result: failure(`tool ${name} returned a malformed result`), reason: `malformed result: ${summarize(shape.error)}`, failClosed: true };
    }
    const ok = (result as ToolCallResult).success;
    return { result: result as ToolCallResult, reason: ok ? `tool ${name} succeeded` : `tool ${name} reported failure`, failClosed: false };
  }
}
