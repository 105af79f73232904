// `approval.requested.deciders`: the prompt says who may decide (the conversation's persisted
// owner and the agent's approvers), from the same authority the router checks decisions
// against. Real ApprovalRouter, real approval actors.
import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalRouter } from '../../../src/approvals/router.js';
import type { ServerRequest } from '../../../src/connection/rpc-engine.js';
import { commandParams } from '../../support/approval-fixtures.js';
import { APPROVER, OWNER, SESSION, makeRouter } from '../../support/approval-router.js';

const routers: ApprovalRouter[] = [];
afterEach(() => {
  for (const r of routers.splice(0)) r.dispose();
});

let nextId = 1;
function ask(router: ApprovalRouter) {
  const params = commandParams();
  const req: ServerRequest = { id: nextId++, method: 'item/commandExecution/requestApproval', params, threadId: params.threadId as string, signal: new AbortController().signal };
  return Promise.resolve(router.handler(req));
}

describe('approval.requested.deciders', () => {
  it('names the persisted owner and the agent’s approvers; the named people may decide, others may not', async () => {
    const { router, room } = makeRouter();
    routers.push(router);
    void ask(router);
    const prompt = await room.nextRequested();
    expect(prompt.deciders).toEqual({ owner: OWNER, approvers: [APPROVER] });
    expect(router.decide({ approvalId: prompt.approvalId, by: 'mallory', role: 'member', decision: 'accept' })).toMatchObject({ ok: false });
    expect(router.decide({ approvalId: prompt.approvalId, by: APPROVER, role: 'member', decision: 'accept' })).toEqual({ ok: true });
  });

  it('a conversation nobody owns yet: no owner, the approvers still listed', async () => {
    const { router, room } = makeRouter({ context: { session: SESSION, owner: undefined, approvers: ['cy', 'dee'] } });
    routers.push(router);
    void ask(router);
    expect((await room.nextRequested()).deciders).toEqual({ approvers: ['cy', 'dee'] });
  });
});
