// The Codex account check. With no login and no API key (and a model provider that needs
// OpenAI auth) every turn would loop "Reconnecting… n/5" inside Codex before failing, so the
// harness asks `account/read` at start (a warning for the log and the CLI) and, while it found
// none, again before each message: a message that cannot run gets a clear notice instead.
//
// The rule, from what Codex 0.169.0 answers: a login or a stored API key shows as `account`;
// a custom model provider with its own key (or none needed, like the scripted model) answers
// `requiresOpenaiAuth: false`. `OPENAI_API_KEY` in the app-server's environment is not used by
// it (its requests go out without credentials), so it does not count.
import { z } from 'zod';
import type { Logger } from 'pino';

const AccountReadSchema = z.looseObject({
  account: z.looseObject({ type: z.string().max(64) }).nullable().optional(),
  requiresOpenaiAuth: z.boolean().optional(),
});

export const NO_ACCOUNT =
  'Codex has no login and no API key: run `codex login` (or `codex login --with-api-key`) with the same CODEX_HOME, or configure a model provider with its own key';

export type AccountVerdict =
  | { state: 'ok'; account: string }
  | { state: 'missing'; problem: string }
  /** Not answered, or not in a shape we know: no verdict (never a false warning). */
  | { state: 'unknown'; why: string };

export function accountVerdict(raw: unknown): AccountVerdict {
  const r = AccountReadSchema.safeParse(raw);
  if (!r.success) return { state: 'unknown', why: 'account/read answered in an unknown shape' };
  if (r.data.account) return { state: 'ok', account: r.data.account.type };
  if (r.data.requiresOpenaiAuth === false) return { state: 'ok', account: 'model provider' };
  if (r.data.requiresOpenaiAuth === true) return { state: 'missing', problem: NO_ACCOUNT };
  return { state: 'unknown', why: 'account/read did not say whether OpenAI auth is required' };
}

export class AccountGate {
  private problem: string | undefined;

  constructor(
    /** `account/read` on the harness's connection. */
    private readonly read: () => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  /** Why messages cannot run now, if the last check found no account. */
  get warning(): string | undefined {
    return this.problem;
  }

  /** Ask Codex; a failed request leaves the last verdict as it was. */
  async check(): Promise<AccountVerdict> {
    let verdict: AccountVerdict;
    try {
      verdict = accountVerdict(await this.read());
    } catch (err) {
      verdict = { state: 'unknown', why: `account/read failed: ${(err as Error).message}` };
    }
    if (verdict.state === 'missing') {
      if (this.problem === undefined) this.log.warn({ problem: verdict.problem }, 'Codex account check: no login and no API key');
      this.problem = verdict.problem;
    } else if (verdict.state === 'ok') {
      if (this.problem !== undefined) this.log.info({ account: verdict.account }, 'Codex account check: an account is configured now');
      this.problem = undefined;
    } else {
      this.log.info({ why: verdict.why }, 'Codex account check: no verdict');
    }
    return verdict;
  }

  /** Before a message: undefined when it may run, else why not (checked again: a login may have happened since). */
  async admit(): Promise<string | undefined> {
    if (this.problem === undefined) return undefined;
    await this.check();
    return this.problem;
  }
}
