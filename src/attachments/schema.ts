// What may be attached to a message, by whom (issue 11 #4).
//
// - A REMOTE room participant may attach an http(s) image URL or image bytes uploaded through
//   the room (base64, size-capped, MIME type checked against the magic bytes). Nothing a room
//   sends ever names a file on the host: paths, `file:` URLs, `localImage` are refused.
// - The trusted HOST API (`sb.post`) may also name local files; those are resolved and checked
//   by `validateHostAttachments` (./local.ts) before anything is opened.
//
// The schemas parse `unknown` and refuse with one message that says why, so an error frame
// can repeat it verbatim.
import { z } from 'zod';
import { wellFormedText } from './text.js';

const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageMime = (typeof IMAGE_MIME_TYPES)[number];

/** Decoded bytes an image uploaded through the room may have (default). */
export const DEFAULT_UPLOAD_MAX_BYTES = 5 * 1024 * 1024;
/** Bytes a local image named through the host API may have (default). */
export const DEFAULT_LOCAL_MAX_BYTES = 10 * 1024 * 1024;
const MAX_URL_LENGTH = 2048;
export const MAX_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

/** An image by http(s) URL: the model provider fetches it, Switchboard never does. */
export interface UrlImage {
  type: 'image';
  url: string;
}
/** Image bytes (base64, no whitespace) whose type was checked against the magic bytes. */
export interface UploadedImage {
  type: 'image';
  data: string;
  mimeType: ImageMime;
  name?: string;
}
export type RoomAttachment = UrlImage | UploadedImage;

/** Host-only forms: validated against the workspace by `validateHostAttachments`. */
export interface LocalImage {
  type: 'image';
  path: string;
}
export interface Mention {
  type: 'mention';
  name: string;
  path: string;
}
export type HostAttachment = RoomAttachment | LocalImage | Mention;

/** An attachment was refused; `reason` is fit to show the sender. */
export class AttachmentError extends Error {
  constructor(
    readonly reason: string,
    /** Position in the attachment list, when known. */
    readonly index?: number,
  ) {
    super(index === undefined ? reason : `attachment ${index + 1}: ${reason}`);
    this.name = 'AttachmentError';
  }
}

/** The image type the bytes really are, from their magic number. */
export function sniffImageMime(b: Uint8Array): ImageMime | undefined {
  const at = (i: number, ...xs: number[]) => xs.every((x, k) => b[i + k] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return 'image/gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Decoded size of a canonical base64 string (length checked first: no decode of a huge blob). */
function base64Bytes(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

/** Checks uploaded bytes; returns the canonical form or throws AttachmentError. */
export function checkUploadedImage(data: unknown, mimeType: unknown, name: unknown, maxBytes: number): UploadedImage {
  if (typeof data !== 'string' || data === '') throw new AttachmentError('an uploaded image needs "data": base64 bytes');
  const limitChars = Math.ceil(maxBytes / 3) * 4;
  if (data.length > limitChars) throw new AttachmentError(`the uploaded image is larger than ${maxBytes} bytes`);
  if (data.length % 4 !== 0 || !BASE64.test(data)) throw new AttachmentError('"data" is not canonical base64 (no whitespace, no data: prefix)');
  if (base64Bytes(data) > maxBytes) throw new AttachmentError(`the uploaded image is larger than ${maxBytes} bytes`);
  if (typeof mimeType !== 'string' || !(IMAGE_MIME_TYPES as readonly string[]).includes(mimeType)) {
    throw new AttachmentError(`"mimeType" must be one of ${IMAGE_MIME_TYPES.join(', ')}`);
  }
  const head = Buffer.from(data.slice(0, 24), 'base64');
  const real = sniffImageMime(head);
  if (real !== mimeType) {
    throw new AttachmentError(real ? `the bytes are ${real}, not ${mimeType}` : `the bytes are not a ${mimeType} image (wrong magic number)`);
  }
  const out: UploadedImage = { type: 'image', data, mimeType };
  if (name !== undefined) {
    if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH) throw new AttachmentError(`"name" must be text of at most ${MAX_NAME_LENGTH} characters`);
    const clean = wellFormedText(name).replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
    if (clean !== '') out.name = clean;
  }
  return out;
}

/** Checks an image URL a remote participant sent; data: image URLs become uploads. */
export function checkImageUrl(url: unknown, maxBytes: number): RoomAttachment {
  if (typeof url !== 'string' || url === '') throw new AttachmentError('an image needs an http(s) "url" or uploaded "data"');
  const dataUrl = /^data:([^;,]*)(;base64)?,/i.exec(url.slice(0, 100));
  if (dataUrl) {
    const mime = dataUrl[1]!.toLowerCase();
    if (!(IMAGE_MIME_TYPES as readonly string[]).includes(mime) || !dataUrl[2]) {
      throw new AttachmentError(`a data: URL must be base64 ${IMAGE_MIME_TYPES.join(', ')}; found "${mime || 'no type'}"`);
    }
    return checkUploadedImage(url.slice(dataUrl[0].length), mime, undefined, maxBytes);
  }
  if (url.length > MAX_URL_LENGTH) throw new AttachmentError(`the image URL is longer than ${MAX_URL_LENGTH} characters`);
  if (CONTROL.test(url) || /\s/.test(url)) throw new AttachmentError('the image URL contains spaces or control characters');
  if (!/^https?:\/\//i.test(url)) {
    throw new AttachmentError(
      /^file:/i.test(url)
        ? 'file: URLs are refused: a room may not name files on the host'
        : /^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)
          ? `only http(s) image URLs are accepted, not "${url.slice(0, url.indexOf(':'))}:"`
          : 'local paths are refused: a room may attach http(s) image URLs or upload the image bytes',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AttachmentError('the image URL is not a valid URL');
  }
  if (parsed.username || parsed.password) throw new AttachmentError('the image URL may not carry a user name or password');
  if (!parsed.hostname) throw new AttachmentError('the image URL has no host');
  return { type: 'image', url: parsed.href };
}

/** One room attachment → its canonical form, or AttachmentError saying why not. */
export function parseRoomAttachment(v: unknown, maxBytes = DEFAULT_UPLOAD_MAX_BYTES): RoomAttachment {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new AttachmentError('an attachment must be an object');
  const a = v as Record<string, unknown>;
  if (a.type === 'localImage' || a.type === 'mention' || a.type === 'skill') {
    throw new AttachmentError(`"${a.type}" attachments name files on the host and are refused from a room`);
  }
  if (a.type !== 'image') throw new AttachmentError(`attachments of type "${String(a.type).slice(0, 40)}" are not supported; send {type:'image', url} or {type:'image', data, mimeType}`);
  if ('path' in a) throw new AttachmentError('local paths are refused: a room may attach http(s) image URLs or upload the image bytes');
  const extra = Object.keys(a).filter((k) => !['type', 'url', 'data', 'mimeType', 'name'].includes(k));
  if (extra.length) throw new AttachmentError(`unknown field "${extra[0]!.slice(0, 40)}" in an image attachment`);
  if ('url' in a && 'data' in a) throw new AttachmentError('an image has either "url" or "data", not both');
  if ('data' in a) return checkUploadedImage(a.data, a.mimeType, a.name, maxBytes);
  if ('mimeType' in a || 'name' in a) throw new AttachmentError('"mimeType" and "name" belong to an uploaded image ("data")');
  return checkImageUrl(a.url, maxBytes);
}

/** Host-API attachment → canonical form (local paths not yet resolved: see ./local.ts). */
export function parseHostAttachment(v: unknown, maxBytes = DEFAULT_UPLOAD_MAX_BYTES): HostAttachment {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new AttachmentError('an attachment must be an object');
  const a = v as Record<string, unknown>;
  if (a.type === 'mention') {
    const extra = Object.keys(a).filter((k) => !['type', 'name', 'path'].includes(k));
    if (extra.length) throw new AttachmentError(`unknown field "${extra[0]!.slice(0, 40)}" in a mention`);
    if (typeof a.name !== 'string' || a.name === '' || a.name.length > MAX_NAME_LENGTH) {
      throw new AttachmentError(`a mention needs a "name" of 1 to ${MAX_NAME_LENGTH} characters`);
    }
    return { type: 'mention', name: a.name, path: checkPathText(a.path) };
  }
  if (a.type === 'image' && 'path' in a) {
    const extra = Object.keys(a).filter((k) => !['type', 'path'].includes(k));
    if (extra.length) throw new AttachmentError(`a local image has only "path", not "${extra[0]!.slice(0, 40)}"`);
    return { type: 'image', path: checkPathText(a.path) };
  }
  if (a.type === 'image' && typeof a.url === 'string' && /^file:/i.test(a.url)) {
    throw new AttachmentError('write a local image as {type:"image", path}, not a file: URL');
  }
  if (a.type === 'localImage') throw new AttachmentError('write a local image as {type:"image", path}');
  return parseRoomAttachment(v, maxBytes);
}

function checkPathText(p: unknown): string {
  if (typeof p !== 'string' || p === '') throw new AttachmentError('"path" must be a non-empty string');
  if (p.length > MAX_PATH_LENGTH) throw new AttachmentError(`"path" is longer than ${MAX_PATH_LENGTH} characters`);
  if (p.includes('\0')) throw new AttachmentError('"path" contains a NUL character');
  return p;
}

/** Zod adapter: the first refusal's reason becomes the issue message. */
function viaParser<T>(parse: (v: unknown) => T): z.ZodType<T, unknown> {
  return z.unknown().transform((v, ctx) => {
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof AttachmentError ? err.reason : String(err) });
      return z.NEVER;
    }
  }) as unknown as z.ZodType<T, unknown>;
}

/** Room attachment schema with a given upload cap (bytes, decoded). */
const roomAttachmentSchema = (maxBytes = DEFAULT_UPLOAD_MAX_BYTES) => viaParser((v) => parseRoomAttachment(v, maxBytes));
const hostAttachmentSchema = (maxBytes = DEFAULT_UPLOAD_MAX_BYTES) => viaParser((v) => parseHostAttachment(v, maxBytes));

/** What a REMOTE room participant may attach (default caps). */
export const RoomAttachmentSchema = roomAttachmentSchema();
/** At most this many attachments per message. */
export const MAX_ATTACHMENTS = 16;

// Resolution of the host's local paths lives in ./local.ts; re-exported so callers need one import.
export { validateHostAttachments, validateRoomAttachments, type HostAttachmentOptions, type ResolvedAttachment } from './local.js';
