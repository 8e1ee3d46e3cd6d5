import * as http from 'http';
import { AddressInfo } from 'net';

export interface CannedResponse {
  readonly status?: number;
  /** An object is sent as JSON; a string as-is (for malformed bodies). */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Answer only after this long (for timeout tests). */
  readonly delayMs?: number;
}

export interface RecordedRequest {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: { query: string; variables: { accountId: number } & Record<string, unknown> };
}

/** A stand-in for NerdGraph on 127.0.0.1: answers each POST with the next canned response (the last one repeats). */
export class FakeNerdGraph {
  public readonly requests: RecordedRequest[] = [];
  private responses: CannedResponse[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<import('net').Socket>();

  constructor() {
    this.server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => { data += String(c); });
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body: JSON.parse(data) });
        const next = this.responses.length > 1 ? this.responses.shift()! : this.responses[0] ?? { status: 500, body: 'no canned response' };
        const send = () => {
          if (res.destroyed) return;
          const body = typeof next.body === 'string' ? next.body : JSON.stringify(next.body ?? {});
          res.writeHead(next.status ?? 200, { 'content-type': 'application/json', ...next.headers });
          res.end(body);
        };
        if (next.delayMs) setTimeout(send, next.delayMs); else send();
      });
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graphql`;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  respondWith(...responses: CannedResponse[]): void {
    this.responses = [...responses];
    this.requests.length = 0;
  }

  stop(): Promise<void> {
    this.sockets.forEach((s) => s.destroy());
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A NerdGraph success body with the given NRQL result rows, one list per aliased query (q0, q1, ...). */
export const nrqlResults = (...perQuery: unknown[][]): unknown => ({
  data: { actor: { account: Object.fromEntries(perQuery.map((results, i) => [`q${i}`, { results }])) } },
});
