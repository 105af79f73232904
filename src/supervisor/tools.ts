// Host dynamic tools as the supervisor registers them: string results wrapped, and every
// result passed through the tool_result hook (awaited) when one is registered.
import type { DynamicTool, ToolCallResult } from '../approvals/tools.js';
import type { Hooks } from '../hooks/hooks.js';

export function withResultHook(tool: DynamicTool, hooks: Hooks, sessionOfThread: (threadId: string) => string | undefined): DynamicTool {
  return {
    ...tool,
    execute: async (args, ctx) => {
      const raw = await tool.execute(args, ctx);
      const result: ToolCallResult = typeof raw === 'string' ? { contentItems: [{ type: 'inputText', text: raw }], success: true } : raw;
      if (!hooks.has('tool_result')) return result;
      const session = sessionOfThread(ctx.threadId) ?? ctx.threadId;
      const out = await hooks.run('tool_result', { session, turnId: ctx.turnId, tool: tool.name, arguments: args, result });
      return out.result as ToolCallResult;
    },
  };
}
