import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactValue } from '../../../src/log/redact.js';
import { memoryLogger } from '../../support/log.js';

describe('redaction', () => {
  it('scrubs bearer tokens, authorization headers and API keys from text', () => {
    expect(redactText('Authorization: Bearer abc.def-123')).not.toMatch(/abc\.def/);
    expect(redactText('key sk-proj-ABCDEFGHIJKLMN here')).toBe(`key ${REDACTED} here`);
    expect(redactText('url?token=s3cr3t&x=1')).toBe(`url?token=${REDACTED}&x=1`);
  });

  it('censors secret keys deeply, keeps the rest', () => {
    const out = redactValue({ authToken: 'tok', headers: { 'X-Agent': 'a' }, nested: { apiKey: 'k', ok: 1 }, list: ['Bearer zzz'] });
    expect(out).toEqual({ authToken: REDACTED, headers: REDACTED, nested: { apiKey: REDACTED, ok: 1 }, list: [`Bearer ${REDACTED}`] });
  });

  it('keeps secrets out of log lines', () => {
    const { log, lines } = memoryLogger();
    log.info({ authToken: 'supersecret1', cfg: { url: 'ws://x', headers: { Authorization: 'Bearer supersecret2' } } }, 'connecting with Bearer supersecret3');
    log.error(new Error('failed: Authorization: Bearer supersecret4'));
    const text = lines().join('\n');
    expect(text).toContain('connecting with');
    expect(text).not.toMatch(/supersecret/);
  });
});
