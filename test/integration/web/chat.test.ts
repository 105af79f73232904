// The web room in a real browser (Debian's chromium via playwright-core) against `join`
// with the real app-server and the scripted model: a streamed markdown answer, a socket
// dropped mid-stream, the page's safety rules, a phone with a keyboard, the inspector.
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, shot } from '../../support/browser.js';
import { say } from '../../support/mock-model.js';
import { openRoomPage, expectTurns, rawFrames, timelineText, type RawSocket, type RoomPage } from '../../support/web-page.js';
import { scriptByMessage, startWebRoom, type WebRoom } from '../../support/web-room.js';

const WORDS = Array.from({ length: 40 }, (_, i) => `w${String(i + 1).padStart(2, '0')}`);
const STREAMED = `${WORDS.join(' ')}.`;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let browser: Browser;
let room: WebRoom;
const pages: RoomPage[] = [];

beforeAll(async () => {
  [browser, room] = await Promise.all([
    launchBrowser(),
    startWebRoom({
      script: scriptByMessage(
        {
          'BOLD-TEST': say('Here is **bold** text and `code`.', 4),
          // 40 deltas, 80 ms apart: long enough to cut the socket in the middle.
          'DROP-TEST': { text: STREAMED, chunks: 40, everyMs: 80 },
          'PHONE-TEST': say('Answered on the phone.', 2),
          // The model stalls so the inspector can see the turn running.
          'INSPECT-TEST': { text: 'Inspected.', chunks: 2, stallMs: 2500 },
        },
        () => say('done'),
      ),
    }),
  ]);
}, 90_000);

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  await room?.close();
}, 60_000);

async function open(url: string, opts: Parameters<typeof openRoomPage>[2] = {}): Promise<RoomPage> {
  const p = await openRoomPage(browser, url, opts);
  pages.push(p);
  return p;
}

describe('web room: chat', { timeout: 60_000 }, () => {
  it('a message gets a streamed answer rendered as markdown, under the author’s verified name', async () => {
    const bob = await open(room.link(await room.mint('bob', 'member', 'Bob Builder'), { thread: 'bold' }));
    await bob.send('BOLD-TEST please answer');
    await expectTurns(bob.page, 'completed', 1);
    await expect.poll(() => bob.answers.locator('strong').first().textContent(), { timeout: 10_000 }).toBe('bold');
    expect(await bob.answers.locator('code').first().textContent()).toBe('code');
    // Markdown rendered, not shown as source.
    expect(await bob.answers.first().innerText()).not.toContain('**');
    // The user's message carries the name from the credential.
    const mine = bob.page.getByRole('log').locator('article, li, [data-author]').filter({ hasText: 'BOLD-TEST please answer' }).last();
    await expect.poll(() => mine.innerText()).toContain('Bob Builder');
    expect(await bob.page.getByText('completed').count()).toBeGreaterThan(0);
    // The answer is signed with the agent's name in this room (`--agent-name bot`).
    expect(await bob.answers.first().getAttribute('aria-label')).toBe('Message from bot');
    expect(await bob.answers.first().locator('.author').textContent()).toBe('bot');
    // The turn's token usage, as Codex reported it for the scripted model's answer.
    expect(await bob.page.locator('.turn-usage').first().textContent()).toMatch(/^\d+ tokens: \d+ in, \d+ out$/);
    await shot(bob.page, 'chat', 'markdown-answer');
    await bob.expectNoProblems();
  });

  it('a socket dropped mid-stream reconnects, shows offline meanwhile, and the answer appears exactly once', async () => {
    const ann = await open(room.link(room.ownerToken, { via: 'proxy', thread: 'drop' }));
    expect(ann.sockets.every((u) => u.startsWith(`ws://127.0.0.1:${room.proxy.port}`))).toBe(true);
    await ann.page.evaluate('window.__sameDocument = true');
    const sentBefore = room.box.model.deltasSent;
    await ann.send('DROP-TEST stream slowly');
    await expect.poll(() => room.box.model.deltasSent - sentBefore, { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(8);
    await expect.poll(() => ann.answers.count()).toBeGreaterThan(0);
    room.proxy.cut(1500);
    await expect.poll(() => ann.status.textContent(), { timeout: 5_000, interval: 20 }).toMatch(/Offline|Reconnecting/);
    await shot(ann.page, 'drop', 'offline');
    const deltasAtCut = room.box.model.deltasSent - sentBefore;
    await expect.poll(() => ann.status.textContent(), { timeout: 20_000 }).toMatch(/^\s*Online\s*$/);
    await expectTurns(ann.page, 'completed', 1);
    // The drop really was mid-stream: more deltas came after it.
    expect(deltasAtCut).toBeLessThan(40);
    expect(await ann.page.evaluate('window.__sameDocument')).toBe(true);
    expect(ann.sockets.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => ann.answers.count()).toBe(1);
    const answer = await ann.answers.first().innerText();
    expect(answer.split(STREAMED).length - 1).toBe(1);
    expect(answer.split('w').length - 1).toBe(WORDS.length);
    const text = await timelineText(ann.page);
    expect(text.split('w01 w02').length - 1).toBe(1);
    expect(text.split('w40.').length - 1).toBe(1);
    await shot(ann.page, 'drop', 'resumed');
    // Chromium itself logs the reconnects the cut refused.
    await ann.expectNoProblems(/^console: WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/' failed/);
  });

  it('the inspector shows the turn actor running on its diagram, then done', async () => {
    const ann = await open(room.link(room.ownerToken, { thread: 'inspect' }));
    await ann.page.getByRole('button', { name: 'Inspector' }).click();
    const inspector = ann.page.getByRole('region', { name: 'Inspector' });
    await expect.poll(() => inspector.isVisible()).toBe(true);
    await ann.send('INSPECT-TEST watch the turn');
    const turn = inspector.locator(`[data-machine="turn"][data-actor-id^="session:${room.room}/chat/inspect"]`).first();
    await expect.poll(() => turn.getAttribute('data-status'), { timeout: 15_000, interval: 50 }).toBe('active');
    await turn.getByRole('button').first().click();
    await expect.poll(() => inspector.innerText(), { timeout: 5_000 }).toContain('running');
    // The diagram of the selected actor highlights the current state: nodes found by their title.
    const active = () => inspector.locator('svg g.viz-active > title').evaluateAll((ts) => ts.map((t) => t.textContent ?? ''));
    await expect.poll(active, { timeout: 5_000 }).toContain('cluster_turn.running');
    await shot(ann.page, 'inspector', 'turn-running');
    await expect.poll(() => turn.getAttribute('data-status'), { timeout: 20_000 }).toBe('done');
    await shot(ann.page, 'inspector', 'turn-done');
    await ann.expectNoProblems();
  });

  it('a member has no inspector: the button is absent and the frame is refused', async () => {
    const cy = await open(room.link(await room.mint('cy', 'member'), { thread: 'inspect' }));
    expect(await cy.page.getByRole('button', { name: 'Inspector' }).count()).toBe(0);
    const token = await room.mint('cy', 'member');
    const reply = await cy.page.evaluate(rawFrames, { token, frames: [{ type: 'inspect', on: true }], until: 'error' });
    expect(reply.at(-1)).toMatchObject({ type: 'error', code: 'forbidden' });
  });
});

describe('web room: safety', { timeout: 60_000 }, () => {
  it('CSP and headers, no token in the URL after load, same-origin credential-free WebSocket, no CSP violations', async () => {
    // Not on a terminal (a service): join prints the page address and where the owner's link is, not the link.
    const [, pageAddress, linkFile] = room.join.stdout().match(/open in a browser: (http:\/\/\S+) \(the link with your credential: (\S+)\)/) ?? [];
    expect(pageAddress).toBe(`${room.origin}/`);
    expect(statSync(linkFile!).mode & 0o777).toBe(0o600);
    const link = readFileSync(linkFile!, 'utf8').trim();
    expect(link).toBe(`${room.origin}/#token=${room.ownerToken}`);
    expect(room.join.stdout() + room.join.stderr()).not.toContain(room.ownerToken);
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(room.origin + '/');
    const headers = res!.headers();
    expect(headers['content-security-policy']).toBe(CSP);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['cache-control']).toBe('no-store');
    // No credential: the page asks for one.
    await expect.poll(() => page.getByLabel('Credential').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await context.close();

    const ann = await open(link!);
    expect(await ann.page.evaluate('location.hash')).toBe('');
    expect(ann.page.url()).not.toContain('token');
    expect(ann.sockets).toEqual([`ws://127.0.0.1:${room.port}/`]);
    // The credential travels in the join frame, never in a URL.
    expect(ann.sent.some((f) => f.includes(room.ownerToken) && JSON.parse(f).type === 'join')).toBe(true);
    // Working under the CSP: a reload (token from sessionStorage) still joins.
    await ann.page.reload();
    await expect.poll(() => ann.status.textContent(), { timeout: 15_000 }).toMatch(/^\s*Online\s*$/);
    expect(ann.page.url()).not.toContain('token');
    await shot(ann.page, 'safety', 'owner-link');
    await ann.expectNoProblems();
  });

  it('a page from another origin cannot open the room’s WebSocket', async () => {
    const other = await otherSite();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(other.url);
      const outcome = await page.evaluate(tryOpen, `ws://127.0.0.1:${room.port}/`);
      expect(outcome).toBe('refused');
      // Refused for its origin (the server says why in its log), not for anything else.
      await expect.poll(() => room.join.stdout() + room.join.stderr()).toContain('connection refused: origin not allowed');
      await context.close();
    } finally {
      other.server.close();
    }
  });
});

describe('web room: phone and keyboard', { timeout: 60_000 }, () => {
  it('at 390×844 the message box is reachable by Tab, Shift+Enter adds a line, Enter sends', async () => {
    const dee = await open(room.link(await room.mint('dee', 'member', 'Dee'), { thread: 'phone' }), { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await shot(dee.page, 'phone', 'loaded');
    let focused = false;
    for (let i = 0; i < 40 && !focused; i++) {
      await dee.page.keyboard.press('Tab');
      focused = await dee.message.evaluate((el) => el === el.ownerDocument.activeElement);
    }
    expect(focused, 'Tab reaches the Message box').toBe(true);
    const box = (await dee.message.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await dee.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await dee.page.keyboard.type('PHONE-TEST line one');
    await dee.page.keyboard.press('Shift+Enter');
    await dee.page.keyboard.type('line two');
    expect(await dee.message.inputValue()).toBe('PHONE-TEST line one\nline two');
    await dee.page.keyboard.press('Enter');
    await expectTurns(dee.page, 'completed', 1);
    await expect.poll(() => timelineText(dee.page)).toContain('Answered on the phone.');
    expect(await dee.message.inputValue()).toBe('');
    await shot(dee.page, 'phone', 'answered');
    await dee.expectNoProblems();
  });
});

/** In a page of another origin: does the room's WebSocket open? */
async function tryOpen(url: string): Promise<'opened' | 'refused'> {
  const g = globalThis as unknown as { WebSocket: new (url: string) => RawSocket };
  const ws = new g.WebSocket(url);
  return new Promise((resolve) => {
    ws.onopen = () => {
      ws.close();
      resolve('opened');
    };
    ws.onclose = () => resolve('refused');
  });
}

/** A second site on another port: an origin the room does not allow. */
async function otherSite(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
