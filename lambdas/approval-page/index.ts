import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { awsClient } from '../shared/aws-clients';
import { lazy, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { errorPage, handlePage, type PageRequest, type PageResponse } from './domain';
import { ApprovalStore } from './store';

/** The Lambda function URL event (payload format 2.0), the fields the page reads. */
export interface FunctionUrlEvent {
  readonly rawPath: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly requestId: string; readonly http: { readonly method: string } };
}

/** The function URL response. */
export interface FunctionUrlResult extends PageResponse {
  readonly isBase64Encoded: false;
}

/** The page's request from a function URL event (headers are lowercase there). */
export function pageRequestOf(event: FunctionUrlEvent): PageRequest {
  const body =
    event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const contentType = event.headers?.['content-type'];
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    requestId: event.requestContext.requestId,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(body !== undefined ? { body } : {}),
  };
}

// Not `defineHandler`: this is an HTTP handler, not a state's task. It has the same parts (env
// read once, clients from the factory, one logger) and never lets an error reach the caller:
// the error is logged (never the path, which holds the approval id) and the page shows a
// correlation id.
const container = lazy(() => ({
  logger: createLogger('approval-page'),
  approvals: new ApprovalStore(awsClient(DynamoDBClient), requireEnv('APPROVAL_TABLE')),
  sfn: awsClient(SFNClient),
}));

export async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult> {
  const requestId = event.requestContext.requestId;
  let deps: ReturnType<typeof container> | undefined;
  try {
    deps = container();
    deps.logger.resetKeys();
    deps.logger.appendKeys({ correlationId: requestId });
    const response = await handlePage(pageRequestOf(event), { ...deps, now: () => new Date() });
    deps.logger.info('request', { method: event.requestContext.http.method, status: response.statusCode });
    return { ...response, isBase64Encoded: false };
  } catch (error) {
    const e = error as { name?: string; message?: string };
    (deps?.logger ?? createLogger('approval-page')).error('request failed', {
      correlationId: requestId,
      error: `${e.name ?? 'Error'}: ${e.message ?? ''}`,
    });
    return { ...errorPage(requestId), isBase64Encoded: false };
  }
}
