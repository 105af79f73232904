// The account rule, on what Codex 0.169.0 answers to `account/read` (measured in isolated
// CODEX_HOMEs: no auth; the scripted-model sandbox; a custom provider with env_key; a stored
// API key; a custom provider with requires_openai_auth).
import { describe, expect, it } from 'vitest';
import { accountVerdict, AccountGate, NO_ACCOUNT } from '../../../src/supervisor/account-gate.js';
import { memoryLogger } from '../../support/log.js';

describe('the Codex account rule', () => {
  it('no login and no API key, with the OpenAI provider: missing', () => {
    expect(accountVerdict({ account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null })).toEqual({ state: 'missing', problem: NO_ACCOUNT });
  });

  it('a model provider with its own key (or none needed, like the scripted model): fine', () => {
    expect(accountVerdict({ account: null, userId: null, requiresOpenaiAuth: false, workspaceRouting: null })).toEqual({ state: 'ok', account: 'model provider' });
  });

  it('a stored API key or a ChatGPT login: fine', () => {
    expect(accountVerdict({ account: { type: 'apiKey' }, requiresOpenaiAuth: true })).toEqual({ state: 'ok', account: 'apiKey' });
    expect(accountVerdict({ account: { type: 'chatgpt', email: 'a@b.c', planType: 'plus' }, requiresOpenaiAuth: true })).toEqual({ state: 'ok', account: 'chatgpt' });
  });

  it('an answer it does not understand is no verdict, never a false warning', () => {
    expect(accountVerdict('nope').state).toBe('unknown');
    expect(accountVerdict({ account: null }).state).toBe('unknown');
    expect(accountVerdict({ account: { type: 'x'.repeat(65) }, requiresOpenaiAuth: true }).state).toBe('unknown');
  });
});

describe('the account gate', () => {
  it('warns once at start, admits nothing while missing, and opens when a login appears', async () => {
    const { log, records } = memoryLogger();
    let answer: unknown = { account: null, requiresOpenaiAuth: true };
    let reads = 0;
    const gate = new AccountGate(async () => (reads++, answer), log);
    expect(await gate.admit()).toBeUndefined();
    expect(reads).toBe(0);
    await gate.check();
    expect(gate.warning).toBe(NO_ACCOUNT);
    expect(await gate.admit()).toBe(NO_ACCOUNT);
    expect(records().filter((r) => r.msg === 'Codex account check: no login and no API key')).toHaveLength(1);
    answer = { account: { type: 'chatgpt' }, requiresOpenaiAuth: true };
    expect(await gate.admit()).toBeUndefined();
    expect(gate.warning).toBeUndefined();
    expect(reads).toBe(3);
  });

  it('a failed account/read keeps the last verdict', async () => {
    const { log } = memoryLogger();
    let fail = false;
    const gate = new AccountGate(async () => {
      if (fail) throw new Error('the app-server is unavailable');
      return { account: null, requiresOpenaiAuth: true };
    }, log);
    await gate.check();
    fail = true;
    expect(await gate.check()).toMatchObject({ state: 'unknown', why: 'account/read failed: the app-server is unavailable' });
    expect(gate.warning).toBe(NO_ACCOUNT);
  });
});
