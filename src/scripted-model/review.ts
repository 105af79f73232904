// What a model answers to a Codex review request: JSON in Codex's review output format
// (findings with locations, an overall verdict), which Codex turns into the text of
// `exitedReviewMode.review`. For scripted models that take part in `/codex review`.
import type { ResponsesRequest, TextItem } from './server.js';

export interface ReviewFinding {
  title: string;
  body: string;
  /** Absolute path of the file the finding is about. */
  file: string;
  lines?: { start: number; end: number };
  /** 0 (must fix) to 3 (nit). */
  priority?: number;
}

export function reviewAnswer(explanation: string, findings: ReviewFinding[] = []): TextItem {
  const json = {
    findings: findings.map((f) => ({
      title: f.title,
      body: f.body,
      confidence_score: 0.8,
      priority: f.priority ?? 1,
      code_location: { absolute_file_path: f.file, line_range: f.lines ?? { start: 1, end: 1 } },
    })),
    overall_correctness: findings.length ? 'patch is incorrect' : 'patch is correct',
    overall_explanation: explanation,
    overall_confidence_score: 0.8,
  };
  return { text: JSON.stringify(json), chunks: 1 };
}

const texts = (req: ResponsesRequest, role: string): string[] =>
  req.input
    .filter((item) => item.role === role && Array.isArray(item.content))
    .flatMap((item) => (item.content as Array<{ text?: unknown }>).map((c) => (typeof c.text === 'string' ? c.text : '')));

/** Codex asks for a review: its review guidelines lead the request. */
export const isReviewRequest = (req: ResponsesRequest): boolean => texts(req, 'developer').some((t) => t.startsWith('# Review guidelines'));

/** Codex asks for a compaction summary of the conversation. */
export const isCompactionRequest = (req: ResponsesRequest): boolean => texts(req, 'user').some((t) => t.includes('CONTEXT CHECKPOINT COMPACTION'));
