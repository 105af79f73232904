// The browser the web-room tests and the P7 benchmark drive: Debian's chromium through
// playwright-core (nothing downloads a browser), plus what every page test needs —
// screenshots into artifacts/web/ and a record of console errors and CSP violations.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SWITCHBOARD_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/web/', import.meta.url));

/** Launches the system Chromium; fails (never skips) with how to install it when missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. The browser tests drive Debian's chromium package: ` +
        'install it with `sudo apt-get update && sudo apt-get install -y chromium` (.ci/run does this), ' +
        'or point SWITCHBOARD_CHROMIUM at another chromium binary. Nothing downloads a browser.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Containers run the tests as root, where chromium's own sandbox cannot start.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** Writes artifacts/web/<test>-<step>.png (git-ignored) for a person to look at. */
export async function shot(page: Page, test: string, step: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${test}-${step}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface PageProblems {
  /** console.error messages and uncaught page errors. */
  errors: string[];
  /** Content-Security-Policy violations the page reported (directive: blocked URI). */
  cspViolations(): Promise<string[]>;
}

/** Starts recording a page's console errors, uncaught errors and CSP violations (call before goto). */
export async function watchProblems(page: Page): Promise<PageProblems> {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Injected by the driver (not subject to the page's CSP); it records what the CSP blocked.
  await page.addInitScript({
    content: `window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ': ' + e.blockedURI));`,
  });
  return {
    errors,
    cspViolations: () => page.evaluate('window.__cspViolations ?? []') as Promise<string[]>,
  };
}
