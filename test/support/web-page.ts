// A room page as a participant sees it, driven through the accessible names the contract
// promises (textbox "Message", role=status, decision buttons named by their decision).
import { expect } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { watchProblems, type PageProblems } from './browser.js';

export interface RoomPage {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  /** URLs of every WebSocket the page opened. */
  sockets: string[];
  /** Frames the page sent on its WebSockets (as text). */
  sent: string[];
  /** The status element (role=status). */
  status: Locator;
  message: Locator;
  /** Types `text` into the Message box and presses Enter. */
  send(text: string): Promise<void>;
  /** The approval card of the n-th (0-based) approval shown, or of `approvalId`. */
  card(which: number | string): Locator;
  /** The page's own assistant messages (data-message-id). */
  answers: Locator;
  /** Fails on console errors, uncaught errors or CSP violations seen so far (`allow`: errors a test caused on purpose). */
  expectNoProblems(allow?: RegExp): Promise<void>;
  close(): Promise<void>;
}

export async function openRoomPage(browser: Browser, url: string, opts: BrowserContextOptions = {}): Promise<RoomPage> {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  const problems = await watchProblems(page);
  const sockets: string[] = [];
  const sent: string[] = [];
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    ws.on('framesent', (f) => sent.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8')));
  });
  await page.goto(url);
  const status = page.getByRole('status').first();
  await expect.poll(() => status.textContent(), { timeout: 15_000 }).toMatch(/^\s*Online\s*$/);
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  return {
    context,
    page,
    problems,
    sockets,
    sent,
    status,
    message,
    async send(text) {
      await message.fill(text);
      await message.press('Enter');
    },
    card: (which) => (typeof which === 'string' ? page.locator(`[data-approval-id="${which}"]`) : page.locator('[data-approval-id]').nth(which)),
    answers: page.locator('[data-message-id]'),
    async expectNoProblems(allow) {
      expect(problems.errors.filter((e) => !allow?.test(e))).toEqual([]);
      expect(await problems.cspViolations()).toEqual([]);
    },
    close: () => context.close(),
  };
}

/** Waits until `locator`'s attribute equals `value` (the page updates asynchronously). */
export async function expectAttr(locator: Locator, name: string, value: string, timeout = 20_000): Promise<void> {
  await expect.poll(() => locator.getAttribute(name), { timeout }).toBe(value);
}

/** The text a person sees in the timeline (role=log). */
export const timelineText = (page: Page): Promise<string> => page.getByRole('log').first().innerText();

/** Waits until the timeline shows a turn with this status ("completed", "failed", …) `count` times. */
export async function expectTurns(page: Page, status: string, count: number, timeout = 30_000): Promise<void> {
  await expect.poll(() => page.locator(`[data-turn-status="${status}"]`).count(), { timeout }).toBeGreaterThanOrEqual(count);
}

/** In the page: opens a raw WebSocket to the page's own server, joins, sends frames, collects replies. */
export async function rawFrames(arg: { token: string; frames: unknown[]; until: string }): Promise<Array<Record<string, unknown>>> {
  const g = globalThis as unknown as { WebSocket: new (url: string) => RawSocket; location: { host: string } };
  const ws = new g.WebSocket(`ws://${g.location.host}/`);
  const got: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${arg.until} frame: ${JSON.stringify(got).slice(0, 500)}`)), 10_000);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', token: arg.token }));
    ws.onmessage = (e) => {
      const f = JSON.parse(String(e.data)) as Record<string, unknown>;
      got.push(f);
      if (f.type === 'joined') for (const frame of arg.frames) ws.send(JSON.stringify(frame));
      if (f.type === arg.until) {
        clearTimeout(timer);
        ws.close();
        resolve(got);
      }
    };
  });
}
export interface RawSocket {
  onopen: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number }) => void) | null;
  send(s: string): void;
  close(): void;
}
