// `switchboard join`: an agent in a room, as a long-running service. Without --url it
// starts the embedded room server (signed credentials; it mints the owner's); with --url it
// joins a running one as the room's agent, with an agent credential, and reconnects.
import { listenProblem } from './options.js';
import path from 'node:path';
import { userInfo } from 'node:os';
import { loadConfig, ConfigError } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { RoomServer } from '../room/server.js';
import { AgentClient } from '../room/agent-client.js';
import { createRoomAuth } from '../auth/token.js';
import { loadRoomSecret, SecretError, writePrivateFile } from '../auth/secret.js';
import { isParticipantId } from '../auth/names.js';
import { readToken, TokenSourceError } from '../auth/token-source.js';
import { resolveStateDir } from '../config/state-dir.js';
import { prepareStateDir, StateDirError } from '../config/state-paths.js';
import type { Output } from './output.js';
import type { InspectionEvent } from 'xstate';
import { untilSignal } from './run-until-signal.js';
import { InspectorFeed } from '../web/inspector-feed.js';
import { pageLink } from '../web/link.js';
import { hostEndpoints } from '../web/service.js';
import { startTryIt } from '../scripted-model/try-it.js';
import { backendConfig, backendSettings, type BackendSettings } from './backends.js';
import { UsageProblem } from './options.js';

export interface JoinOptions {
  room: string;
  agentName: string;
  channel: string;
  /** `llm` / `codex`: adds that backend's default models (repeatable). */
  backend?: string[];
  model?: string[];
  /** `dataset`, `codex` or `none` (storage.kind). */
  threadStorage?: string;
  mode?: 'yolo' | 'guardian' | 'policy';
  cwd?: string;
  url?: string;
  /** --url: the agent credential (prefer tokenFile or SWITCHBOARD_ROOM_TOKEN(_FILE)). */
  token?: string;
  tokenFile?: string;
  /** Embedded room in shared-token mode (loopback demos only). */
  sharedToken?: string;
  /** Participant id of the owner credential the embedded room mints (default: $USER). */
  ownerId?: string;
  stateDir?: string;
  /** --storage: the thread storage (a postgres URL for several nodes). */
  storage?: { kind: 'dataset' | 'none' | 'codex' } | { kind: 'postgres'; url: string };
  /** --url: stop reconnecting after this long offline (ms). */
  giveUpAfterMs?: number;
  port?: number;
  host?: string;
  config?: string;
  /** Resolves to stop (tests); default: SIGINT/SIGTERM. */
  until?: Promise<unknown>;
  onReady?: (info: { url: string }) => void;
  inspect?: (ev: InspectionEvent) => void;
  /** Print the page link with the owner credential even when stdout is not a terminal. */
  printLink?: boolean;
  /** Default: process.stdout.isTTY (a service's log never gets the credential). */
  isTTY?: boolean;
  /** Run with the built-in offline scripted model (no account), for trying Switchboard out. */
  scripted?: boolean;
}

/** --scripted: its own Codex home; commands ask for approval (unless a --mode says otherwise), so a new user sees one. */
function scriptedAppServer(env: Record<string, string>, mode: string | undefined): Record<string, unknown> {
  return { env, ...(mode ? {} : { approvalPolicy: 'on-request', sandbox: 'workspace-write' }) };
}

function defaultOwnerId(): string {
  let user = process.env.USER ?? '';
  try {
    user ||= userInfo().username;
  } catch {
    // no passwd entry (containers): fall through
  }
  const id = user.replace(/[^A-Za-z0-9._@+-]/g, '').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
  return id || 'owner';
}

export async function join(o: JoinOptions, out: Output): Promise<number> {
  let backends: BackendSettings;
  try {
    backends = backendSettings(o);
  } catch (err) {
    if (!(err instanceof UsageProblem)) throw err;
    out.error(err.message);
    return 2;
  }
  if (o.storage && o.threadStorage) {
    out.error('--thread-storage and --storage both set the thread storage: give one');
    return 2;
  }
  const env = process.env;
  let agentToken: string | undefined;
  try {
    const given = readToken({ token: o.token, tokenFile: o.tokenFile, env: o.url ? env : {} });
    if (o.url) {
      if (!given) {
        out.error('--url needs an agent credential: --token-file FILE or SWITCHBOARD_ROOM_TOKEN_FILE / SWITCHBOARD_ROOM_TOKEN (mint one with `switchboard token --room R --id bot --role agent`)');
        return 2;
      }
      agentToken = given.token;
    } else if (given) {
      out.error(`${given.from} is for --url (the agent's credential); the embedded room mints its own owner credential. For the shared-token demo mode use --shared-token (loopback only)`);
      return 2;
    }
  } catch (err) {
    if (err instanceof TokenSourceError) {
      out.error(err.message);
      return 2;
    }
    throw err;
  }
  const ownerId = o.ownerId ?? defaultOwnerId();
  if (!isParticipantId(ownerId)) {
    out.error(`--owner-id "${String(ownerId).slice(0, 80)}": use letters, digits, ".", "_", "@", "+" or "-"`);
    return 2;
  }
  const stateDir = resolveStateDir({ flag: o.stateDir, env });
  let auth: ReturnType<typeof createRoomAuth> | undefined;
  if (!o.url && o.sharedToken === undefined) {
    try {
      auth = createRoomAuth({ secret: loadRoomSecret({ stateDir, env }).secret });
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      out.error(err.message);
      return 2;
    }
  }

  const flagged = backendConfig(backends, o.agentName);
  // The embedded room's inspector watches every actor (cheap while nobody subscribes).
  const feed = o.url ? undefined : new InspectorFeed();
  const inspect = feed && o.inspect ? (ev: InspectionEvent) => (o.inspect!(ev), feed.inspect(ev)) : (feed?.inspect ?? o.inspect);
  let sb: Supervisor;
  let loaded: ReturnType<typeof loadConfig>;
  // --scripted: the offline scripted model in a Codex home of its own (no account needed).
  const scripted = o.scripted ? await startTryIt() : undefined;
  try {
    loaded = loadConfig({
      file: o.config,
      env,
      flags: {
        ...(o.mode || scripted ? { appServer: { ...(o.mode ? { mode: o.mode } : {}), ...(scripted ? scriptedAppServer(scripted.env, o.mode) : {}) } } : {}),
        ...(scripted && !o.mode ? { approvals: { reviewer: 'user' } } : {}),
        ...flagged.top,
        ...(o.storage ? { storage: o.storage } : {}),
        agents: {
          defaults: { ...(o.cwd ? { cwd: o.cwd } : {}) },
          list: [flagged.agent],
        },
      },
    });
    sb = new Supervisor(loaded, { log: createLogger({ level: loaded.config.log.level }), inspect, stateDir });
    // Before the app-server starts: a state directory that cannot be used is a usage error.
    prepareStateDir(sb.statePaths);
  } catch (err) {
    await scripted?.close();
    out.error(err instanceof ConfigError || err instanceof StateDirError ? err.message : `invalid options: ${(err as Error).message}`);
    return 2;
  }
  const spin = out.progress('starting codex app-server');
  try {
    await sb.start();
  } catch (err) {
    spin.done();
    out.error((err as Error).message);
    await sb.stop();
    await scripted?.close();
    return 1;
  }
  spin.done();
  for (const w of sb.startupWarnings) out.error(`warning: ${w}`);
  const placing = feed?.watch(sb.events$);
  let room: RoomServer | undefined;
  let service: ReturnType<typeof hostEndpoints> | undefined;
  let agent: AgentClient | undefined;
  try {
    let gaveUp: Promise<Error> = new Promise(() => undefined);
    if (o.url) {
      agent = new AgentClient(sb, { url: o.url, room: o.room, token: agentToken!, log: sb.log, ...(o.giveUpAfterMs ? { giveUpAfterMs: o.giveUpAfterMs } : {}) });
      await agent.connect();
      gaveUp = agent.done;
      out.line(`agent ${o.agentName} joined room ${o.room} at ${o.url} (channel ${o.channel})`);
      o.onReady?.({ url: o.url });
    } else {
      const cfg = loaded.config.room;
      service = hostEndpoints(sb, () => room?.stats().connections ?? 0, { log: sb.log, env });
      room = new RoomServer({
        backend: sb,
        host: o.host,
        port: o.port,
        ...(auth ? { mode: 'signed' as const, auth } : { mode: 'shared' as const, tokens: { [o.room]: o.sharedToken! } }),
        ...(cfg.allowedOrigins ? { allowedOrigins: cfg.allowedOrigins } : {}),
        limits: cfg.limits,
        log: sb.log,
        ...(feed ? { inspector: feed } : {}),
        ...(isParticipantId(o.agentName) ? { agent: { id: o.agentName } } : {}),
        web: service.handler,
      });
      let url: string;
      try {
        url = await room.start();
      } catch (err) {
        out.error(listenProblem(err, o.host, o.port));
        return 2;
      }
      // The owner's files are written before the serving line: whoever waits for that line may read them.
      const file = path.join(stateDir, 'rooms', `${o.room}.owner.token`);
      const linkFile = path.join(stateDir, 'rooms', `${o.room}.owner.link`);
      const credential = auth ? await auth.mint({ room: o.room, id: ownerId, name: ownerId, role: 'owner' }) : undefined;
      const link = credential === undefined ? undefined : pageLink(room.httpUrl!, credential);
      if (credential !== undefined && link !== undefined) {
        writePrivateFile(file, `${credential}\n`);
        writePrivateFile(linkFile, `${link}\n`);
      }
      out.line(`agent ${o.agentName} is serving room ${o.room} at ${url} (channel ${o.channel}); stop with Ctrl-C`);
      if (scripted) out.line('offline scripted model: canned answers, no account needed; ask it to run a command in backticks to see an approval');
      if (link !== undefined) {
        out.line(`owner credential for ${ownerId} (valid 7 days): ${file}`);
        out.line(`connect: switchboard chat --url ${url} --token-file ${file}`);
        // The link carries the credential: printed on a terminal (or when asked), else only
        // written beside the token, so a service's captured stdout never holds it.
        if (o.printLink || (o.isTTY ?? process.stdout.isTTY === true)) out.line(`open in a browser: ${link}`);
        else out.line(`open in a browser: ${room.httpUrl}/ (the link with your credential: ${linkFile})`);
      } else {
        out.line('shared-token mode: anyone with the token can claim any name and role (loopback demos only)');
      }
      o.onReady?.({ url });
    }
    const stop = await Promise.race([(o.until ?? untilSignal()).then((sig) => ({ sig })), gaveUp.then((err) => ({ err }))]);
    if ('err' in stop) {
      out.error(stop.err.message);
      return 1;
    }
    if (typeof stop.sig === 'string') out.line(`${stop.sig}: stopping`);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: number };
    out.error(e.message);
    return e.code === 4401 || e.code === 4403 ? 3 : 1;
  } finally {
    agent?.close();
    await room?.stop();
    placing?.unsubscribe();
    feed?.close();
    service?.metrics.dispose();
    await sb.stop();
    await scripted?.close();
  }
}
