// The dispatch tables: server-request method → its module (schema and prompt), approval
// kind → its module (answer). Adding a request kind means one file and one line here.
import type { ApprovalKind } from '../types.js';
import { commandKind, commandRequest } from './command.js';
import { dynamicToolKind, dynamicToolRequest } from './dynamic-tool.js';
import { elicitationRequest } from './elicitation.js';
import { fileChangeKind, fileChangeRequest } from './file-change.js';
import { legacyCommandKind, legacyCommandRequest, legacyPatchKind, legacyPatchRequest } from './legacy.js';
import { mcpFormKind } from './mcp-form.js';
import { mcpToolApprovalKind } from './mcp-tool-approval.js';
import { mcpUrlKind } from './mcp-url.js';
import { permissionsKind, permissionsRequest } from './permissions.js';
import type { KindModule, MethodModule } from './shared.js';
import { userInputKind, userInputRequest } from './user-input.js';

const methods: MethodModule[] = [
  commandRequest,
  fileChangeRequest,
  permissionsRequest,
  elicitationRequest,
  userInputRequest,
  dynamicToolRequest,
  legacyCommandRequest,
  legacyPatchRequest,
] as MethodModule[];

export const requestMethods: ReadonlyMap<string, MethodModule> = new Map(methods.map((m) => [m.method, m]));

export const answerKinds: Readonly<Record<ApprovalKind, KindModule>> = {
  command: commandKind,
  fileChange: fileChangeKind,
  permissions: permissionsKind,
  mcpToolApproval: mcpToolApprovalKind,
  mcpForm: mcpFormKind,
  mcpUrl: mcpUrlKind,
  userInput: userInputKind,
  dynamicTool: dynamicToolKind,
  legacyCommand: legacyCommandKind,
  legacyPatch: legacyPatchKind,
};

export { displayCommand, type AnswerVerdict, type Classification } from './shared.js';
