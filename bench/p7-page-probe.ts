// P7's instruments, installed in the page from the outside (page.addInitScript): a
// WebSocket wrapper that records when each delta's frame arrives, and a MutationObserver
// that records when each delta's word (`k<index>[t<stamp>]`) is in the DOM of the newest
// assistant message. Times are performance.timeOrigin + performance.now() (wall-clock ms),
// comparable with the stamps a process on the same machine writes.
import type { CDPSession, Page } from 'playwright-core';

const PROBE = `(() => {
  const clock = () => performance.timeOrigin + performance.now();
  const probe = { frame: {}, stamp: {}, dom: {}, domCount: 0 };
  window.__p7 = probe;
  const Native = window.WebSocket;
  // Registered in the constructor, before the app's own listener: the arrival moment.
  class ProbedSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        const t = clock();
        if (typeof e.data !== 'string' || !e.data.includes('message.delta')) return;
        for (const m of e.data.matchAll(/\\bk(\\d{4})(?:t(\\d+\\.\\d+))?\\b/g)) {
          const i = Number(m[1]);
          if (probe.frame[i] !== undefined) continue;
          probe.frame[i] = t;
          if (m[2]) probe.stamp[i] = Number(m[2]);
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
    const re = /\\bk(\\d{4})/g;
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
  /** Per delta index: frame arrival, DOM time, app-server stamp (fake only), wall-clock ms. */
  frame: Record<number, number>;
  dom: Record<number, number>;
  stamp: Record<number, number>;
}

export async function installProbe(page: Page): Promise<void> {
  await page.addInitScript({ content: PROBE });
}

/** Waits until `count` deltas are in the DOM (or throws with how many were). */
export async function waitForDeltas(page: Page, count: number, timeoutMs: number): Promise<ProbeResult> {
  try {
    await page.waitForFunction(`window.__p7.domCount >= ${count}`, undefined, { timeout: timeoutMs, polling: 100 });
  } catch (err) {
    const seen = await page.evaluate('[window.__p7.domCount, Object.keys(window.__p7.frame).length]');
    throw new Error(`only ${JSON.stringify(seen)} of ${count} deltas (dom, frames) in ${timeoutMs} ms: ${(err as Error).message}`);
  }
  return (await page.evaluate('({ frame: window.__p7.frame, dom: window.__p7.dom, stamp: window.__p7.stamp })')) as ProbeResult;
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
