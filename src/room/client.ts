// One room socket's state, shared by the socket owner (server.ts) and the frame handler (frames.ts).
import type { WebSocket } from 'ws';
import type { TokenBucket } from './limits.js';
import type { Participant } from './protocol.js';

export interface Client {
  ws: WebSocket;
  addr: string;
  room?: string;
  participant?: Participant;
  filter: { channel?: string; thread?: string };
  joining: boolean;
  joined: boolean;
  closing: boolean;
  history: TokenBucket;
  joinTimer?: NodeJS.Timeout;
  detach?: () => void;
  /** Stops this socket's inspector subscription. */
  uninspect?: () => void;
}
