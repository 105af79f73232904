// The `switchboard` command line.
import { Command, CommanderError } from 'commander';
import { probe } from './probe.js';
import { demo } from './demo.js';
import { terminalOutput } from './output.js';

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const out = terminalOutput();
  let code = 0;
  const program = new Command('switchboard')
    .description('Run chat-host agent turns through the OpenAI Codex app-server')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('probe')
    .description('start the real codex app-server, print the handshake and the model list, stop it')
    .option('--command <path>', 'codex binary (default: codex on PATH, else node_modules/.bin/codex)')
    .option('--codex-home <dir>', 'CODEX_HOME to use (default: a fresh temporary one)')
    .option('--url <ws-url>', 'connect to a running app-server over WebSocket instead')
    .option('--token <token>', 'capability token for --url (or SWITCHBOARD_APP_SERVER_TOKEN)')
    .action(async (o: { command?: string; codexHome?: string; url?: string; token?: string }) => {
      code = await probe({ ...o, token: o.token ?? process.env.SWITCHBOARD_APP_SERVER_TOKEN }, out);
    });

  program
    .command('demo')
    .description('run the offline demo: embedded room, real codex app-server, scripted model, one approval, one patch')
    .option('--keep', 'keep the temporary workspace and print its path')
    .option('--timeout <ms>', 'give up after this long', (v) => Number(v), 120_000)
    .action(async (o: { keep?: boolean; timeout: number }) => {
      code = await demo({ keep: o.keep, timeoutMs: o.timeout }, out);
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
