export * from './types.js';
export { classifyServerRequest, answerFor, denialVerdict, displayCommand, type Classification, type AnswerVerdict } from './classify.js';
export { formFields, validateFormContent, type FormField } from './form.js';
export {
  GuardianReviewer,
  GuardianPolicySchema,
  GuardianRuleSchema,
  evaluatePolicy,
  parseGuardianPolicy,
  type GuardianPolicy,
  type GuardianPolicyInput,
  type GuardianRule,
  type GuardianVerdict,
} from './guardian.js';
export { globToRegExp, hostMatches, parseCommand, pathMatches } from './match.js';
export {
  ApprovalRouter,
  type ApprovalConnection,
  type ApprovalRouterOptions,
  type ApprovalSessionContext,
  type DecideInput,
  type DecideResult,
  type PendingApproval,
} from './router.js';
export { resolveApprovalSettings, ApprovalModeSchema, type ApprovalMode, type ApprovalSettings } from './settings.js';
export { ToolRegistry, type DynamicTool, type ToolCallContext, type ToolCallResult, type ToolContentItem } from './tools.js';
export { UserReviewer } from './user-reviewer.js';
export { approvalMachine, type ApprovalMachine, type ApprovalMachineInput } from '../../machines/approval.machine.js';
