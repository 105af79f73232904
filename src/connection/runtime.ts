// Live handles of a connection, kept out of machine context (which stays plain data):
// the machine's actors look them up by the connection id in their input.
import type { Logger } from 'pino';
import type { TransportExit, TransportFactory } from '../transport/types.js';
import type { RpcEngine } from './rpc-engine.js';

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

const runtimes = new Map<string, ConnectionRuntime>();

export const connectionRuntimes = {
  register(id: string, rt: ConnectionRuntime): void {
    if (runtimes.has(id)) throw new Error(`connection id "${id}" is already registered`);
    runtimes.set(id, rt);
  },
  get(id: string): ConnectionRuntime {
    const rt = runtimes.get(id);
    if (!rt) throw new Error(`no runtime registered for connection "${id}"`);
    return rt;
  },
  unregister(id: string): void {
    runtimes.delete(id);
  },
};
