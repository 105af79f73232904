// Local files named through the trusted host API (`sb.post`), resolved before anything is
// opened: realpath (symlinks followed, `..` gone), inside the agent's workspace or a
// configured root, a regular file (never a FIFO or a device: they are stat'ed, not opened),
// size-capped. An image's bytes are read here, from the descriptor that was checked, and
// travel as an uploaded image: Codex never opens a host path, so a file swapped after the
// check cannot be read.
import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  AttachmentError,
  DEFAULT_LOCAL_MAX_BYTES,
  DEFAULT_UPLOAD_MAX_BYTES,
  MAX_ATTACHMENTS,
  parseHostAttachment,
  parseRoomAttachment,
  sniffImageMime,
  type Mention,
  type RoomAttachment,
  type UploadedImage,
} from './schema.js';
import { cleanName } from './text.js';

/** What reaches the turn: URLs, checked bytes, and mentions of resolved paths. */
export type ResolvedAttachment = RoomAttachment | Mention;

export interface HostAttachmentOptions {
  /** The agent's workspace; relative paths resolve against it and it is always a root. */
  cwd: string;
  /** Further directories local files may come from. */
  roots?: readonly string[];
  /** Size cap of a local image file (bytes). */
  maxBytes?: number;
  /** Size cap of uploaded bytes (decoded). */
  uploadMaxBytes?: number;
  /** At most this many attachments. */
  maxCount?: number;
}

export interface RoomAttachmentOptions {
  uploadMaxBytes?: number;
  maxCount?: number;
}

/** A remote participant's attachments → canonical forms, or AttachmentError (nothing opened). */
export function validateRoomAttachments(list: unknown, opts: RoomAttachmentOptions = {}): RoomAttachment[] {
  const items = asList(list, opts.maxCount);
  return items.map((v, i) => withIndex(i, () => parseRoomAttachment(v, opts.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX_BYTES)));
}

/** The host's attachments → resolved forms, or AttachmentError naming the first refused one. */
export async function validateHostAttachments(list: unknown, opts: HostAttachmentOptions): Promise<ResolvedAttachment[]> {
  const items = asList(list, opts.maxCount);
  const parsed = items.map((v, i) => withIndex(i, () => parseHostAttachment(v, opts.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX_BYTES)));
  let roots: string[] | undefined;
  const out: ResolvedAttachment[] = [];
  for (const [i, a] of parsed.entries()) {
    if (!('path' in a) || (a.type === 'mention' && isOpaqueRef(a.path))) {
      out.push(a as ResolvedAttachment);
      continue;
    }
    roots ??= await resolveRoots(opts.cwd, opts.roots ?? []);
    const within = roots;
    if (a.type === 'mention') out.push({ type: 'mention', name: a.name, path: await withIndexAsync(i, () => resolveMention(a.path, opts.cwd, within)) });
    else out.push(await withIndexAsync(i, () => readLocalImage(a.path, opts.cwd, within, opts.maxBytes ?? DEFAULT_LOCAL_MAX_BYTES)));
  }
  return out;
}

/** A mentioned file or directory: resolved and inside a root; Codex gets the real path. */
async function resolveMention(p: string, cwd: string, roots: string[]): Promise<string> {
  const real = await resolveInside(p, cwd, roots, 'mentioned');
  const s = await stat(real);
  if (!s.isFile() && !s.isDirectory()) throw new AttachmentError(`the mentioned path "${p}" is ${kindOf(s)}, not a file or directory`);
  return real;
}

/** `app://…`, `plugin://…` mentions name Codex connectors, not files. */
function isOpaqueRef(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) && !/^file:/i.test(p);
}

function asList(list: unknown, maxCount = MAX_ATTACHMENTS): unknown[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new AttachmentError('attachments must be a list');
  if (list.length > maxCount) throw new AttachmentError(`at most ${maxCount} attachments per message, got ${list.length}`);
  return list;
}

function withIndex<T>(i: number, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw err instanceof AttachmentError ? new AttachmentError(err.reason, i) : err;
  }
}

async function withIndexAsync<T>(i: number, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw err instanceof AttachmentError ? new AttachmentError(err.reason, i) : err;
  }
}

async function resolveRoots(cwd: string, extra: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of [cwd, ...extra]) {
    try {
      out.push(await realpath(path.resolve(cwd, r)));
    } catch {
      // A configured root that does not exist admits nothing.
    }
  }
  return out;
}

function inside(p: string, root: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** realpath of `p` (relative to cwd), which must lie inside one of `roots`. */
async function resolveInside(p: string, cwd: string, roots: string[], what: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(path.resolve(cwd, p));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AttachmentError(code === 'ENOENT' ? `the ${what} file "${p}" does not exist` : `the ${what} path "${p}" cannot be resolved (${code ?? 'error'})`);
  }
  if (!roots.some((r) => inside(real, r))) {
    throw new AttachmentError(`the ${what} file "${p}" is outside the agent's workspace and the configured attachment roots`);
  }
  return real;
}

function kindOf(s: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (s.isFile()) return 'a regular file';
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Reads a local image through the checked descriptor: regular file, capped, magic number. */
async function readLocalImage(p: string, cwd: string, roots: string[], maxBytes: number): Promise<UploadedImage> {
  const real = await resolveInside(p, cwd, roots, 'image');
  const before = await stat(real);
  if (!before.isFile()) throw new AttachmentError(`the image "${p}" is ${kindOf(before)}, not a regular file`);
  if (before.size > maxBytes) throw new AttachmentError(`the image "${p}" is ${before.size} bytes; the limit is ${maxBytes}`);
  if (before.size === 0) throw new AttachmentError(`the image "${p}" is empty`);
  // O_NONBLOCK: should the path have become a FIFO since the stat, open must not wait for a writer.
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const now = await fh.stat();
    if (!now.isFile() || now.ino !== before.ino || now.dev !== before.dev) {
      throw new AttachmentError(`the image "${p}" changed while it was being checked`);
    }
    const buf = Buffer.alloc(Math.min(now.size, maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > maxBytes) throw new AttachmentError(`the image "${p}" grew beyond ${maxBytes} bytes while it was read`);
    const bytes = buf.subarray(0, got);
    const mimeType = sniffImageMime(bytes);
    if (!mimeType) throw new AttachmentError(`"${p}" is not a PNG, JPEG, GIF or WebP image (wrong magic number)`);
    const name = cleanName(path.basename(real)).slice(0, 255);
    return { type: 'image', data: bytes.toString('base64'), mimeType, ...(name ? { name } : {}) };
  } finally {
    await fh.close();
  }
}
