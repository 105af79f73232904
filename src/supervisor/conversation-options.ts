// Per-conversation options a person sets with a command and that outlive a restart: the
// reasoning effort of its turns (`/effort`) and its token budget (`/budget`, with the tokens
// spent against it). One small JSON file in the state directory, validated on load and written
// atomically (temp file + fsync + rename), one write at a time.
import { randomUUID } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from 'pino';

/** The efforts `/effort` offers (Codex's `ReasoningEffort` is a string the model advertises). */
export const EFFORTS = ['low', 'medium', 'high'] as const;
export type Effort = (typeof EFFORTS)[number];

/** Tokens a budget may be set to, at most (a typo such as `/budget 2000000m` is refused). */
export const MAX_BUDGET = 1_000_000_000_000;

const tokens = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const BudgetSchema = z.object({ limit: tokens.min(1).max(MAX_BUDGET), spent: tokens });
export type Budget = z.infer<typeof BudgetSchema>;

const EntrySchema = z.object({ effort: z.enum(EFFORTS).optional(), budget: BudgetSchema.optional() });
type Entry = z.infer<typeof EntrySchema>;

const FileSchema = z.object({
  schemaVersion: z.literal(1),
  conversations: z.record(z.string().min(1).max(1024), EntrySchema),
});

export class ConversationOptions {
  private readonly entries = new Map<string, Entry>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** Read the file (missing: no options). A corrupt file is an error naming it: a budget must not silently vanish. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`conversation options ${this.file} cannot be read: ${(err as Error).message}`);
    }
    let parsed: z.infer<typeof FileSchema>;
    try {
      parsed = FileSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new Error(`conversation options ${this.file} are corrupt (${(err as Error).message.slice(0, 200)}); move the file aside to start without them`);
    }
    this.entries.clear();
    for (const [session, entry] of Object.entries(parsed.conversations)) this.entries.set(session, entry);
  }

  effortOf(session: string): Effort | undefined {
    return this.entries.get(session)?.effort;
  }

  budgetOf(session: string): Readonly<Budget> | undefined {
    return this.entries.get(session)?.budget;
  }

  /** The budget is spent: new turns are refused. */
  exhausted(session: string): boolean {
    const b = this.budgetOf(session);
    return b !== undefined && b.spent >= b.limit;
  }

  setEffort(session: string, effort: Effort | undefined): Promise<void> {
    return this.update(session, (e) => ({ ...e, effort }));
  }

  /** A new limit keeps what was spent (raising it frees the difference); `undefined` removes the budget. */
  setBudget(session: string, limit: number | undefined): Promise<void> {
    return this.update(session, (e) => ({ ...e, budget: limit === undefined ? undefined : { limit, spent: e.budget?.spent ?? 0 } }));
  }

  /** A `/fork` goes on under its source's effort and budget (limit and what was spent): a fork is no way around the cap. */
  inherit(from: string, to: string): Promise<void> {
    const source = this.entries.get(from);
    return source ? this.update(to, () => ({ ...source })) : Promise.resolve();
  }

  /** Count a turn's tokens against the budget (none: nothing counted). True when this spend used it up. */
  async spend(session: string, used: number): Promise<boolean> {
    const before = this.budgetOf(session);
    if (!before || used <= 0) return false;
    const written = this.update(session, (e) => (e.budget ? { ...e, budget: { ...e.budget, spent: Math.min(Number.MAX_SAFE_INTEGER, e.budget.spent + used) } } : e));
    const crossed = before.spent < before.limit && this.exhausted(session);
    await written;
    return crossed;
  }

  private update(session: string, change: (e: Entry) => Entry): Promise<void> {
    const next = change(this.entries.get(session) ?? {});
    const clean: Entry = {
      ...(next.effort !== undefined ? { effort: next.effort } : {}),
      ...(next.budget !== undefined ? { budget: next.budget } : {}),
    };
    if (Object.keys(clean).length) this.entries.set(session, clean);
    else this.entries.delete(session);
    const body = { schemaVersion: 1, conversations: Object.fromEntries(this.entries) };
    this.writing = this.writing.then(() => writeAtomic(this.file, `${JSON.stringify(body)}\n`)).catch((err: unknown) => {
      this.log.error({ err, file: this.file }, 'writing conversation options failed');
    });
    return this.writing;
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

/**
 * A token amount as people write it: `200k`, `1.5m`, `500000`, `2_000`, `1,000,000`.
 * Returns the whole number of tokens, or why the text is not one.
 */
export function parseTokenAmount(text: string): { ok: true; tokens: number } | { ok: false; reason: string } {
  const t = text.trim().toLowerCase().replace(/[_,]/g, '');
  const m = /^(\d{1,15}(?:\.\d{1,6})?)\s*([km]?)$/.exec(t);
  if (!m) return { ok: false, reason: `"${text.slice(0, 40)}" is not a token amount (e.g. 200k, 1.5m, 50000)` };
  const n = Math.round(Number(m[1]) * (m[2] === 'k' ? 1_000 : m[2] === 'm' ? 1_000_000 : 1));
  if (!Number.isSafeInteger(n) || n < 1) return { ok: false, reason: 'a budget must be at least 1 token' };
  if (n > MAX_BUDGET) return { ok: false, reason: `a budget may be at most ${MAX_BUDGET.toLocaleString('en-US')} tokens` };
  return { ok: true, tokens: n };
}

/** `200,000` → "200k", `1,500,000` → "1.5m": how budgets are shown. */
export function tokenAmountText(n: number): string {
  if (n >= 1_000_000 && n % 10_000 === 0) return `${n / 1_000_000}m`;
  if (n >= 1_000 && n % 100 === 0) return `${n / 1_000}k`;
  return n.toLocaleString('en-US');
}
