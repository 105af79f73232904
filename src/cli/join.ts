// `switchboard join`: an agent in a room, as a long-running service. Without --url it
// starts the embedded room server; with --url it joins a running one as its agent.
import { loadConfig, ConfigError } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { RoomServer } from '../room/server.js';
import { AgentClient } from '../room/agent-client.js';
import type { Output } from './output.js';
import type { InspectionEvent } from 'xstate';
import { untilSignal } from './run-until-signal.js';

export interface JoinOptions {
  room: string;
  agentName: string;
  channel: string;
  backend: string;
  model?: string[];
  mode?: 'yolo' | 'guardian';
  cwd?: string;
  url?: string;
  token?: string;
  port?: number;
  host?: string;
  config?: string;
  /** Resolves to stop (tests); default: SIGINT/SIGTERM. */
  until?: Promise<unknown>;
  onReady?: (info: { url: string }) => void;
  inspect?: (ev: InspectionEvent) => void;
}

export async function join(o: JoinOptions, out: Output): Promise<number> {
  if (o.backend !== 'codex') {
    out.error(`backend "${o.backend}" is not available: this Switchboard runs the "codex" backend`);
    return 2;
  }
  const models = o.model ?? [];
  let sb: Supervisor;
  try {
    const loaded = loadConfig({
      file: o.config,
      env: process.env,
      flags: {
        ...(o.mode ? { appServer: { mode: o.mode } } : {}),
        agents: {
          defaults: { ...(o.cwd ? { cwd: o.cwd } : {}) },
          list: [{ id: o.agentName, default: true, ...(models[0] ? { model: models[0] } : {}), ...(models.length > 1 ? { models } : {}) }],
        },
      },
    });
    sb = new Supervisor(loaded, { log: createLogger({ level: loaded.config.log.level }), inspect: o.inspect });
  } catch (err) {
    out.error(err instanceof ConfigError ? err.message : `invalid options: ${(err as Error).message}`);
    return 2;
  }
  const spin = out.progress('starting codex app-server');
  try {
    await sb.start();
  } catch (err) {
    spin.done();
    out.error((err as Error).message);
    await sb.stop();
    return 1;
  }
  spin.done();
  let room: RoomServer | undefined;
  let agent: AgentClient | undefined;
  try {
    if (o.url) {
      agent = new AgentClient(sb, { url: o.url, room: o.room, agentName: o.agentName, token: o.token, log: sb.log });
      await agent.connect();
      out.line(`agent ${o.agentName} joined room ${o.room} at ${o.url} (channel ${o.channel})`);
      o.onReady?.({ url: o.url });
    } else {
      room = new RoomServer({ backend: sb, host: o.host, port: o.port, tokens: o.token ? { [o.room]: o.token } : undefined, log: sb.log });
      const url = await room.start();
      out.line(`agent ${o.agentName} is serving room ${o.room} at ${url} (channel ${o.channel}); stop with Ctrl-C`);
      o.onReady?.({ url });
    }
    const sig = await (o.until ?? untilSignal());
    if (typeof sig === 'string') out.line(`${sig}: stopping`);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: number };
    out.error(e.message);
    return e.code === 4401 ? 3 : 1;
  } finally {
    agent?.close();
    await room?.stop();
    await sb.stop();
  }
}
