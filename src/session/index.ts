// Public API of sessions and turns.
export { SessionManager, type SessionManagerOptions, type SessionStatus, type SessionManagerStatus } from './manager.js';
export { FileBindingStore, MemoryBindingStore, BindingCorruptError, BindingSchema, BINDING_SCHEMA_VERSION, type Binding, type BindingStore } from './bindings.js';
export { FALLBACK_MODELS, type Catalog, type CatalogModel } from './models.js';
export { defaultSessionSettings, parseCommand, type SessionSettings, type SlashCommand, type PendingMessage } from './types.js';
export { sessionMachine, type SessionMachineInput } from '../../machines/session.machine.js';
export { turnMachine, type TurnMachineInput, type TurnOutput } from '../../machines/turn.machine.js';
export { toTurnInput, TurnTranslator, type Attachment, type RoomMessage, type StreamSignal } from '../turn/translate.js';
export type { ApprovalHooks, SessionConnection } from '../turn/runtime.js';
