// The `llm` backend's settings: where its Responses-API endpoint is and which environment
// variable holds the key. The key itself is never in the config (nor in a log or status).
import { z } from 'zod';
import { MAX_TIMER_MS } from '../turn/limits.js';

export const DEFAULT_LLM_MODEL = 'gpt-5.5';
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const LlmConfigSchema = z.strictObject({
  /** Bare model names (and other providers' refs) go to the llm backend; `codex/*` and `openai/*` stay Codex's. */
  enabled: z.boolean().default(false),
  /** The Responses-API endpoint, e.g. `https://api.openai.com/v1` (default: OPENAI_BASE_URL, else that). */
  baseUrl: z.url({ protocol: /^https?$/, error: 'write an http(s) URL such as "https://api.openai.com/v1"' }).optional(),
  /** The environment variable holding the API key. */
  apiKeyEnv: z.string().regex(ENV_NAME, 'write an environment variable name such as "OPENAI_API_KEY"').default('OPENAI_API_KEY'),
  /** The model of an agent whose configured model is not the llm backend's. */
  model: z.string().min(1).max(200).default(DEFAULT_LLM_MODEL),
  /** Retries of a 408/409/429/5xx or a network error (the client's backoff; Retry-After honoured). */
  maxRetries: z.number().int().min(0).max(10).default(2),
  requestTimeoutMs: z.number().int().positive().max(MAX_TIMER_MS).default(600_000),
  /** At most this many earlier messages of the room thread are sent as history. */
  historyMessages: z.number().int().min(0).max(10_000).default(200),
});
export type LlmConfig = z.output<typeof LlmConfigSchema>;

export const LLM_CONFIG_DEFAULT: LlmConfig = LlmConfigSchema.parse({});

/** Endpoint and key as resolved from the config and the environment. */
export interface LlmEndpoint {
  baseUrl: string;
  /** Undefined: no key in the environment (a local endpoint may need none). */
  apiKey: string | undefined;
  /** Where the key is looked up, for messages (never the key). */
  apiKeyEnv: string;
  /** The base URL was given (config or OPENAI_BASE_URL), not the default. */
  explicitBaseUrl: boolean;
}

export function resolveLlmEndpoint(config: LlmConfig, env: NodeJS.ProcessEnv): LlmEndpoint {
  const fromEnv = env.OPENAI_BASE_URL?.trim() || undefined;
  const baseUrl = config.baseUrl ?? fromEnv;
  const apiKey = env[config.apiKeyEnv]?.trim() || undefined;
  return { baseUrl: baseUrl ?? DEFAULT_OPENAI_BASE_URL, apiKey, apiKeyEnv: config.apiKeyEnv, explicitBaseUrl: baseUrl !== undefined };
}
