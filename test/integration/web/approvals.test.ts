// Approval cards in a real browser against `join`, the real app-server (untrusted policy,
// workspace-write sandbox), the scripted model and a real MCP server: Accept runs the
// command and Decline does not; a member who may not decide sees disabled buttons and a
// forged decision frame from their page is refused; a late joiner sees the pending card;
// an MCP form is validated in the page, then its values reach the MCP server.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, shot } from '../../support/browser.js';
import { say, shell, type CallItem } from '../../support/mock-model.js';
import { MCP_SERVER } from '../../support/approval-harness.js';
import { expectAttr, expectTurns, openRoomPage, rawFrames, timelineText, type RoomPage } from '../../support/web-page.js';
import { scriptByMessage, startWebRoom, type WebRoom } from '../../support/web-room.js';

const logDir = mkdtempSync(path.join(tmpdir(), 'sb-web-mcp-'));
const mcpLog = path.join(logDir, 'mcp.log');
const mcpCalls = (): Array<Record<string, unknown>> =>
  existsSync(mcpLog) ? readFileSync(mcpLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
const escalated = (cmd: string): CallItem => shell(cmd, { escalated: true, justification: `run ${cmd}` });

let browser: Browser;
let room: WebRoom;
const pages: RoomPage[] = [];

beforeAll(async () => {
  [browser, room] = await Promise.all([
    launchBrowser(),
    startWebRoom({
      script: scriptByMessage(
        {
          'ACCEPT-TEST': escalated('touch accepted.txt'),
          'DECLINE-TEST': escalated('touch declined.txt'),
          'GUARD-TEST': escalated('touch guarded.txt'),
          'FORM-TEST': { call: { name: 'ask', namespace: 'mcp__test', arguments: {}, callId: 'call_ask' } },
        },
        (callId) => say(`tool ${callId} finished`),
      ),
      extraToml: ['[mcp_servers.test]', 'command = "node"', `args = [${JSON.stringify(MCP_SERVER)}]`, `env = { MCP_TEST_LOG = ${JSON.stringify(mcpLog)} }`].join('\n'),
    }),
  ]);
}, 90_000);

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  await room?.close();
  rmSync(logDir, { recursive: true, force: true });
}, 60_000);

async function open(token: string, thread: string): Promise<RoomPage> {
  const p = await openRoomPage(browser, room.link(token, { thread }));
  pages.push(p);
  return p;
}
const workspaceFile = (name: string) => path.join(room.box.workspace, name);
const button = (p: RoomPage, card: number | string, name: string) => p.card(card).getByRole('button', { name, exact: true });

// Real turns on a shared 2-core machine: more room than the default 30 s.
describe('web room: approval cards', { timeout: 60_000 }, () => {
  it('Accept runs the command; the card shows it approved', async () => {
    const ann = await open(room.ownerToken, 'accept');
    await ann.send('ACCEPT-TEST create the file');
    await expectAttr(ann.card(0), 'data-state', 'pending');
    expect(await ann.card(0).innerText()).toContain('touch accepted.txt');
    await shot(ann.page, 'approval', 'accept-pending');
    await button(ann, 0, 'Accept').click();
    await expectAttr(ann.card(0), 'data-state', 'approved');
    await expectTurns(ann.page, 'completed', 1);
    expect(existsSync(workspaceFile('accepted.txt'))).toBe(true);
    await shot(ann.page, 'approval', 'accept-approved');
    await ann.expectNoProblems();
  });

  it('Decline does not run the command; the card shows it denied', async () => {
    const ann = await open(room.ownerToken, 'decline');
    await ann.send('DECLINE-TEST create the file');
    await expectAttr(ann.card(0), 'data-state', 'pending');
    await button(ann, 0, 'Decline').click();
    await expectAttr(ann.card(0), 'data-state', 'denied');
    await expectTurns(ann.page, 'completed', 1);
    expect(existsSync(workspaceFile('declined.txt'))).toBe(false);
    await shot(ann.page, 'approval', 'decline-denied');
    await ann.expectNoProblems();
  });

  it('a member sees disabled buttons with the reason, a forged decide frame is refused, a late joiner sees the pending card', async () => {
    const bobToken = await room.mint('bob', 'member', 'Bob');
    const bob = await open(bobToken, 'guarded');
    const ann = await open(room.ownerToken, 'guarded');
    await ann.send('GUARD-TEST create the file');
    await expectAttr(bob.card(0), 'data-state', 'pending');
    // bob sees ann's message live, under her verified name, and ann sees it once (her echo was replaced).
    expect(await timelineText(bob.page)).toContain('GUARD-TEST create the file');
    expect((await timelineText(ann.page)).split('GUARD-TEST create the file').length - 1).toBe(1);
    const approvalId = (await bob.card(0).getAttribute('data-approval-id'))!;
    for (const name of ['Accept', 'Decline']) expect(await button(bob, approvalId, name).isDisabled()).toBe(true);
    expect(await bob.card(approvalId).innerText()).toMatch(/Only the conversation owner \(ann\)/);
    expect(await button(ann, approvalId, 'Accept').isEnabled()).toBe(true);
    await shot(bob.page, 'approval', 'member-disabled');

    // The page hides nothing the server relies on: a decision sent from bob's own socket is refused.
    const replies = await bob.page.evaluate(rawFrames, { token: bobToken, frames: [{ type: 'approval.decide', approvalId, decision: 'accept' }], until: 'decided' });
    expect(replies.at(-1)).toMatchObject({ type: 'decided', approvalId, ok: false });
    await new Promise((r) => setTimeout(r, 500));
    expect(await ann.card(approvalId).getAttribute('data-state')).toBe('pending');
    expect(existsSync(workspaceFile('guarded.txt'))).toBe(false);

    // Someone opening the room now gets the pending approval with the rest.
    const cy = await open(await room.mint('cy', 'member', 'Cy'), 'guarded');
    await expectAttr(cy.card(approvalId), 'data-state', 'pending');
    // History brings the request's context too: who asked for what.
    expect(await timelineText(cy.page)).toContain('GUARD-TEST create the file');
    expect(await button(cy, approvalId, 'Accept').isDisabled()).toBe(true);
    await shot(cy.page, 'approval', 'late-joiner-pending');

    await button(ann, approvalId, 'Decline').click();
    for (const p of [ann, bob, cy]) await expectAttr(p.card(approvalId), 'data-state', 'denied');
    await expectTurns(ann.page, 'completed', 1);
    expect(existsSync(workspaceFile('guarded.txt'))).toBe(false);
    for (const p of [ann, bob, cy]) await p.expectNoProblems();
  });

  it('an MCP form: a bad value is caught in the page, then the values reach the MCP server', async () => {
    const ann = await open(room.ownerToken, 'form');
    await ann.send('FORM-TEST fill the form');
    // Codex asks to run the MCP tool first; then the tool asks for the form.
    await expectAttr(ann.card(0), 'data-state', 'pending');
    await button(ann, 0, 'Accept').click();
    await expectAttr(ann.card(0), 'data-state', 'approved');
    const form = ann.card(1);
    await expectAttr(form, 'data-state', 'pending');
    await form.getByLabel('Name').fill('Ann');
    await form.getByLabel('Age').fill('200'); // the schema's maximum is 150
    const colour = form.getByLabel('Favourite colour');
    if ((await colour.evaluate((el) => el.tagName)) === 'SELECT') await colour.selectOption('green');
    else await colour.fill('green');
    await button(ann, 1, 'Submit').click();
    await expect.poll(() => form.innerText()).toMatch(/150/);
    await shot(ann.page, 'mcp-form', 'invalid-age');
    expect(await form.getAttribute('data-state')).toBe('pending');
    expect(mcpCalls()).toEqual([]);

    await form.getByLabel('Age').fill('33');
    await button(ann, 1, 'Submit').click();
    await expectAttr(form, 'data-state', 'answered');
    await expectTurns(ann.page, 'completed', 1);
    expect(mcpCalls()).toEqual([{ tool: 'ask', result: { action: 'accept', content: { name: 'Ann', age: 33, color: 'green' } } }]);
    await shot(ann.page, 'mcp-form', 'answered');
    await ann.expectNoProblems();
  });
});
