// The app-server's own reason for dying, read from its stderr (untrusted text).
import { describe, expect, it } from 'vitest';
import { appServerReason, isFatalStartupReason } from '../../../src/transport/stderr-reason.js';

// What `CODEX_HOME=/nonexistent codex app-server` writes (0.169.0): a warning, the error, a backtrace.
const MISSING_HOME = [
  'WARNING: proceeding, even though we could not create PATH aliases: CODEX_HOME points to "/nonexistent", but that path does not exist',
  'Error: CODEX_HOME points to "/nonexistent", but that path does not exist',
  '',
  'Stack backtrace:',
  '   0: <unknown>',
  '   1: <unknown>',
].join('\n');

describe('the app-server reason on stderr', () => {
  it('is the Error: line, not the warning or the backtrace', () => {
    expect(appServerReason(MISSING_HOME)).toBe('CODEX_HOME points to "/nonexistent", but that path does not exist');
    expect(isFatalStartupReason(appServerReason(MISSING_HOME)!)).toBe(true);
  });

  it('strips colour and control characters and bounds the length', () => {
    expect(appServerReason('\x1b[31mError:\x1b[0m config \x07broken\r\n')).toBe('config broken');
    expect(appServerReason(`Error: ${'x'.repeat(1000)}`)).toHaveLength(301);
  });

  it('is undefined without an Error: line; other errors are not fatal', () => {
    expect(appServerReason(undefined)).toBeUndefined();
    expect(appServerReason('\x1b[2m2026\x1b[0m \x1b[31mERROR\x1b[0m codex_app_server: Codex could not find bubblewrap on PATH')).toBeUndefined();
    expect(isFatalStartupReason('address already in use')).toBe(false);
  });
});
