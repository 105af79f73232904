// Room message → the `input` array of `turn/start` / `turn/steer` (issue 11 #4, #6).
//
// The last line of defence before Codex: it opens nothing and trusts nothing. Attachments
// arrive resolved (`validateRoomAttachments` at the room, `validateHostAttachments` in
// `sb.post`); anything else is reported as a problem and not sent. In particular no form
// here names a host file for Codex to read: local images were read (and checked) by
// `validateHostAttachments` and travel as bytes. Every text is repaired (lone surrogates →
// U+FFFD, control characters removed): 0.169.0 drops a `turn/start` whose text holds a lone
// surrogate without answering it.
import path from 'node:path';
import type { UserInput } from '../protocol/common.js';
import { AttachmentError, checkImageUrl, checkUploadedImage, MAX_NAME_LENGTH, type ResolvedAttachment } from '../attachments/schema.js';
import { cleanMessageText, cleanName } from '../attachments/text.js';

/** Something attached to a room message, as resolved at the boundary. */
export type Attachment = ResolvedAttachment;

export interface RoomMessage {
  room: string;
  channel: string;
  thread: string;
  from: { id: string; name: string };
  text: string;
  attachments?: Attachment[];
  /** The host's id of the message (the supervisor's inbox entry), sent as `clientUserMessageId`. */
  clientMessageId?: string;
}

/** Backstop: the boundaries apply the configured caps; nothing bigger is ever sent. */
const INPUT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;

export interface TurnInputOptions {
  /** Kept for callers; relative paths are no longer resolved here (see validateHostAttachments). */
  cwd?: string;
  /** Prefix the text with `name: ` (useful when several people share one session). */
  speakerPrefix?: boolean;
  /** Cap of image bytes (decoded); default INPUT_MAX_IMAGE_BYTES. */
  uploadMaxBytes?: number;
}

export interface TranslatedInput {
  input: UserInput[];
  /** Attachments that could not be used, in words for the room. */
  problems: string[];
}

export function toTurnInput(msg: Pick<RoomMessage, 'text' | 'attachments' | 'from'>, opts: TurnInputOptions = {}): TranslatedInput {
  const input: UserInput[] = [];
  const problems: string[] = [];
  const body = cleanMessageText(typeof msg.text === 'string' ? msg.text : '');
  const speaker = opts.speakerPrefix && typeof msg.from?.name === 'string' ? cleanName(msg.from.name) : '';
  const text = speaker ? `${speaker}: ${body}` : body;
  if (body.trim() !== '') input.push({ type: 'text', text, text_elements: [] });
  const list: unknown[] = Array.isArray(msg.attachments) ? msg.attachments : [];
  for (const a of list) {
    try {
      input.push(attachmentInput(a, opts.uploadMaxBytes));
    } catch (err) {
      problems.push(err instanceof AttachmentError ? err.reason : String(err));
    }
  }
  return { input, problems };
}

function attachmentInput(v: unknown, uploadMaxBytes: number | undefined): UserInput {
  const a = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const max = uploadMaxBytes ?? INPUT_MAX_IMAGE_BYTES;
  if (a.type === 'image') {
    if ('path' in a) throw new AttachmentError('a local image was not resolved by the host API and was not sent');
    if ('data' in a) {
      const img = checkUploadedImage(a.data, a.mimeType, a.name, max);
      return { type: 'image', url: `data:${img.mimeType};base64,${img.data}` };
    }
    const img = checkImageUrl(a.url, max);
    return 'url' in img ? { type: 'image', url: img.url } : { type: 'image', url: `data:${img.mimeType};base64,${img.data}` };
  }
  if (a.type === 'mention') {
    if (typeof a.name !== 'string' || typeof a.path !== 'string' || !a.path || a.path.length > 4096) {
      throw new AttachmentError('a mention without a name and path was not sent');
    }
    // Resolved mentions are absolute real paths; `app://…` names a connector.
    const opaque = /^[a-z][a-z0-9+.-]*:\/\//i.test(a.path) && !/^file:/i.test(a.path);
    if (!opaque && !path.isAbsolute(a.path)) throw new AttachmentError(`the mention "${cleanName(a.name)}" was not resolved by the host API and was not sent`);
    return { type: 'mention', name: cleanName(a.name).slice(0, MAX_NAME_LENGTH), path: a.path };
  }
  throw new AttachmentError(`an attachment of type "${cleanName(String(a.type)).slice(0, 40)}" is not supported and was not sent`);
}
