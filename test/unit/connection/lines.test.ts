import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/transport/lines.js';

describe('LineSplitter', () => {
  const run = (chunks: string[], max = 1000) => {
    const lines: string[] = [];
    const oversize: number[] = [];
    const s = new LineSplitter((l) => lines.push(l), (n) => oversize.push(n), max);
    for (const c of chunks) s.push(c);
    s.end();
    return { lines, oversize };
  };

  it('joins lines split across chunks and strips CR', () => {
    expect(run(['{"a":', '1}\r\n{"b"', ':2}\n', '{"c":3}']).lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('skips empty lines', () => {
    expect(run(['\n\n{"a":1}\n\n']).lines).toEqual(['{"a":1}']);
  });

  it('discards an oversized line and resumes at the next one', () => {
    const r = run(['x'.repeat(600), 'y'.repeat(600), '\n{"ok":1}\n'], 1000);
    expect(r.lines).toEqual(['{"ok":1}']);
    expect(r.oversize).toHaveLength(1);
  });
});
