// Server-request params as codex app-server 0.169 sends them (captured from the real binary
// where it sends them in these tests' scenarios; the others follow the generated types).
import type { ServerRequestData } from '../../src/approvals/types.js';

export const THREAD = 'thr-1';
export const TURN = 'turn-1';

export const commandParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  itemId: 'call_2',
  command: "/bin/bash -lc 'echo hi > out.txt'",
  cwd: '/ws',
  reason: 'The test needs to run this outside the sandbox.',
  commandActions: [{ type: 'unknown', command: 'echo hi > out.txt' }],
  proposedExecpolicyAmendment: ['/bin/bash', '-lc', 'echo hi > out.txt'],
  availableDecisions: [
    'accept',
    { acceptWithExecpolicyAmendment: { execpolicy_amendment: ['/bin/bash', '-lc', 'echo hi > out.txt'] } },
    'cancel',
  ],
  kind: 'command',
  startedAtMs: 1,
  environmentId: 'local',
  ...over,
});

export const fileChangeParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  itemId: 'call_3',
  reason: null,
  grantRoot: null,
  startedAtMs: 1,
  ...over,
});

export const permissionsParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  itemId: 'perm_1',
  environmentId: null,
  startedAtMs: 1,
  cwd: '/ws',
  reason: 'needs the cache and the network',
  permissions: { network: { enabled: true }, fileSystem: { read: ['/ws/cache'], write: ['/ws/out', '/ws/tmp'] } },
  ...over,
});

export const toolApprovalParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  serverName: 'test',
  mode: 'form',
  message: 'Allow the test MCP server to run tool "echo"?',
  requestedSchema: { type: 'object', properties: {} },
  _meta: {
    codex_approval_kind: 'mcp_tool_call',
    persist: ['session', 'always'],
    tool_name: 'echo',
    tool_description: 'Echo the given text back.',
    tool_params: { text: 'hello' },
    tool_params_display: [{ name: 'text', value: 'hello', display_name: 'text' }],
  },
  ...over,
});

export const FORM_SCHEMA = {
  type: 'object',
  properties: {
    age: { type: 'integer', title: 'Age', minimum: 0, maximum: 150 },
    color: { type: 'string', title: 'Favourite colour', enum: ['red', 'green', 'blue'] },
    name: { type: 'string', title: 'Name', minLength: 1 },
  },
  required: ['name', 'age'],
};

export const formParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  serverName: 'test',
  mode: 'form',
  message: 'Please fill in the form',
  requestedSchema: FORM_SCHEMA,
  _meta: null,
  ...over,
});

export const urlParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  serverName: 'test',
  mode: 'url',
  message: 'Log in to continue',
  url: 'https://auth.example.com/login?x=1',
  elicitationId: 'el-1',
  _meta: null,
  ...over,
});

export const userInputParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  itemId: 'q_1',
  isBlocking: true,
  autoResolutionMs: null,
  questions: [
    {
      id: 'db',
      header: 'Database',
      question: 'Which database?',
      isOther: false,
      isSecret: false,
      options: [
        { label: 'postgres', description: 'PostgreSQL' },
        { label: 'sqlite', description: 'SQLite' },
      ],
    },
    { id: 'name', header: 'Name', question: 'Project name?', isOther: true, isSecret: false, options: null },
  ],
  ...over,
});

export const toolCallParams = (over: Record<string, unknown> = {}) => ({
  threadId: THREAD,
  turnId: TURN,
  callId: 'dc_1',
  namespace: null,
  tool: 'lookup',
  arguments: { key: 'a' },
  ...over,
});

export const legacyExecParams = (over: Record<string, unknown> = {}) => ({
  conversationId: THREAD,
  callId: 'lc_1',
  approvalId: null,
  command: ['bash', '-lc', 'rm -rf build'],
  cwd: '/ws',
  reason: null,
  parsedCmd: [],
  ...over,
});

export const legacyPatchParams = (over: Record<string, unknown> = {}) => ({
  conversationId: THREAD,
  callId: 'lp_1',
  fileChanges: { '/ws/a.txt': { type: 'add', content: 'a' } },
  reason: null,
  grantRoot: null,
  ...over,
});

let nextId = 0;
export function serverRequest(method: string, params: Record<string, unknown>): ServerRequestData {
  const threadId = typeof params.threadId === 'string' ? params.threadId : typeof params.conversationId === 'string' ? params.conversationId : undefined;
  return { id: nextId++, method, params, threadId };
}

/** One sample request per method Switchboard answers. */
export const samples: Record<string, () => Record<string, unknown>> = {
  'item/commandExecution/requestApproval': commandParams,
  'item/fileChange/requestApproval': fileChangeParams,
  'item/permissions/requestApproval': permissionsParams,
  'mcpServer/elicitation/request': formParams,
  'item/tool/requestUserInput': userInputParams,
  'item/tool/call': toolCallParams,
  execCommandApproval: legacyExecParams,
  applyPatchApproval: legacyPatchParams,
};
