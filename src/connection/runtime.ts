// Live handles of a connection, kept out of machine context (which stays plain data):
// the machine's actors look them up by the connection id in their input.
import type { Logger } from 'pino';
import type { TransportExit, TransportFactory } from '../transport/types.js';
import type { RpcEngine } from './rpc-engine.js';
import { liveRegistry } from '../util/live-registry.js';

export interface ClientInfo {
  name: string;
  title: string | null;
  version: string;
}

export interface ConnectionRuntime {
  engine: RpcEngine;
  open: TransportFactory;
  log: Logger;
  clientInfo: ClientInfo;
  experimentalApi: boolean;
  onPid?: (pid: number | undefined) => void;
  /** The transport ended (before the machine hears of it). */
  onClosed?: (exit: TransportExit) => void;
}

export const connectionRuntimes = liveRegistry<ConnectionRuntime>('connection runtime');
