// Log format: readable on a terminal, JSON otherwise; the environment and the option override.
import { describe, expect, it } from 'vitest';
import { logFormat } from '../../../src/log/logger.js';

describe('log format', () => {
  it('is pretty on a terminal and JSON when piped, unless told', () => {
    expect(logFormat(undefined, {}, true)).toBe('pretty');
    expect(logFormat(undefined, {}, false)).toBe('json');
    expect(logFormat(undefined, { SWITCHBOARD_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat(undefined, { SWITCHBOARD_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(logFormat('json', { SWITCHBOARD_LOG_FORMAT: 'pretty' }, true)).toBe('json');
    expect(logFormat(undefined, { SWITCHBOARD_LOG_FORMAT: 'weird' }, false)).toBe('json');
  });
});
