// Coverage model of the approval machine.
import type { AnyEventObject } from 'xstate';
import { approvalMachine } from '../../../machines/approval.machine.js';
import { never, type MachineModel } from './types.js';

const command = {
  id: 1,
  method: 'item/commandExecution/requestApproval',
  threadId: 'thr',
  params: { threadId: 'thr', turnId: 'turn_1', itemId: 'c1', command: 'ls', cwd: '/ws', availableDecisions: ['accept', 'decline'] },
};
const toolCall = {
  id: 2,
  method: 'item/tool/call',
  threadId: 'thr',
  params: { threadId: 'thr', turnId: 'turn_1', callId: 'd1', namespace: null, tool: 'lookup', arguments: {} },
};
const unsupported = { id: 3, method: 'account/chatgptAuthTokens/refresh', threadId: undefined, params: {} };
const approvalInput = (request: unknown, escalateTo: string | undefined) => ({
  approvalId: 'apr_graph',
  startedAt: 0,
  request,
  reviewer: 'policy',
  escalateTo,
  session: 'graph',
});

export const approvalModel: MachineModel = {
  id: 'approval',
  machine: approvalMachine.provide({ actors: { review: never, runTool: never } as never }),
  variants: [
    { name: 'review, escalation to the user', input: approvalInput(command, 'user') },
    { name: 'review, nobody to escalate to', input: approvalInput(command, undefined) },
    { name: 'dynamic tool', input: approvalInput(toolCall, 'user') },
    { name: 'unsupported request', input: approvalInput(unsupported, 'user') },
  ],
  events: (types) =>
    types.flatMap((type): AnyEventObject[] => {
      if (type === 'xstate.done.actor.reviewer' || type === 'xstate.done.actor.escalatedReviewer') {
        return [
          { type, output: { choice: 'accept', by: 'u1' } },
          { type, output: { escalate: true, reason: 'unsure' } },
        ];
      }
      if (type === 'xstate.done.actor.tool') {
        return [{ type, output: { result: { contentItems: [], success: true }, reason: 'ok', failClosed: false } }];
      }
      if (type.startsWith('xstate.error.actor.')) return [{ type, error: new Error('reviewer failed') }];
      if (type === 'WITHDRAW') return [{ type, reason: 'graph' }];
      return [{ type }];
    }),
};
