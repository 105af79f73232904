// What a coverage model is: a machine with its IO stubbed, the inputs it is explored from,
// and concrete events for every event type it reacts to.
import { fromCallback, fromPromise, type AnyEventObject, type AnyStateMachine } from 'xstate';

export interface Variant {
  name: string;
  input: unknown;
  /** Events applied to the initial state first: the traversal starts where they lead. */
  prefix?: AnyEventObject[];
}

export interface MachineModel {
  id: string;
  /** The machine with its invoked actors stubbed (no IO). */
  machine: AnyStateMachine;
  variants: Variant[];
  /** Concrete events for every event type the state reacts to. */
  events(eventTypes: string[]): AnyEventObject[];
  /** Registers whatever the machine's actions look up; returns the undo. */
  setup?(): () => void;
}

/** An invoked promise that never settles, and a callback actor that does nothing: no IO. */
export const never = fromPromise(() => new Promise<never>(() => {}));
export const silent = fromCallback(() => () => {});
