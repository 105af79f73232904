// Issue 11 #4: attachments. A room participant may attach http(s) image URLs or upload image
// bytes; nothing a room sends names a file on the host. The host API may name local files,
// which are resolved (realpath) inside the workspace or configured roots, must be regular
// files under the size cap with an image's magic number, and are never opened otherwise
// (a FIFO or /dev/zero is refused from its stat, at once). What is accepted reaches the model.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RoomServer } from '../../src/room/server.js';
import type { RoomBackend } from '../../src/room/protocol.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { AttachmentError, validateHostAttachments, type ResolvedAttachment } from '../../src/attachments/index.js';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { closeWorlds, turnEnd, world } from './input-world.js';

// A real 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const PNG_B64 = PNG.toString('base64');

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await closeWorlds();
});

/** A room participant over a real WebSocket (open loopback mode: identity from the frame). */
async function participant(url: string) {
  const ws = new WebSocket(url);
  stops.push(() => ws.terminate());
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  await new Promise<void>((r) => ws.on('open', () => r()));
  const next = async (pred: (f: Record<string, unknown>) => boolean, from = 0) => {
    for (let i = 0; i < 200; i++) {
      const f = frames.slice(from).find(pred);
      if (f) return f;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching frame; got ${JSON.stringify(frames).slice(0, 2000)}`);
  };
  ws.send(JSON.stringify({ type: 'join', room: 'lab', participant: { id: 'eve', role: 'member' } }));
  await next((f) => f.type === 'joined');
  return { ws, frames, next, send: (o: unknown) => ws.send(JSON.stringify(o)) };
}

async function refusal(list: unknown, opts: Parameters<typeof validateHostAttachments>[1]): Promise<{ reason: string; ms: number }> {
  const t0 = performance.now();
  const err = await validateHostAttachments(list, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - t0;
  expect(err, `expected a refusal of ${JSON.stringify(list)}`).toBeInstanceOf(AttachmentError);
  return { reason: (err as AttachmentError).reason, ms };
}

const userInputOf = (box: Sandbox) => JSON.stringify(box.model.requests.map((r) => r.input.filter((i) => i.role === 'user')));

describe('#4 attachments from a room participant (WebSocket)', () => {
  it('local paths, file: URLs, ../ forms, localImage and a wrong magic number are refused with the reason; nothing is posted', async () => {
    const posts: unknown[] = [];
    const backend: RoomBackend = { events$: new Subject<RoomEvent>(), post: (m) => void posts.push(m), decide: () => ({ ok: false, reason: 'no' }), history: async () => [] };
    const server = new RoomServer({ backend, mode: 'none' });
    const url = await server.start();
    stops.push(() => server.stop());
    const p = await participant(url);
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'image', url: '/home/u/secret.png' }, /local paths are refused/],
      [{ type: 'image', url: 'file:///etc/passwd' }, /file: URLs are refused/],
      [{ type: 'image', url: '../../../etc/passwd' }, /local paths are refused/],
      [{ type: 'image', url: '/dev/zero' }, /local paths are refused/],
      [{ type: 'image', path: '/etc/passwd' }, /local paths are refused/],
      [{ type: 'localImage', path: '/etc/passwd' }, /"localImage" attachments name files on the host/],
      [{ type: 'mention', name: 'x', path: '/etc/passwd' }, /"mention" attachments name files on the host/],
      [{ type: 'image', url: 'https://user:pw@example.com/a.png' }, /user name or password/],
      [{ type: 'image', data: Buffer.from('GIF89a....').toString('base64'), mimeType: 'image/png' }, /the bytes are image\/gif, not image\/png/],
      [{ type: 'image', data: Buffer.from('#!/bin/sh\n').toString('base64'), mimeType: 'image/png' }, /wrong magic number/],
      [{ type: 'image', url: 'data:text/html;base64,PGgxPg==' }, /data: URL must be base64 image/],
    ];
    for (const [attachment, why] of cases) {
      const from = p.frames.length;
      p.send({ type: 'message', text: 'look', attachments: [attachment] });
      const err = await p.next((f) => f.type === 'error', from);
      expect(String(err.error), JSON.stringify(attachment)).toMatch(why);
    }
    // The socket and the room survive; a valid URL image is posted.
    p.send({ type: 'message', text: 'ok now', attachments: [{ type: 'image', url: 'https://example.com/a.png' }] });
    for (let i = 0; i < 100 && posts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(posts).toEqual([expect.objectContaining({ text: 'ok now', attachments: [{ type: 'image', url: 'https://example.com/a.png' }] })]);
  });

  it('an uploaded PNG reaches the model through the room and a real turn', async () => {
    const { sb, box } = await world([say('A tiny image.')]);
    await sb.start();
    const server = new RoomServer({ backend: sb as unknown as RoomBackend, mode: 'none' });
    const url = await server.start();
    stops.push(() => server.stop());
    const p = await participant(url);
    const done = turnEnd(sb);
    p.send({ type: 'message', text: 'what is this?', attachments: [{ type: 'image', data: PNG_B64, mimeType: 'image/png', name: 'dot.png' }] });
    expect((await done).type).toBe('turn.completed');
    expect(userInputOf(box)).toContain(`data:image/png;base64,${PNG_B64}`);
  });
});

describe('#4 attachments named through the host API', () => {
  it('outside the workspace, file: and ../ forms, /dev/zero, a FIFO, a symlink out, oversize and a wrong magic number are refused fast, unread', async () => {
    const box = await makeSandbox([]);
    stops.push(() => box.close());
    const ws = box.workspace;
    const secret = path.join(box.root, 'secret.png');
    writeFileSync(secret, PNG);
    writeFileSync(path.join(ws, 'big.png'), Buffer.concat([PNG, Buffer.alloc(2048)]));
    writeFileSync(path.join(ws, 'script.png'), '#!/bin/sh\necho hi\n');
    symlinkSync(secret, path.join(ws, 'link.png'));
    symlinkSync('/dev/zero', path.join(ws, 'zero.png'));
    execFileSync('mkfifo', [path.join(ws, 'pipe.png')]);
    mkdirSync(path.join(ws, 'dir.png'));
    const opts = { cwd: ws, maxBytes: 1024 };
    const cases: Array<[unknown, RegExp, typeof opts & { roots?: string[] }]> = [
      [{ type: 'image', path: secret }, /outside the agent's workspace/, opts],
      [{ type: 'image', url: `file://${secret}` }, /not a file: URL/, opts],
      [{ type: 'image', url: secret }, /local paths are refused/, opts],
      [{ type: 'image', path: '../secret.png' }, /outside the agent's workspace/, opts],
      [{ type: 'image', path: '/dev/zero' }, /outside the agent's workspace/, opts],
      [{ type: 'image', path: '/dev/zero' }, /is a device, not a regular file/, { ...opts, roots: ['/dev'] }],
      [{ type: 'image', path: 'zero.png' }, /outside the agent's workspace/, opts],
      [{ type: 'image', path: 'pipe.png' }, /is a FIFO, not a regular file/, opts],
      [{ type: 'image', path: 'dir.png' }, /is a directory, not a regular file/, opts],
      [{ type: 'image', path: 'link.png' }, /outside the agent's workspace/, opts],
      [{ type: 'image', path: 'big.png' }, /the limit is 1024/, opts],
      [{ type: 'image', path: 'script.png' }, /wrong magic number/, opts],
      [{ type: 'image', path: 'missing.png' }, /does not exist/, opts],
      [{ type: 'mention', name: 'passwd', path: '/etc/passwd' }, /outside the agent's workspace/, opts],
      [{ type: 'mention', name: 'fifo', path: 'pipe.png' }, /is a FIFO/, opts],
      [{ type: 'localImage', path: 'a.png' }, /write a local image as \{type:"image", path\}/, opts],
    ];
    const timings: Record<string, number> = {};
    for (const [a, why, o] of cases) {
      const { reason, ms } = await refusal([a], o);
      expect(reason, JSON.stringify(a)).toMatch(why);
      timings[JSON.stringify(a)] = ms;
    }
    console.log(`#4 refusal times (ms): /dev/zero ${timings['{"type":"image","path":"/dev/zero"}']!.toFixed(2)}, FIFO ${timings['{"type":"image","path":"pipe.png"}']!.toFixed(2)}`);
    // The position of the refused attachment is named.
    const err = await validateHostAttachments([{ type: 'image', url: 'https://example.com/a.png' }, { type: 'image', path: 'pipe.png' }], opts).catch((e: AttachmentError) => e);
    expect((err as AttachmentError).message).toMatch(/^attachment 2: /);
    // A configured root admits a file outside the workspace.
    const ok = await validateHostAttachments([{ type: 'image', path: secret }], { ...opts, roots: [box.root] });
    expect(ok).toEqual([{ type: 'image', data: PNG_B64, mimeType: 'image/png', name: 'secret.png' }]);
  });

  it('a valid workspace image reaches the model in a real turn (read by Switchboard, sent as bytes)', async () => {
    const { sb, box } = await world([say('I see one pixel.')]);
    mkdirSync(path.join(box.workspace, 'shots'));
    writeFileSync(path.join(box.workspace, 'shots', 'dot.png'), PNG);
    await sb.start();
    const attachments: ResolvedAttachment[] = await validateHostAttachments([{ type: 'image', path: 'shots/dot.png' }], { cwd: box.workspace });
    expect(attachments).toEqual([{ type: 'image', data: PNG_B64, mimeType: 'image/png', name: 'dot.png' }]);
    // Through the embedding API with the raw host form: sb.post resolves it itself.
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'host', name: 'Host' }, text: 'describe the image', attachments: [{ type: 'image', path: 'shots/dot.png' }] });
    expect((await done).type).toBe('turn.completed');
    const sent = userInputOf(box);
    expect(sent).toContain(`data:image/png;base64,${PNG_B64}`);
    expect(sent).not.toContain('shots/dot.png');
  });

  it('sb.post refuses /dev/zero, a FIFO and, for a room participant, any local path before anything is stored', async () => {
    const { sb, box } = await world([]);
    execFileSync('mkfifo', [path.join(box.workspace, 'pipe.png')]);
    await sb.start();
    const post = (attachments: Array<Record<string, unknown>>, role?: 'member') =>
      sb.post({ room: 'lab', from: { id: 'ann', ...(role ? { role } : {}) }, text: 'look', attachments }).then(
        () => 'accepted',
        (e: Error) => e.message,
      );
    expect(await post([{ type: 'image', path: '/dev/zero' }])).toMatch(/outside the agent's workspace/);
    expect(await post([{ type: 'image', path: 'pipe.png' }])).toMatch(/is a FIFO, not a regular file/);
    expect(await post([{ type: 'image', path: 'pipe.png' }], 'member')).toMatch(/local paths are refused/);
    expect(await post([{ type: 'image', url: 'file:///etc/passwd' }], 'member')).toMatch(/file: URLs are refused/);
    expect(await sb.history('lab')).toEqual([]);
    expect(box.model.requests).toEqual([]);
  });
});
