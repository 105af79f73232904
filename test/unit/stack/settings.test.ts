// One composition root: a scenario and production get the same effective settings and the
// same rule for who may decide (the persisted first poster), from the same code.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { CONNECTION_MACHINE_FIELDS, stackSettingsFromConfig } from '../../../src/stack/settings.js';
import { stackSettingsFromScenario } from '../../../src/simulate/scenario-stack.js';
import { SimAccess } from '../../../src/simulate/sim-access.js';
import { parseScenario } from '../../../src/simulate/scenario.js';
import { createLogger } from '../../../src/log/logger.js';

const log = createLogger({ level: 'silent' });
const scenario = (config: Record<string, unknown>) => parseScenario({ name: 'x', config, steps: [{ delay: 0 }] });

describe('stack settings', () => {
  it('every retry/backoff field of a scenario reaches the connection machine (record mode dropped three)', () => {
    const connection = { minVersion: '0.1.0', versionPolicy: 'warn', handshakeTimeoutMs: 11, stopTimeoutMs: 12, backoffBaseMs: 13, backoffMaxMs: 14, jitter: 0.5, maxFailures: 3, failureWindowMs: 15, degradedBackoffBaseMs: 16, degradedBackoffMaxMs: 17 };
    const s = stackSettingsFromScenario(scenario({ connection }).config);
    expect(s.connection.machine).toEqual(connection);
    expect(Object.keys(s.connection.machine).sort()).toEqual([...CONNECTION_MACHINE_FIELDS].sort());
  });

  it('production and a scenario with the same settings give the same connection machine config and approval reviewer', () => {
    const prod = stackSettingsFromConfig(loadConfig({ env: {}, file: false, flags: { appServer: { minVersion: '0.2.0', versionPolicy: 'warn' } } }).config, '0.1.0');
    const sim = stackSettingsFromScenario(scenario({ connection: { minVersion: '0.2.0', versionPolicy: 'warn' } }).config);
    // Scenarios default jitter to 0 (deterministic runs); everything else is what production sets.
    const { jitter, ...simMachine } = sim.connection.machine;
    expect(jitter).toBe(0);
    expect(simMachine).toEqual(prod.connection.machine);
    expect(sim.approvals.reviewer).toBe(prod.approvals.reviewer);
  });

  it('who may decide: the persisted first poster, never a later poster; a configured owner is a persisted one', async () => {
    const a = new SimAccess(log);
    await a.access.claim('room/general/main', { id: 'u1' });
    await a.access.claim('room/general/main', { id: 'u2' });
    expect(a.ownerOf('room/general/main')).toBe('u1');
    const b = new SimAccess(log);
    await b.seed('room/general/main', 'boss');
    await b.access.claim('room/general/main', { id: 'u1' });
    expect(b.ownerOf('room/general/main')).toBe('boss');
  });
});
