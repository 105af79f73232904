// Room credentials: mint/verify (for hosts with their own auth), the server secret, token sources.
export { createRoomAuth, RoomAuthError, DEFAULT_TTL_SECONDS, MAX_TOKEN_LENGTH, type RoomAuth, type RoomAuthOptions, type RoomCredential, type MintInput, type AuthFailure } from './token.js';
export { loadRoomSecret, writePrivateFile, SecretError, type LoadedSecret } from './secret.js';
export { ROLES, isRole, isRoomName, isParticipantId, cleanDisplayName, ROOM_NAME_RULE, PARTICIPANT_ID_RULE, type Role } from './names.js';
export { parseTtl, MAX_TTL_SECONDS } from './ttl.js';
export { readToken, TokenSourceError, type TokenSources } from './token-source.js';
