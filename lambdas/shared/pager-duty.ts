/**
 * PagerDuty maintenance windows over the REST API v2, as documented: `POST /maintenance_windows`
 * to open, `GET /maintenance_windows?filter=ongoing&query=...` to find, `DELETE
 * /maintenance_windows/{id}` to end an ongoing one. Headers: `Authorization: Token token=<token>`,
 * `Accept: application/vnd.pagerduty+json;version=2`, `From: <user email>` (account-level tokens
 * need it), `Content-Type: application/json`. A window's description names the execution, so a
 * retried open finds its own window instead of opening a second one, and close finds it by name.
 * The token never appears in a log, a result or an error message.
 */

/** What a maintenance window needs. */
export interface PagerDutySettings {
  /** e.g. `https://api.pagerduty.com` */
  readonly apiUrl: string;
  readonly token: string;
  readonly fromEmail: string;
  readonly serviceIds: readonly string[];
}

/** A maintenance window as the API returns it (the fields used here). */
export interface MaintenanceWindow {
  readonly id: string;
  readonly start_time: string;
  readonly end_time: string;
  readonly description: string;
  readonly services: ReadonlyArray<{ readonly id: string }>;
}

/** A PagerDuty API call failed; the message names the call and the status, never the token. */
export class PagerDutyError extends Error {
  override readonly name = 'PagerDutyError';
}

const ATTEMPTS = 3;

async function call(settings: PagerDutySettings, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = {
    Authorization: `Token token=${settings.token}`,
    Accept: 'application/vnd.pagerduty+json;version=2',
    From: settings.fromEmail,
    ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
  };
  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    let res: Response;
    try {
      res = await fetch(`${settings.apiUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
      continue;
    }
    // 429 (rate limit) and 5xx are worth another attempt; anything else is the answer.
    if (res.status === 429 || res.status >= 500) {
      last = `HTTP ${res.status}`;
      await new Promise((r) => setTimeout(r, 500 * attempt));
      continue;
    }
    const text = await res.text();
    if (!res.ok) throw new PagerDutyError(`PagerDuty ${method} ${path.split('?')[0]} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
  throw new PagerDutyError(`PagerDuty ${method} ${path.split('?')[0]} failed after ${ATTEMPTS} attempts: ${last}`);
}

/** The description that names the execution (what open and close find a window by). */
export function windowDescription(domain: string, executionName: string): string {
  return `cert-rotation ${domain}: certificate rotation ${executionName}`;
}

/** Ongoing windows of these services whose description names the execution. */
export async function findWindows(settings: PagerDutySettings, domain: string, executionName: string): Promise<MaintenanceWindow[]> {
  const description = windowDescription(domain, executionName);
  const params = new URLSearchParams({ filter: 'ongoing', query: executionName, limit: '100' });
  for (const id of settings.serviceIds) params.append('service_ids[]', id);
  const out = (await call(settings, 'GET', `/maintenance_windows?${params.toString()}`)) as { maintenance_windows?: MaintenanceWindow[] };
  return (out.maintenance_windows ?? []).filter((w) => w.description === description);
}

/** Opens the window (or finds the one a retry already opened): now until `minutes` from now. */
export async function openWindow(
  settings: PagerDutySettings,
  p: { readonly domain: string; readonly executionName: string; readonly now: Date; readonly minutes: number },
): Promise<{ readonly window: MaintenanceWindow; readonly reused: boolean }> {
  const existing = await findWindows(settings, p.domain, p.executionName);
  if (existing[0]) return { window: existing[0], reused: true };
  const out = (await call(settings, 'POST', '/maintenance_windows', {
    maintenance_window: {
      type: 'maintenance_window',
      start_time: p.now.toISOString(),
      end_time: new Date(p.now.getTime() + p.minutes * 60_000).toISOString(),
      description: windowDescription(p.domain, p.executionName),
      services: settings.serviceIds.map((id) => ({ id, type: 'service_reference' })),
    },
  })) as { maintenance_window?: MaintenanceWindow };
  if (!out.maintenance_window?.id) throw new PagerDutyError('PagerDuty POST /maintenance_windows returned no maintenance_window id');
  return { window: out.maintenance_window, reused: false };
}

/** Ends every ongoing window of this execution (none open: nothing to do). Returns the ids ended. */
export async function closeWindows(settings: PagerDutySettings, domain: string, executionName: string): Promise<string[]> {
  const open = await findWindows(settings, domain, executionName);
  for (const w of open) await call(settings, 'DELETE', `/maintenance_windows/${encodeURIComponent(w.id)}`);
  return open.map((w) => w.id);
}
