// Launcher for the pty test: `node --import tsx test/support/pty-chat.ts '<ChatOptions JSON>'`
// runs `switchboard chat` on this process's own stdin/stdout (the pseudo-terminal).
import { chatCommand, type ChatOptions } from '../../src/cli/chat.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as ChatOptions;
const code = await chatCommand(opts);
process.exit(code);
