import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger factory. Domain code receives the narrow `DomainLogger`, so it can only log
 * structured messages; it never sees the Powertools instance. Never log a private key, a task
 * token, a secret value or a whole SDK response.
 */
export type DomainLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: `cert-rotation-${serviceName}` });
}

/** Appends the per-execution keys once per invocation. */
export function withExecution(logger: Logger, executionName: string | undefined): Logger {
  logger.resetKeys();
  if (executionName) logger.appendKeys({ execution: executionName });
  return logger;
}

/** A logger that drops everything: for unit tests that do not assert on logs. */
export const silentLogger: DomainLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
