// Durable conversation → Codex thread bindings: one JSON file per conversation key,
// schema-versioned, validated with zod, written atomically (temp file + fsync + rename).
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const BINDING_SCHEMA_VERSION = 1;

export const BindingSchema = z.object({
  schemaVersion: z.literal(BINDING_SCHEMA_VERSION),
  /** The conversation key the binding belongs to (a check against a misplaced file). */
  key: z.string().min(1),
  threadId: z.string().min(1),
  harness: z.literal('codex'),
  model: z.string().min(1).nullable(),
  cwd: z.string().min(1),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Binding = z.infer<typeof BindingSchema>;

/** The file exists but cannot be used. The file is moved aside, never silently reused. */
export class BindingCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly movedTo: string | undefined,
  ) {
    super(`binding file ${file} is unusable: ${detail}`);
    this.name = 'BindingCorruptError';
  }
}

export interface BindingStore {
  /** The binding of `key`, undefined when there is none; BindingCorruptError when unusable. */
  load(key: string): Promise<Binding | undefined>;
  save(binding: Binding): Promise<void>;
  remove(key: string): Promise<void>;
}

/** File name of a key: readable prefix + hash (keys may hold any character). */
export function bindingFileName(key: string): string {
  const slug = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${slug}-${hash}.json`;
}

export class FileBindingStore implements BindingStore {
  constructor(readonly dir: string) {}

  fileOf(key: string): string {
    return path.join(this.dir, bindingFileName(key));
  }

  async load(key: string): Promise<Binding | undefined> {
    const file = this.fileOf(key);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const problem = checkBinding(text, key);
    if (typeof problem !== 'string') return problem;
    const movedTo = `${file}.corrupt-${Date.now()}`;
    let moved: string | undefined = movedTo;
    try {
      await fs.rename(file, movedTo);
    } catch {
      moved = undefined;
    }
    throw new BindingCorruptError(file, problem, moved);
  }

  async save(binding: Binding): Promise<void> {
    const checked = BindingSchema.parse(binding);
    await fs.mkdir(this.dir, { recursive: true });
    const file = this.fileOf(binding.key);
    const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    const fh = await fs.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(checked, null, 2)}\n`, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await syncDir(this.dir);
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.fileOf(key), { force: true });
    await syncDir(this.dir);
  }
}

/** The binding, or what is wrong with the text. */
export function checkBinding(text: string, key: string): Binding | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version !== 'number') return 'no schemaVersion';
  if (version > BINDING_SCHEMA_VERSION) {
    return `schemaVersion ${version} is newer than this Switchboard understands (${BINDING_SCHEMA_VERSION})`;
  }
  const r = BindingSchema.safeParse(value);
  if (!r.success) {
    return r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
  }
  if (r.data.key !== key) return `it belongs to conversation "${r.data.key}", not "${key}"`;
  return r.data;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* not supported everywhere; the rename is still atomic */
  }
}

/** In-memory store for tests and ephemeral hosts. */
export class MemoryBindingStore implements BindingStore {
  readonly data = new Map<string, Binding>();
  async load(key: string): Promise<Binding | undefined> {
    return this.data.get(key);
  }
  async save(binding: Binding): Promise<void> {
    this.data.set(binding.key, BindingSchema.parse(binding));
  }
  async remove(key: string): Promise<void> {
    this.data.delete(key);
  }
}
