// item/tool/call: a host-registered dynamic tool. No reviewer: the tool runs and its
// result is the answer (ToolRegistry turns every failure into `success: false`).
import { DynamicToolCallParamsSchema } from '../../protocol/server-requests.js';
import { nz, review, type KindModule, type MethodModule } from './shared.js';

export const dynamicToolRequest: MethodModule<typeof DynamicToolCallParamsSchema> = {
  method: 'item/tool/call',
  schema: DynamicToolCallParamsSchema,
  kind: 'dynamicTool',
  toRequest(input, p) {
    const name = p.namespace ? `${p.namespace}/${p.tool}` : p.tool;
    return review(
      input,
      'dynamicTool',
      {
        threadId: p.threadId,
        turnId: p.turnId,
        itemId: p.callId,
        title: `Tool: ${name}`,
        detail: { namespace: nz(p.namespace), tool: p.tool, arguments: p.arguments },
        choices: [],
        subject: {},
        params: p,
      },
      'tool',
    );
  },
};

export const dynamicToolKind: KindModule = {
  kind: 'dynamicTool',
  // Never reached: a tool call offers no choices, so every decision is refused before this.
  toAnswer: () => ({ deny: 'dynamicTool requests take no decision' }),
};
