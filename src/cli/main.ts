// The `switchboard` command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or
// configuration error, 3 refused by the room (authentication).
import { Command, CommanderError, Option } from 'commander';
import { probe } from './probe.js';
import { demo } from './demo.js';
import { join } from './join.js';
import { serve } from './serve.js';
import { models, status } from './info.js';
import { chatCommand } from './chat.js';
import { visualize } from './visualize.js';
import { simulateCommand } from '../simulate/cli.js';
import { createTracer, type Tracer } from '../trace/index.js';
import { terminalOutput } from './output.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a port number: ${v}`);
  return n;
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
    .showHelpAfterError();

  program
    .command('demo')
    .description('run the offline demo: embedded room, real codex app-server, scripted model, one approval, one patch')
    .option('--keep', 'keep the temporary workspace and print its path')
    .option('--timeout <ms>', 'give up after this long', (v) => Number(v), 120_000)
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
    .requiredOption('--room <room>', 'room to join')
    .requiredOption('--agent-name <name>', 'the agent participant’s name')
    .option('--channel <channel>', 'channel of the room', 'chat')
    .option('--backend <backend>', 'turn backend', 'codex')
    .option('--model <model>', 'a model the agent may use (repeatable; the first is the default)', collect)
    .addOption(new Option('--mode <mode>', 'approval preset').choices(['yolo', 'guardian']))
    .option('--cwd <dir>', 'workspace of the Codex threads')
    .option('--url <ws-url>', 'join a running room server instead of starting the embedded one')
    .option('--token <token>', 'room token (required by the room, or required from clients of the embedded one)')
    .option('--port <port>', 'port of the embedded room server (default: any free port)', int)
    .option('--host <host>', 'address of the embedded room server', '127.0.0.1')
    .option('--config <file>', 'switchboard.config.json to use')
    .option('--trace <file>', 'write a JSON Lines trace of every actor')
    .action(async (o) => {
      const tracer = o.trace ? createTracer(o.trace) : undefined;
      try {
        code = await join({ ...o, inspect: tracer }, out);
      } finally {
        closeTracer(tracer);
      }
    });

  const room = program.command('room').description('room server commands');
  room
    .command('serve')
    .description('run a standalone room server; agents join it with `switchboard join --url`')
    .option('--port <port>', 'port (default: any free port)', int)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--token <room=token>', 'require a token to join a room (repeatable)', collect)
    .action(async (o) => {
      code = await serve(o, out);
    });

  program
    .command('chat')
    .description('terminal client for a room: streamed answers, one line per tool event, approvals answered with a key')
    .requiredOption('--room <room>', 'room to join')
    .option('--url <ws-url>', 'room server URL (or SWITCHBOARD_ROOM_URL)')
    .option('--token <token>', 'room token (or SWITCHBOARD_ROOM_TOKEN)')
    .option('--name <name>', 'your display name')
    .option('--id <id>', 'your participant id (default: $USER)')
    .option('--channel <channel>', 'channel to post in (default: chat)')
    .option('--thread <thread>', 'thread to post in (default: main)')
    .action(async (o) => {
      code = await chatCommand(o);
    });

  program
    .command('status')
    .description('start the configured app-server, print the runtime status, stop')
    .option('--config <file>', 'switchboard.config.json to use')
    .option('--json', 'print JSON')
    .action(async (o) => {
      code = await status(o, out);
    });

  program
    .command('models')
    .description('list the models the configured Codex app-server offers')
    .option('--config <file>', 'switchboard.config.json to use')
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

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return code;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) process.exitCode = await main(process.argv);
