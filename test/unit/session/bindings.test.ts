// The binding store: schema-versioned JSON, atomic writes, corrupt files never reused.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BindingCorruptError, bindingFileName, FileBindingStore, type Binding } from '../../../src/session/bindings.js';
import { parseCommand } from '../../../src/session/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(): FileBindingStore {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-bindings-'));
  dirs.push(d);
  return new FileBindingStore(path.join(d, 'nested', 'bindings'));
}

const at = '2026-01-02T03:04:05.000Z';
const binding = (key: string, threadId = 'thr_1'): Binding => ({
  schemaVersion: 1,
  key,
  threadId,
  harness: 'codex',
  model: 'gpt-5.5',
  cwd: '/work/ws',
  createdAt: at,
  updatedAt: at,
});

describe('FileBindingStore', () => {
  it('round-trips, overwrites atomically, leaves no temp files, removes', async () => {
    const s = store();
    expect(await s.load('room/chan/thread')).toBeUndefined();
    await s.save(binding('room/chan/thread'));
    await s.save(binding('room/chan/thread', 'thr_2'));
    expect(await s.load('room/chan/thread')).toEqual(binding('room/chan/thread', 'thr_2'));
    expect(readdirSync(s.dir)).toEqual([bindingFileName('room/chan/thread')]);
    await s.remove('room/chan/thread');
    expect(await s.load('room/chan/thread')).toBeUndefined();
  });

  it('concurrent saves of one key end with one complete file', async () => {
    const s = store();
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.save(binding('k', `thr_${i}`))));
    const files = readdirSync(s.dir);
    expect(files).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(s.dir, files[0]!), 'utf8')).threadId).toMatch(/^thr_\d+$/);
  });

  it('keys with any characters map to distinct, safe file names', () => {
    const a = bindingFileName('a/b/c');
    const b = bindingFileName('a_b_c');
    expect(a).not.toBe(b);
    expect(bindingFileName('../../etc/passwd')).not.toContain('/');
    expect(bindingFileName('x'.repeat(1000)).length).toBeLessThan(120);
  });

  it.each([
    ['broken JSON', '{"schemaVersion":1,', /not valid JSON/],
    ['no version', '{"threadId":"x"}', /no schemaVersion/],
    ['a newer schema', JSON.stringify({ ...binding('k'), schemaVersion: 2 }), /schemaVersion 2 is newer/],
    ['a missing field', JSON.stringify({ ...binding('k'), threadId: undefined }), /threadId/],
    ['another conversation', JSON.stringify(binding('other')), /belongs to conversation "other"/],
  ])('%s: BindingCorruptError, the file is moved aside', async (_name, text, why) => {
    const s = store();
    await s.save(binding('seed'));
    writeFileSync(s.fileOf('k'), text);
    const err = await s.load('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindingCorruptError);
    expect((err as BindingCorruptError).detail).toMatch(why);
    expect((err as BindingCorruptError).movedTo).toMatch(/\.corrupt-\d+$/);
    expect(await s.load('k')).toBeUndefined(); // never read again
    expect(readdirSync(s.dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
  });

  it('refuses to write an invalid binding', async () => {
    await expect(store().save({ ...binding('k'), threadId: '' })).rejects.toThrow();
  });
});

describe('parseCommand', () => {
  it('knows the session commands and nothing else', () => {
    expect(parseCommand('/model gpt-5.5')).toEqual({ name: 'model', arg: 'gpt-5.5' });
    expect(parseCommand('  /model  ')).toEqual({ name: 'model', arg: '' });
    expect(parseCommand('/models')).toEqual({ name: 'models' });
    expect(parseCommand('/new')).toEqual({ name: 'new' });
    expect(parseCommand('/reset')).toEqual({ name: 'reset' });
    expect(parseCommand('/stop')).toEqual({ name: 'stop' });
    expect(parseCommand('/status')).toEqual({ name: 'status' });
    expect(parseCommand('/stop the build please')).toBeUndefined();
    expect(parseCommand('/usr/bin is odd')).toBeUndefined();
    expect(parseCommand('please /stop')).toBeUndefined();
  });
});
