/**
 * A local stand-in for PagerDuty's REST API v2 maintenance windows, on 127.0.0.1 (a port the
 * kernel picks). It checks request shapes as the documentation gives them and answers as the API
 * does: the `Authorization: Token token=...`, `Accept: application/vnd.pagerduty+json;version=2`
 * and `From` headers; POST /maintenance_windows with `{ maintenance_window: { type, start_time,
 * end_time, description, services: [{ id, type: "service_reference" }] } }` -> 201; GET
 * /maintenance_windows (filter, query, service_ids[]) -> the list; DELETE
 * /maintenance_windows/{id} -> 204 for an ongoing window (ended now), 405 for one that ended.
 * Every request is kept, with what was wrong with it, for tests and the rehearsal's report.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInWindow {
  id: string;
  type: 'maintenance_window';
  start_time: string;
  end_time: string;
  description: string;
  services: Array<{ id: string; type: 'service_reference' }>;
  /** Set when DELETE ended it. */
  endedAt?: string;
}

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** What the stand-in refused in the request (empty when it was well formed). */
  readonly problems: string[];
  /** The answer was a failure injected by {@link PagerDutyStandIn.failNext} (PagerDuty down), not a judgement of the request. */
  readonly injected?: true;
}

/** A failure to answer with, instead of handling the request: the next `count` requests of `method`. */
export interface StandInFault {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly count: number;
  /** e.g. 503 (retried by the client), 403 (not retried). */
  readonly status: number;
}

export interface PagerDutyStandIn {
  readonly url: string;
  readonly windows: StandInWindow[];
  readonly requests: StandInRequest[];
  /** Answers the next `count` requests of `method` with `status` (after the Authorization check). */
  failNext(method: StandInFault['method'], count: number, status: number): void;
  close(): Promise<void>;
}

const ACCEPT = 'application/vnd.pagerduty+json;version=2';
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Starts the stand-in. `token` is the only accepted one; `serviceIds` the services that exist. */
export async function startPagerDutyStandIn(options: {
  readonly token: string;
  readonly serviceIds: readonly string[];
  readonly now?: () => Date;
  /** Failures to inject from the start (the rehearsal's tests). @default none */
  readonly faults?: readonly StandInFault[];
  /** Called as each request arrives, before it is answered (the rehearsal notes what had changed by then). */
  readonly onRequest?: (method: string, path: string) => void;
}): Promise<PagerDutyStandIn> {
  const now = options.now ?? (() => new Date());
  const windows: StandInWindow[] = [];
  const requests: StandInRequest[] = [];
  const faults: StandInFault[] = (options.faults ?? []).map((f) => ({ ...f }));
  let next = 1;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const problems: string[] = [];
    const send = (status: number, body?: unknown) => {
      requests.push({ method: req.method ?? '', path: url.pathname, status, problems });
      res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, message: string, code: number) => send(status, { error: { message, code, errors: problems } });

    options.onRequest?.(req.method ?? '', url.pathname);
    if (req.headers.authorization !== `Token token=${options.token}`) {
      problems.push('Authorization must be "Token token=<the API token>"');
      return error(401, 'Unauthorized', 2006);
    }
    const fault = faults.findIndex((f) => f.method === req.method && f.count > 0);
    if (fault >= 0) {
      const f = faults[fault];
      faults[fault] = { ...f, count: f.count - 1 };
      requests.push({ method: req.method ?? '', path: url.pathname, status: f.status, problems, injected: true });
      res.writeHead(f.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'injected by the stand-in', code: 2001 } }));
      return;
    }
    if (req.headers.accept !== ACCEPT) problems.push(`Accept must be ${ACCEPT}`);
    const from = req.headers.from;
    if (typeof from !== 'string' || !EMAIL_RE.test(from)) problems.push('From must be the email address of a PagerDuty user');
    if (problems.length > 0) return error(400, 'Invalid Input Provided', 2001);

    const live = (w: StandInWindow) =>
      !w.endedAt && Date.parse(w.start_time) <= now().getTime() && now().getTime() < Date.parse(w.end_time);
    if (req.method === 'POST' && url.pathname === '/maintenance_windows') {
      if (req.headers['content-type'] !== 'application/json') problems.push('Content-Type must be application/json');
      let body: { maintenance_window?: Partial<StandInWindow> } = {};
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        problems.push('the body is not JSON');
      }
      const w = body.maintenance_window;
      if (!w) problems.push('maintenance_window is required');
      if (w && w.type !== 'maintenance_window') problems.push('maintenance_window.type must be "maintenance_window"');
      const start = Date.parse(w?.start_time ?? '');
      const end = Date.parse(w?.end_time ?? '');
      if (w && (Number.isNaN(start) || Number.isNaN(end) || end <= start))
        problems.push('start_time and end_time must be ISO 8601, end after start');
      if (w && (typeof w.description !== 'string' || w.description === '')) problems.push('description is required');
      const services = Array.isArray(w?.services) ? w.services : [];
      if (w && services.length === 0) problems.push('services must name at least one service');
      for (const s of services) {
        if (s?.type !== 'service_reference') problems.push('each service must be { id, type: "service_reference" }');
        else if (!options.serviceIds.includes(s.id)) problems.push(`service ${s.id} does not exist`);
      }
      if (problems.length > 0) return error(400, 'Invalid Input Provided', 2001);
      const created: StandInWindow = {
        id: `PMW${String(next++).padStart(4, '0')}`,
        type: 'maintenance_window',
        start_time: new Date(start).toISOString(),
        end_time: new Date(end).toISOString(),
        description: w!.description!,
        services: services.map((s) => ({ id: s.id, type: 'service_reference' })),
      };
      windows.push(created);
      return send(201, { maintenance_window: created });
    }
    if (req.method === 'GET' && url.pathname === '/maintenance_windows') {
      const filter = url.searchParams.get('filter');
      const query = url.searchParams.get('query');
      const services = url.searchParams.getAll('service_ids[]');
      const listed = windows
        .filter((w) => (filter === 'ongoing' ? live(w) : true))
        .filter((w) => !query || w.description.toLowerCase().includes(query.toLowerCase()))
        .filter((w) => services.length === 0 || w.services.some((s) => services.includes(s.id)));
      return send(200, { maintenance_windows: listed, limit: 100, offset: 0, more: false, total: null });
    }
    const m = /^\/maintenance_windows\/([A-Z0-9]+)$/.exec(url.pathname);
    if (req.method === 'DELETE' && m) {
      const w = windows.find((x) => x.id === m[1]);
      if (!w) return error(404, 'Not Found', 2100);
      if (!live(w)) {
        problems.push('the maintenance window has already ended');
        return error(405, 'Method Not Allowed', 2100);
      }
      w.endedAt = now().toISOString();
      return send(204);
    }
    problems.push(`no such endpoint: ${req.method ?? ''} ${url.pathname}`);
    return error(404, 'Not Found', 2100);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    windows,
    requests,
    failNext: (method, count, status) => {
      faults.push({ method, count, status });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
