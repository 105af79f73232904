// `switchboard join --url`: bridges a local supervisor to a remote room server as the
// room's agent participant.
import WebSocket from 'ws';
import type { Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { Supervisor } from '../supervisor/supervisor.js';

export interface AgentClientOptions {
  url: string;
  room: string;
  agentName: string;
  token?: string;
  log?: Logger;
}

export class AgentClient {
  private ws: WebSocket | undefined;
  private sub: Subscription | undefined;

  constructor(
    private readonly sb: Supervisor,
    private readonly o: AgentClientOptions,
  ) {}

  /** Resolves once joined; rejects with the close reason when the room refuses us. */
  connect(): Promise<void> {
    const ws = new WebSocket(this.o.url);
    this.ws = ws;
    return new Promise((resolve, reject) => {
      let joined = false;
      ws.on('open', () =>
        ws.send(JSON.stringify({ type: 'join', room: this.o.room, token: this.o.token, participant: { id: this.o.agentName, name: this.o.agentName, role: 'agent' } })),
      );
      ws.on('error', (err) => {
        if (!joined) reject(new Error(`cannot reach room server ${this.o.url}: ${err.message}`));
      });
      ws.on('close', (code, reason) => {
        if (!joined) reject(Object.assign(new Error(`room refused the join (${code}): ${String(reason) || 'closed'}`), { code }));
        else this.o.log?.warn({ code, reason: String(reason) }, 'room connection closed');
      });
      ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as Record<string, unknown>;
        if (f.type === 'joined') {
          joined = true;
          this.sub = this.sb.events$.subscribe((e) => {
            if (e.session.split('/', 1)[0] === this.o.room && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'agent.event', event: e }));
          });
          resolve();
        } else if (f.type === 'agent.message') {
          const m = f.message as Parameters<Supervisor['post']>[0];
          this.sb.post(m).catch((err: unknown) => this.o.log?.error({ err }, 'post from room failed'));
        } else if (f.type === 'agent.decide') {
          const r = this.sb.decide({ approvalId: String(f.approvalId), by: String(f.by), decision: String(f.decision), content: f.content });
          ws.send(JSON.stringify({ type: 'agent.decided', requestId: f.requestId, ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) }));
        } else if (f.type === 'error') {
          this.o.log?.warn({ error: f.error }, 'room server error');
        }
      });
    });
  }

  close(): void {
    this.sub?.unsubscribe();
    this.ws?.close();
  }
}
