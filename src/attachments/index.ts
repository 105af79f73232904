// Attachments and text at the boundary (issue 11 #4, #6).
export * from './schema.js';
export { cleanMessageText, cleanName, isWellFormedText, wellFormedText } from './text.js';
export { validateHostAttachments, validateRoomAttachments, type HostAttachmentOptions, type ResolvedAttachment, type RoomAttachmentOptions } from './local.js';
