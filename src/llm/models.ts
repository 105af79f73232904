// The llm backend's models for one agent: the refs of its `models` list that are the llm
// backend's (everything but `codex/*` and `openai/*`), else its configured model, else
// `llm.model`. `/model` on this backend accepts one of them, by ref, by name or by alias.
import type { AgentSpec } from '../supervisor/harness.js';
import { backendOf, llmModelName } from '../session/model-refs.js';
import type { LlmConfig } from './settings.js';

export class LlmModels {
  /** The llm refs of the agent's list, as configured (empty: no list, any name is accepted). */
  readonly listed: string[];
  readonly defaultModel: string;

  constructor(
    private readonly agent: Pick<AgentSpec, 'model' | 'models' | 'modelAliases'>,
    llm: Pick<LlmConfig, 'model'>,
  ) {
    const mine = (ref: string) => backendOf(ref, true) === 'llm';
    this.listed = (agent.models ?? []).filter(mine);
    const configured = agent.model && mine(agent.model) ? agent.model : undefined;
    this.defaultModel = configured ?? this.listed[0] ?? llm.model;
  }

  names(): string[] {
    return this.listed.length ? this.listed : [this.defaultModel];
  }

  /** The ref `typed` names (a listed ref, its model name, or an alias), else undefined. */
  find(typed: string): string | undefined {
    const t = typed.trim();
    const lower = t.toLowerCase();
    const alias = Object.entries(this.agent.modelAliases ?? {}).find(([a]) => a.toLowerCase() === lower)?.[1];
    const wanted = (alias ?? t).toLowerCase();
    const hit = this.names().find((r) => r.toLowerCase() === wanted || llmModelName(r).toLowerCase() === llmModelName(wanted));
    if (hit) return hit;
    // With no list configured, any llm model name is accepted (the endpoint is the judge).
    return !this.listed.length && backendOf(t, true) === 'llm' && t.length <= 200 && !/[\s\u0000-\u001f\u007f-\u009f]/.test(t) ? t : undefined;
  }

  describe(current: string | undefined): string {
    const lines = this.names().map((r) => `- ${r}${r === current ? ' [current]' : ''}${r === this.defaultModel ? ' [default]' : ''}`);
    return `Models (llm backend):\n${lines.join('\n')}${this.listed.length ? '' : '\n(no list configured: /model accepts any llm model name)'}`;
  }
}
