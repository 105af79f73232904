// Session owners and thread rooms for the memory store kinds (`none`, `codex`): they outlive a
// restart in one small JSON file beside the bindings, because the bindings do (a conversation
// that resumes after a restart must keep its owner, or the next poster would become it).
// Written atomically: temp file + fsync + rename.
import { randomUUID } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SessionOwner, ThreadRoom } from './types.js';

const MetaSchema = z.object({
  schemaVersion: z.literal(1),
  owners: z.array(z.object({ session: z.string(), owner: z.string(), name: z.string().optional(), at: z.number() })),
  threads: z.array(z.object({ threadId: z.string(), room: z.string(), session: z.string(), at: z.number() })),
});

export interface SessionMeta {
  owners: Map<string, SessionOwner>;
  threads: Map<string, ThreadRoom>;
}

/** Reads the file; a missing file is empty, an unreadable one is an error naming it. */
export function loadMeta(file: string): SessionMeta {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { owners: new Map(), threads: new Map() };
    throw new Error(`session metadata ${file} cannot be read: ${(err as Error).message}`);
  }
  let parsed: z.infer<typeof MetaSchema>;
  try {
    parsed = MetaSchema.parse(JSON.parse(text));
  } catch (err) {
    // Fail closed: guessing would hand conversations to whoever posts next.
    throw new Error(`session metadata ${file} is corrupt (${(err as Error).message.slice(0, 200)}); move it aside to start without owners`);
  }
  return {
    owners: new Map(parsed.owners.map((o) => [o.session, o])),
    threads: new Map(parsed.threads.map((t) => [t.threadId, t])),
  };
}

export async function saveMeta(file: string, meta: SessionMeta): Promise<void> {
  const body = { schemaVersion: 1, owners: [...meta.owners.values()], threads: [...meta.threads.values()] };
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(body)}\n`, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}
