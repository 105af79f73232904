// The scripted model as its own process for the benches that drive the real app-server: a real
// model is a remote service, never in the process being measured. In-process, the model shared
// the event loop of the side under test, so that side's own work could delay the model's answers to
// the app-server (the raw driver, with almost no work of its own, hardly delays them).
// Prints `{"url": …}` once listening; every request is answered with "done" in two chunks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { say, startMockModel } from '../test/support/mock-model.js';

export interface ModelProcess {
  url: string;
  close(): Promise<void>;
}

/** Starts this file as a child process (tsx) and resolves with its URL. */
export async function startModelProcess(): Promise<ModelProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the model process exited (${code}) before listening`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return {
    url,
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mock = await startMockModel(() => say('done', 2));
  process.stdout.write(`${JSON.stringify({ url: mock.url })}\n`);
  process.on('SIGTERM', () => void mock.close().then(() => process.exit(0)));
}
