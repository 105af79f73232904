// The fault suite's model: the project's scripted model, plus text streamed slowly (one
// delta every `everyMs`) so a test can kill the app-server while deltas are still flowing.
import { startMockModel, type MockModel, type Script, type Step, type TextItem, type ResponsesRequest } from './mock-model.js';

export type FaultStep = Step;
export type FaultScript = Script;
export type FaultModel = MockModel & { readonly slowDeltasSent: number };

export function slowText(text: string, chunks: number, everyMs: number): TextItem {
  return { text, chunks, everyMs };
}

/** Everything the model saw in one request, as text (for "contains the earlier conversation"). */
export const requestText = (req: ResponsesRequest | undefined): string => JSON.stringify(req?.input ?? []);

export async function startFaultModel(script: FaultScript): Promise<FaultModel> {
  const model = await startMockModel(script);
  return Object.defineProperty(model, 'slowDeltasSent', { get: () => model.deltasSent }) as FaultModel;
}
