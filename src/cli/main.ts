// The `switchboard` command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or
// configuration error, 3 refused by the room (authentication).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { probe } from './probe.js';
import { demo } from './demo.js';
import { join } from './join.js';
import { serve } from './serve.js';
import { tokenCommand } from './token.js';
import { models, status } from './info.js';
import { chatCommand } from './chat.js';
import { visualize } from './visualize.js';
import { deploy } from './deploy.js';
import { LOG_LEVELS } from '../log/logger.js';
import { simulateCommand } from '../simulate/cli.js';
import { createTracer, type Tracer } from '../trace/index.js';
import { terminalOutput } from './output.js';
import { checkBindable, checkDirectory, checkLogLevel, checkName, parseDuration, parsePort, parseStorage, UsageProblem } from './options.js';
import { ConfigError } from '../config/load.js';
import { redactText } from '../log/redact.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
/** A validator as a commander argument parser: commander then names the flag in its error. */
const arg =
  <T>(check: (v: string) => T) =>
  (v: string): T => {
    try {
      return check(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
const int = arg((v) => parsePort(v));
const roomName = arg((v) => checkName(v, '--room'));
const directory = arg((v) => checkDirectory(v, '--cwd'));
const duration = (flag: string) => arg((v) => parseDuration(v, flag));
/** Before a server starts: an address it cannot bind is a usage error naming --host/--port. */
const bindable = async (cmd: Command) => {
  const o = cmd.opts<{ host?: string; port?: number; url?: string }>();
  if (!o.url) await checkBindable(o.host ?? '127.0.0.1', o.port);
};

function closeTracer(t: Tracer | undefined): void {
  if (!t) return;
  t.close();
  process.stderr.write(`trace: ${t.count} records in ${t.file}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const out = terminalOutput();
  let code = 0;
  const program = new Command('switchboard')
    .description('Run chat-host agent turns through the OpenAI Codex app-server')
    .exitOverride()
    .showHelpAfterError()
    .addOption(new Option('--log-level <level>', 'log level (or SWITCHBOARD_LOG_LEVEL; default info)').choices([...LOG_LEVELS]))
    .addOption(new Option('--log-format <format>', 'pretty (default on a terminal) or json (default otherwise); or SWITCHBOARD_LOG_FORMAT').choices(['pretty', 'json']));

  program
    .command('demo')
    .description('run the offline demo: embedded room, real codex app-server, scripted model, one approval, one patch')
    .option('--keep', 'keep the temporary workspace and print its path')
    .option('--timeout <duration>', 'give up after this long (e.g. 90s, 2m, or milliseconds)', duration('--timeout'), 120_000)
    .option('--trace <file>', 'write a JSON Lines trace of every actor (see `switchboard visualize --trace`)')
    .action(async (o: { keep?: boolean; timeout: number; trace?: string }) => {
      const tracer = o.trace ? createTracer(o.trace) : undefined;
      try {
        code = await demo({ keep: o.keep, timeoutMs: o.timeout, inspect: tracer }, out);
      } finally {
        closeTracer(tracer);
      }
    });

  program
    .command('join')
    .description('run an agent in a room until stopped (SIGINT/SIGTERM stop it gracefully)')
    .requiredOption('--room <room>', 'room to join', roomName)
    .requiredOption('--agent-name <name>', 'the agent participant’s name')
    .option('--channel <channel>', 'channel of the room', 'chat')
    .option('--backend <backend>', 'llm or codex: adds that backend\'s default models (repeatable; llm enables the llm backend)', collect)
    .option('--model <model>', 'a model the agent may use (repeatable; the first is the default): codex/NAME or openai/NAME is Codex, a plain NAME is the llm backend once it is enabled', collect)
    .addOption(new Option('--thread-storage <kind>', 'where conversation history lives: dataset (default), codex (Codex backends only) or none').choices(['dataset', 'codex', 'none']))
    .addOption(new Option('--mode <mode>', 'approval preset: yolo, guardian (Codex\'s reviewer subagent decides) or policy (Switchboard\'s rules)').choices(['yolo', 'guardian', 'policy']))
    .option('--cwd <dir>', 'workspace of the Codex threads (an existing directory)', directory)
    .option('--url <ws-url>', 'join a running room server instead of starting the embedded one')
    .option('--token-file <file>', 'with --url: file holding the agent credential (or SWITCHBOARD_ROOM_TOKEN_FILE / SWITCHBOARD_ROOM_TOKEN)')
    .option('--token <token>', 'with --url: the agent credential (visible in the process list: prefer --token-file or the environment)')
    .option('--shared-token <token>', 'embedded room in shared-token mode: clients claim their identity (loopback demos only)')
    .option('--owner-id <id>', 'participant id of the owner credential the embedded room mints (default: $USER)')
    .option('--state-dir <dir>', 'conversation state, room secret and minted credentials (default: $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard)')
    .option('--storage <kind|url>', 'thread storage: dataset, none, codex, or postgres://… (shared by several nodes; the URL is visible in the process list: prefer SWITCHBOARD_STORAGE_URL)')
    .option('--give-up-after <duration>', 'with --url: stop reconnecting after this long offline, then exit 1 (default 5m)', duration('--give-up-after'))
    .option('--port <port>', 'port of the embedded room server (default: any free port)', int)
    .option('--host <host>', 'address of the embedded room server', '127.0.0.1')
    .option('--config <file>', 'switchboard.config.json to use')
    .option('--trace <file>', 'write a JSON Lines trace of every actor')
    .option('--print-link', 'print the web room link with the owner credential even when stdout is not a terminal')
    .option('--scripted', 'try it offline: the built-in scripted model in an isolated Codex home (no account needed)')
    .hook('preAction', bindable)
    .action(async (o) => {
      const tracer = o.trace ? createTracer(o.trace) : undefined;
      try {
        const { giveUpAfter, storage, ...rest } = o as { giveUpAfter?: number; storage?: string } & Omit<Parameters<typeof join>[0], 'storage'>;
        // --storage is checked here, not by commander, whose error would echo the value (a password).
        const store = storage === undefined ? {} : { storage: parseStorage(storage) };
        code = await join({ ...rest, ...store, ...(giveUpAfter ? { giveUpAfterMs: giveUpAfter } : {}), inspect: tracer }, out);
      } finally {
        closeTracer(tracer);
      }
    });

  program
    .command('token')
    .description('mint a room credential with this machine’s room secret; printed on stdout only')
    .requiredOption('--room <room>', 'the room it is for')
    .requiredOption('--id <id>', 'the participant id')
    .requiredOption('--role <role>', 'owner, approver, member, observer or agent')
    .option('--name <name>', 'display name')
    .option('--ttl <duration>', 'lifetime: 90s, 30m, 12h, 7d (default 7d)')
    .option('--state-dir <dir>', 'where the room secret lives (or SWITCHBOARD_ROOM_SECRET / SWITCHBOARD_ROOM_SECRET_FILE)')
    .option('--link <base-url>', 'print the web room link (BASE_URL/#token=…) instead of the bare credential')
    .action(async (o) => {
      code = await tokenCommand(o, out);
    });

  const room = program.command('room').description('room server commands');
  room
    .command('serve')
    .description('run a standalone room server; agents join it with `switchboard join --url`')
    .option('--port <port>', 'port (default: any free port)', int)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--state-dir <dir>', 'where the room secret lives (default: $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard)')
    .option('--shared-token <room=token>', 'shared-token mode instead of signed credentials: clients claim their identity (repeatable; loopback demos only)', collect)
    .option('--allow-origin <origin>', 'a browser origin allowed to connect (repeatable; default: the server’s own)', collect)
    .hook('preAction', bindable)
    .action(async (o) => {
      code = await serve(o, out);
    });

  program
    .command('chat')
    .description('terminal client for a room: streamed answers, one line per tool event, approvals answered with a key')
    .option('--url <ws-url>', 'room server URL (or SWITCHBOARD_ROOM_URL)')
    .option('--token-file <file>', 'file holding your room credential (or SWITCHBOARD_ROOM_TOKEN_FILE / SWITCHBOARD_ROOM_TOKEN)')
    .option('--token <token>', 'room credential (visible in the process list: prefer --token-file or the environment)')
    .option('--room <room>', 'room to join (shared-token/open demo servers; a signed credential names its room)', roomName)
    .option('--name <name>', 'your display name (shared-token/open demo servers)')
    .option('--id <id>', 'your participant id (shared-token/open demo servers; default: $USER)')
    .option('--channel <channel>', 'channel to post in (default: chat)')
    .option('--thread <thread>', 'thread to post in (default: main)')
    .option('--give-up-after <duration>', 'stop reconnecting after this long offline, then exit 1 (default 5m)', duration('--give-up-after'))
    .action(async (o) => {
      const { giveUpAfter, ...rest } = o as { giveUpAfter?: number } & Parameters<typeof chatCommand>[0];
      code = await chatCommand({ ...rest, ...(giveUpAfter ? { giveUpAfterMs: giveUpAfter } : {}) });
    });

  program
    .command('status')
    .description('start the configured app-server, print the runtime status, stop')
    .option('--config <file>', 'switchboard.config.json to use')
    .option('--state-dir <dir>', 'conversation state (default: $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard)')
    .option('--json', 'print JSON')
    .action(async (o) => {
      code = await status(o, out);
    });

  program
    .command('models')
    .description('list the models /model accepts: the configured list, else the app-server\'s model/list, else the fallback list')
    .option('--config <file>', 'switchboard.config.json to use')
    .option('--state-dir <dir>', 'conversation state (default: $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard)')
    .option('--json', 'print JSON')
    .action(async (o) => {
      code = await models(o, out);
    });

  program
    .command('visualize')
    .description('print the machines as Mermaid diagrams (or write .mmd and .svg files); --trace highlights what a run visited')
    .option('--machine <name>', 'only this machine (connection, session, turn, approval, supervisor)')
    .option('--trace <file>', 'a JSON Lines trace written by --trace of join, demo or simulate')
    .option('--out <dir>', 'write <machine>.mmd and <machine>.svg into this directory')
    .action(async (o) => {
      code = await visualize(o, out);
    });

  program
    .command('simulate')
    .description('replay a scenario file (both sides scripted, virtual time) and check its expectations')
    .argument('<scenario>', 'scenario JSON file (see docs/scenarios.md)')
    .option('--trace <file>', 'write a JSON Lines trace of the run')
    .option('--record', 'play the room side against the real app-server and write <name>.recorded.json')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o) => {
      code = await simulateCommand(file, o, out);
    });

  program
    .command('probe')
    .description('start the real codex app-server in a temporary CODEX_HOME, print the handshake and the model list, stop it')
    .option('--command <path>', 'codex binary (default: codex on PATH, else node_modules/.bin/codex)')
    .option('--codex-home <dir>', 'CODEX_HOME to use (default: a fresh temporary one)')
    .option('--url <ws-url>', 'connect to a running app-server over WebSocket instead')
    .option('--token <token>', 'capability token for --url (or SWITCHBOARD_APP_SERVER_TOKEN)')
    .action(async (o: { command?: string; codexHome?: string; url?: string; token?: string }) => {
      code = await probe({ ...o, token: o.token ?? process.env.SWITCHBOARD_APP_SERVER_TOKEN }, out);
    });

  program
    .command('deploy')
    .description('write a service unit that runs `join` with the given arguments: switchboard deploy --systemd [--user] -- --room R --agent-name A …')
    .option('--systemd', 'a systemd unit (the one service manager supported)')
    .option('--user', 'a user unit (~/.config/systemd/user) instead of a system unit (/etc/systemd/system)')
    .option('--output <file>', 'where to write the unit (- prints it)')
    .option('--name <name>', 'unit name (default: switchboard-<room>)')
    .option('--working-directory <dir>', 'working directory of the service (default: the current one)')
    .option('--run-as <user>', 'system units: the user the service runs as')
    .argument('[join-args...]', 'the `join` arguments, after --')
    .action((joinArgs: string[], o) => {
      code = deploy(joinArgs, o, out);
    });

  // Flags win over the environment; checked before any command makes a logger (pino would throw with a stack trace).
  program.hook('preAction', () => {
    const g = program.opts<{ logLevel?: string; logFormat?: string }>();
    if (g.logLevel) process.env.SWITCHBOARD_LOG_LEVEL = g.logLevel;
    if (g.logFormat) process.env.SWITCHBOARD_LOG_FORMAT = g.logFormat;
    checkLogLevel(process.env);
  });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    // Usage and configuration errors: the message names the flag or field; never a stack.
    if (err instanceof UsageProblem || err instanceof ConfigError) {
      process.stderr.write(`${redactText(err.message)}\n`);
      return 2;
    }
    process.stderr.write(`switchboard: ${redactText((err as Error)?.message ?? String(err))}\n`);
    if (process.env.SWITCHBOARD_LOG_LEVEL === 'debug' || process.env.SWITCHBOARD_LOG_LEVEL === 'trace') {
      process.stderr.write(`${redactText((err as Error)?.stack ?? '')}\n`);
    }
    return 1;
  }
  return code;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) process.exitCode = await main(process.argv);
