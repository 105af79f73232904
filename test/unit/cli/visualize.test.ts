// `switchboard simulate --trace` then `switchboard visualize --trace`: the visited states and
// transitions of a real run are highlighted in the diagram.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { simulateCommand } from '../../../src/simulate/cli.js';
import { visualize } from '../../../src/cli/visualize.js';
import type { Output } from '../../../src/cli/output.js';

const scenarios = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function capture(): Output & { text: () => string; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    line: (t) => void lines.push(t),
    write: (t) => void lines.push(t),
    error: (t) => void errors.push(t),
    bold: (t) => t,
    progress: () => ({ done() {} }),
    text: () => lines.join('\n'),
    errors,
  };
}

describe('switchboard visualize', () => {
  it('highlights what a traced simulation visited', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-viz-'));
    dirs.push(dir);
    const trace = path.join(dir, 'run.jsonl');
    const sim = capture();
    const scenario = path.join(scenarios, 'approval-command.json');
    expect(await simulateCommand(scenario, { trace }, sim)).toBe(0);
    expect(readFileSync(trace, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(10);

    const out = capture();
    expect(await visualize({ machine: 'connection', trace, out: dir }, out)).toBe(0);
    const mmd = readFileSync(path.join(dir, 'connection.mmd'), 'utf8');
    expect(mmd).toMatch(/class .*running_ready.* visited|running_ready:::visited|class running_ready visited/);
    expect(readFileSync(path.join(dir, 'connection.svg'), 'utf8')).toMatch(/^<\?xml|<svg/);
    expect(out.text()).toMatch(/visited \d+ states, \d+ transitions/);
  });

  it('prints Mermaid for one machine, and names the known machines for a wrong one', async () => {
    const out = capture();
    expect(await visualize({ machine: 'approval' }, out)).toBe(0);
    expect(out.text()).toMatch(/^stateDiagram-v2/);
    const bad = capture();
    expect(await visualize({ machine: 'nope' }, bad)).toBe(2);
    expect(bad.errors[0]).toMatch(/no machine "nope"; known: .*connection/);
  });
});
