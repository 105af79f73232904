// P7's instruments, installed in the page from the outside (page.addInitScript): a
// WebSocket wrapper that records when each delta's frame arrives, and a MutationObserver
// that records when each delta's word (`k<index>`) is in the DOM of the newest
// assistant message. Times are performance.timeOrigin + performance.now() (wall-clock ms),
// comparable with the stamps a process on the same machine writes.
import type { CDPSession, Page } from 'playwright-core';

const PROBE = `(() => {
  const clock = () => performance.timeOrigin + performance.now();
  const probe = { frame: {}, dom: {}, domCount: 0 };
  window.__p7 = probe;
  const Native = window.WebSocket;
  // Registered in the constructor, before the app's own listener: the arrival moment.
  class ProbedSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        const t = clock();
        if (typeof e.data !== 'string' || !e.data.includes('message.delta')) return;
        for (const m of e.data.matchAll(/\\bk(\\d{4})\\b/g)) {
          const i = Number(m[1]);
          if (probe.frame[i] === undefined) probe.frame[i] = t;
        }
      });
    }
  }
  window.WebSocket = ProbedSocket;
  let scannedTo = 0;
  let element = null;
  const observer = new MutationObserver(() => {
    const t = clock();
    const all = document.querySelectorAll('[data-message-id]');
    const el = all[all.length - 1];
    if (!el) return;
    if (el !== element) { element = el; scannedTo = 0; }
    const text = el.textContent || '';
    // No word boundary: the message's header text ("… PM") runs straight into the first word.
    const re = /k(\\d{4})/g;
    re.lastIndex = Math.max(0, scannedTo - 40); // a word may have been cut at the end last time
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const i = Number(m[1]);
      if (probe.dom[i] === undefined) { probe.dom[i] = t; probe.domCount++; }
    }
    scannedTo = text.length;
  });
  const start = () => observer.observe(document.documentElement, { subtree: true, childList: true, characterData: true });
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();`;

export interface ProbeResult {
  /** Per delta index: frame arrival and DOM time, wall-clock ms. */
  frame: Record<number, number>;
  dom: Record<number, number>;
}

export async function installProbe(page: Page): Promise<void> {
  await page.addInitScript({ content: PROBE });
}

/** Waits until `count` deltas are in the DOM (or throws with how many were). */
export async function waitForDeltas(page: Page, count: number, timeoutMs: number): Promise<ProbeResult> {
  // Polled from here: a string predicate inside the page would need eval, which the CSP forbids.
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [dom, frames] = (await page.evaluate('[window.__p7.domCount, Object.keys(window.__p7.frame).length]')) as [number, number];
    if (dom >= count) break;
    if (Date.now() > end) {
      const missing = (await page.evaluate(`Array.from({ length: ${count} }, (_, i) => i).filter((i) => window.__p7.dom[i] === undefined).slice(0, 20)`)) as number[];
      throw new Error(`only ${dom} of ${count} deltas in the DOM (${frames} frames) after ${timeoutMs} ms; missing ${missing.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return (await page.evaluate('({ frame: window.__p7.frame, dom: window.__p7.dom })')) as ProbeResult;
}

/** Main-thread task time so far (ms), from the DevTools protocol. */
export async function taskMs(cdp: CDPSession): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
  return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? Number.NaN) * 1000;
}

export function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Per-delta differences b − a over the indexes both have. */
export function diffs(a: Record<number, number>, b: Record<number, number>, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (a[i] !== undefined && b[i] !== undefined) out.push(b[i]! - a[i]!);
  if (out.length < count) throw new Error(`only ${out.length} of ${count} deltas were seen at both points`);
  return out;
}
