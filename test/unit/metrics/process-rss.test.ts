// RSS of a spawned app-server: its whole process group (the Node launcher and the native server).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { groupRssBytes, rssBytes } from '../../../src/metrics/process-rss.js';

describe('app-server RSS', () => {
  it('a process group sums its members (the launcher and the native server); a lone process counts alone', async () => {
    // A group leader (detached) with a child in its group, like `codex app-server`'s launcher.
    const leader = spawn('sh', ['-c', 'sleep 30 & sleep 30'], { detached: true, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const one = (await rssBytes(leader.pid!))!;
      const group = (await groupRssBytes(leader.pid!))!;
      expect(one).toBeGreaterThan(0);
      expect(group).toBeGreaterThan(one);
      expect(await groupRssBytes(process.pid)).toBeGreaterThan(0);
      expect(await groupRssBytes(2 ** 22 + 12345)).toBeUndefined();
    } finally {
      process.kill(-leader.pid!, 'SIGKILL');
    }
  });
});
