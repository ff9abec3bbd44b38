/**
 * Opening and closing the maintenance window of a rotation (the token from Secrets Manager), for
 * the maintenance-window handler (lambdas/maintenance-window): its open state runs after Approval 1,
 * before the upload; its close states run before each finish (success, and the failure path after
 * the rollback).
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DomainLogger } from './logger';
import { closeWindows, openWindow, type PagerDutySettings } from './pager-duty';

/** The PagerDuty part of the config, as the stack hands it to a function (PAGER_DUTY, JSON). */
export interface PagerDutyEnv {
  readonly serviceName: string;
  readonly serviceIds: readonly string[];
  readonly apiUrl: string;
  readonly fromEmail: string;
  /** Secrets Manager secret whose string is the REST API token. */
  readonly tokenSecretId: string;
  /** The window's end, from its opening: long enough for the whole execution (it is ended explicitly at the end). */
  readonly windowMinutes: number;
}

export interface OpenMaintenanceParams {
  readonly secrets: SecretsManagerClient;
  readonly logger: DomainLogger;
  readonly now: () => Date;
  readonly domain: string;
  readonly executionName: string;
  readonly pagerDuty: PagerDutyEnv;
}

export interface OpenMaintenanceResult {
  readonly windowId: string;
  readonly services: readonly string[];
  readonly endTime: string;
  readonly reused: boolean;
}

/**
 * The rehearsal's variable: the local stand-in (local/pager-duty-standin.ts) is plain HTTP on
 * 127.0.0.1. The stack never sets it (a construct test holds that), the config cannot (no field
 * maps to it), and only a loopback `http://127.0.0.1:<port>` origin is accepted, so a token can
 * never travel in clear to another host. It is read from `process.env` here, not declared by the
 * handler's index.ts, on purpose: no deployment provides it.
 */
export const REHEARSAL_API_URL_VARIABLE = 'PAGER_DUTY_REHEARSAL_API_URL';
const LOOPBACK_HTTP = /^http:\/\/127\.0\.0\.1:\d{1,5}$/;
const HTTPS_ORIGIN = /^https:\/\/[a-z0-9.-]+(:\d+)?$/;

/**
 * The PagerDuty settings a function runs with: the stack's (an https origin, as the config
 * requires; anything else is refused here too), or the rehearsal's loopback stand-in.
 */
export function resolvePagerDutyEnv(pd: PagerDutyEnv, rehearsalApiUrl = process.env[REHEARSAL_API_URL_VARIABLE]): PagerDutyEnv {
  if (rehearsalApiUrl) {
    if (!LOOPBACK_HTTP.test(rehearsalApiUrl)) {
      throw new Error(`${REHEARSAL_API_URL_VARIABLE} must be http://127.0.0.1:<port> (the rehearsal's stand-in), not "${rehearsalApiUrl}"`);
    }
    return { ...pd, apiUrl: rehearsalApiUrl };
  }
  if (!HTTPS_ORIGIN.test(pd.apiUrl))
    throw new Error(`the PagerDuty apiUrl "${pd.apiUrl}" is not an https:// origin: the token would travel in clear`);
  return pd;
}

/** The API settings, the token read from Secrets Manager (never logged or returned). */
export async function pagerDutySettings(secrets: SecretsManagerClient, pd: PagerDutyEnv): Promise<PagerDutySettings> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: pd.tokenSecretId }));
  const token = (out.SecretString ?? '').trim();
  if (!token) throw new Error(`the PagerDuty token secret ${pd.tokenSecretId} holds no string`);
  return { apiUrl: pd.apiUrl, token, fromEmail: pd.fromEmail, serviceIds: pd.serviceIds };
}

/** Opens the maintenance window of the configured services before the first change monit could see. */
export async function openMaintenance(params: OpenMaintenanceParams): Promise<OpenMaintenanceResult> {
  const settings = await pagerDutySettings(params.secrets, params.pagerDuty);
  const { window, reused } = await openWindow(settings, {
    domain: params.domain,
    executionName: params.executionName,
    now: params.now(),
    minutes: params.pagerDuty.windowMinutes,
  });
  params.logger.info(`PagerDuty maintenance window ${reused ? 'already open' : 'opened'} for ${params.pagerDuty.serviceName}`, {
    windowId: window.id,
    services: params.pagerDuty.serviceIds,
    endTime: window.end_time,
  });
  return { windowId: window.id, services: params.pagerDuty.serviceIds, endTime: window.end_time, reused };
}

/**
 * Ends this execution's window, whatever the outcome (finish calls it on success and after a
 * rollback). A failure is returned as text, never thrown: the window still ends at its end time,
 * and the report must not be lost for it.
 */
export async function closeMaintenance(
  params: Omit<OpenMaintenanceParams, 'now'>,
): Promise<{ readonly closed: readonly string[] } | { readonly error: string }> {
  try {
    const settings = await pagerDutySettings(params.secrets, params.pagerDuty);
    const closed = await closeWindows(settings, params.domain, params.executionName);
    params.logger.info('PagerDuty maintenance window closed', { closed });
    return { closed };
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    params.logger.warn('could not close the PagerDuty maintenance window', { error });
    return { error };
  }
}
