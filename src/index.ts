// Switchboard's public API. Hosts embed the supervisor; the lower layers are exported for
// hosts that need them (a raw Connection, the stores, the room server).
export { createSupervisor, Supervisor, PostSchema, type PostInput, type SupervisorOptions, type DynamicToolSpec } from './supervisor/supervisor.js';
export type { SupervisorStatus } from './supervisor/status.js';
export type { Harness, AgentSpec, HarnessMessage } from './supervisor/harness.js';
export { ConfigError, loadConfig, type LoadedConfig } from './config/load.js';
export { ConfigSchema, type SwitchboardConfig, type SwitchboardConfigInput } from './config/schema.js';
export { resolveStateDir } from './config/state-dir.js';
export { resolveStatePaths, StateDirError, type StatePaths } from './config/state-paths.js';
export type { RoomEvent, RoomEventType, ApprovalKind, ToolKind, ConversationKey } from './events/room-events.js';
export { Hooks, HOOK_NAMES, type HookName, type HookPayloads, type HookHandler } from './hooks/hooks.js';
export { Connection, type ConnectionOptions, type ConnectionStatus, type ConnectionLifecycleEvent } from './connection/connection.js';
export { RpcError, RpcTimeoutError, ConnectionLostError, InvalidParamsError } from './connection/errors.js';
export { SessionManager, type SessionManagerOptions, type SessionStatus, type SessionManagerStatus } from './session/manager.js';
export { ApprovalRouter } from './approvals/router.js';
export type { ApprovalRouterOptions, ApprovalSessionContext, DecideInput, DecideResult, PendingApproval } from './approvals/router-types.js';
export { PolicyReviewer } from './approvals/policy.js';
/** @deprecated The former name of `PolicyReviewer` ("guardian" now means Codex's own reviewer subagent). */
export { PolicyReviewer as GuardianReviewer } from './approvals/policy.js';
export type { Reviewer, ApprovalRequest, ReviewSubject, ReviewContext, ReviewResult, Decision, Escalation, ApprovalAudit, ApprovalOutcome, ApprovalTimeouts } from './approvals/types.js';
export type { DynamicTool, ToolCallContext, ToolCallResult, ToolContentItem } from './approvals/tools.js';
export { buildCodexStack, type CodexStack, type StackDeps } from './stack/codex-stack.js';
export { stackSettingsFromConfig, type StackSettings } from './stack/settings.js';
export { DatasetStore } from './storage/dataset.js';
export { MemoryStore } from './storage/memory.js';
export type { ThreadStore, HistoryRecord, StoredRecord } from './storage/types.js';
export { RoomServer, type RoomServerOptions } from './room/server.js';
export type { RoomBackend, AgentRelay } from './room/protocol.js';
export { RelayBackend } from './room/relay.js';
export { DEFAULT_ROOM_LIMITS, type RoomLimits } from './room/limits.js';
export { createRoomAuth, RoomAuthError, loadRoomSecret, type RoomAuth, type RoomAuthOptions, type RoomCredential, type MintInput, type Role } from './auth/index.js';
export { createLogger } from './log/logger.js';
