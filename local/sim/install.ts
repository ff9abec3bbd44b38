/**
 * Hooks the simulated account into the real AWS SDK v3 clients and into `tls.connect`.
 *
 * SDK: `send` of each client class is wrapped so that, on first use, a client instance gets one
 * extra middleware, `simulatedAwsAccount`, at step `deserialize` with priority `high`. In the
 * SDK's stack that is inside `retryMiddleware` and `httpSigningMiddleware` (step finalizeRequest)
 * and outside `deserializerMiddleware`: every attempt the retry strategy makes reaches the
 * simulator, which answers instead of the HTTP handler (it never calls `next`), so an injected
 * throttling error is classified and retried by the SDK exactly as a real one would be.
 *
 * Retry pauses: the same first use gives the client a retry strategy that decides exactly as the
 * SDK's own (same mode, attempts, retry quota and error classes) but pauses in simulated time:
 * each backoff pause (the SDK's exponential backoff, without its random jitter so that runs
 * repeat) and each wait of the adaptive mode's client-side rate limiter advances the simulated
 * clock instead of sleeping. Production clients are never touched: only clients that reach the
 * simulator are.
 *
 * TLS: `tls.connect` (the `node:tls` module export) is replaced: connections to a simulated host
 * name go to 127.0.0.1:<local port> of that endpoint's TLS server with the SNI name kept;
 * 127.0.0.1 / localhost / ::1 pass through; every other host fails with ENOTFOUND without any
 * network access.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { normalizeHost } from './dns';
import { SIMULATED_CLIENTS, type ServicePrefix } from './registry';

/** Where a TLS connection to a simulated host goes. */
export type TlsRoute =
  { readonly kind: 'endpoint'; readonly localPort: number } | { readonly kind: 'refused' } | { readonly kind: 'unknown' };

/** What the hooks need from a simulated account. */
export interface SimulatedBackend {
  /** Answers `service:Operation` with the SDK command's input; throws SDK exceptions. */
  handle(operation: string, input: unknown): Promise<unknown>;
  /** Resolves a host name + port to a local TLS endpoint. */
  routeTls(host: string, port: number): TlsRoute;
  readonly region: string;
  /** The simulated clock (epoch ms) and a way to let simulated time pass, for SDK retry pauses. */
  readonly clock?: { nowMs(): number; advance(seconds: number): void };
}

/** The middleware's name in the SDK stack. */
export const SIM_MIDDLEWARE_NAME = 'simulatedAwsAccount';

/** The client classes hooked (one per service of the registry), with the service prefix used in operation names. */
export { SIMULATED_CLIENTS } from './registry';
export type { ClientClass } from './service';

interface MiddlewareArgs {
  input: unknown;
}
interface MiddlewareContext {
  commandName?: string;
}
type SimMiddleware = (
  next: unknown,
  context: MiddlewareContext,
) => (args: MiddlewareArgs) => Promise<{ output: Record<string, unknown>; response: Record<string, never> }>;
interface HookableClient {
  middlewareStack: {
    add(middleware: SimMiddleware, options: { step: 'deserialize'; name: string; priority: 'high'; tags?: string[] }): void;
  };
}
type SendFn = (this: HookableClient, ...args: unknown[]) => unknown;

type ConnectFn = typeof tls.connect;

interface InstalledState {
  readonly backend: SimulatedBackend;
  readonly prototypes: Array<{ proto: Record<string, unknown>; descriptor?: PropertyDescriptor }>;
  readonly originalConnect: ConnectFn;
  readonly env: Record<string, string | undefined>;
}

const HOOKED = Symbol.for('cert-rotation.simulatedAwsAccount.hookedConnect');

let installed: InstalledState | undefined;
/** Clients that already carry the middleware (per module instance). */
const hookedClients = new WeakSet<object>();

/** The backend currently installed, if any. */
export function installedBackend(): SimulatedBackend | undefined {
  return installed?.backend;
}

function simMiddleware(service: ServicePrefix): SimMiddleware {
  return (_next, context) => async (args) => {
    const backend = installed?.backend;
    const operation = `${service}:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
    if (!backend) {
      // A client built while the sim was installed must never reach the network afterwards.
      throw Object.assign(new Error(`${operation}: the simulated AWS account is not installed any more; refusing to call AWS`), {
        name: 'SimulatedAccountNotInstalled',
      });
    }
    const result = (await backend.handle(operation, args.input)) as Record<string, unknown> | undefined;
    return {
      output: { ...(result ?? {}), $metadata: { httpStatusCode: 200, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 } },
      response: {},
    };
  };
}

/** The SDK's cap on one backoff pause. */
const MAX_RETRY_DELAY_MS = 20_000;

/** The parts of the SDK's retry strategies (`@smithy/core` retry) that the simulator replaces. */
interface BackoffStrategy {
  computeNextBackoffDelay(attempt: number): number;
  setDelayBase(delay: number): void;
}
interface RateLimiterShape {
  enabled: boolean;
  availableTokens: number;
  fillRate: number;
  refillTokenBucket(): void;
  getCurrentTimeInSeconds(): number;
  acquireTokenBucket(amount: number): Promise<void>;
}
interface RetryStrategyShape {
  retryBackoffStrategy?: BackoffStrategy;
  standardRetryStrategy?: { retryBackoffStrategy?: BackoffStrategy };
  rateLimiter?: RateLimiterShape;
}

/** A backoff that lets the pause pass in simulated time: the SDK's exponential delay, without jitter (half its range). */
function simulatedBackoff(clock: NonNullable<SimulatedBackend['clock']>): BackoffStrategy {
  let base = 50;
  return {
    setDelayBase: (delay) => {
      base = delay;
    },
    computeNextBackoffDelay: (attempt) => {
      clock.advance(Math.min(base * 2 ** attempt, MAX_RETRY_DELAY_MS) / 2 / 1000);
      return 0;
    },
  };
}

/**
 * Makes an SDK retry strategy pause in simulated time (see the module comment). Throws when the
 * SDK's strategy no longer has the shape this relies on, so that a rehearsal never sleeps silently.
 */
export function simulateRetryPauses(strategy: unknown, clock: NonNullable<SimulatedBackend['clock']>): void {
  const s = strategy as RetryStrategyShape;
  const standard = s.standardRetryStrategy ?? s;
  if (typeof standard.retryBackoffStrategy?.computeNextBackoffDelay !== 'function') {
    throw new Error('the simulated account cannot make SDK retry pauses simulated: the SDK retry strategy has no retryBackoffStrategy');
  }
  standard.retryBackoffStrategy = simulatedBackoff(clock);
  const limiter = s.rateLimiter;
  if (limiter) {
    if (typeof limiter.refillTokenBucket !== 'function' || typeof limiter.acquireTokenBucket !== 'function') {
      throw new Error('the simulated account cannot make SDK retry pauses simulated: unknown adaptive rate limiter');
    }
    limiter.getCurrentTimeInSeconds = () => clock.nowMs() / 1000;
    limiter.acquireTokenBucket = function (this: RateLimiterShape, amount: number): Promise<void> {
      if (!this.enabled) return Promise.resolve();
      this.refillTokenBucket();
      if (amount > this.availableTokens) {
        clock.advance((amount - this.availableTokens) / this.fillRate);
        this.refillTokenBucket();
      }
      this.availableTokens -= amount;
      return Promise.resolve();
    };
  }
}

interface RetryConfigurable {
  config?: { retryStrategy?: () => Promise<unknown> };
}

/** Adds the simulator middleware to a client instance (once), and makes its retry pauses simulated. Exported for tests. */
export function hookClient(client: object, service: ServicePrefix): void {
  if (hookedClients.has(client)) return;
  (client as HookableClient).middlewareStack.add(simMiddleware(service), {
    step: 'deserialize',
    name: SIM_MIDDLEWARE_NAME,
    priority: 'high',
    tags: ['SIMULATED_AWS'],
  });
  const config = (client as RetryConfigurable).config;
  const clock = installed?.backend.clock;
  const original = config?.retryStrategy;
  if (config && clock && typeof original === 'function') {
    let simulated: Promise<unknown> | undefined;
    // The retry middleware asks the client config for its strategy on every call.
    config.retryStrategy = () =>
      (simulated ??= original.call(config).then((strategy) => {
        simulateRetryPauses(strategy, clock);
        return strategy;
      }));
  }
  hookedClients.add(client);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function lookupError(host: string, code: 'ENOTFOUND' | 'ECONNREFUSED', port: number): NodeJS.ErrnoException {
  const message =
    code === 'ENOTFOUND'
      ? `getaddrinfo ENOTFOUND ${host} (not a simulated host: the rehearsal never touches the real network)`
      : `connect ECONNREFUSED ${host}:${port} (the simulated host has no TLS listener on this port)`;
  return Object.assign(new Error(message), {
    code,
    errno: code === 'ENOTFOUND' ? -3008 : -111,
    syscall: code === 'ENOTFOUND' ? 'getaddrinfo' : 'connect',
    hostname: host,
  });
}

/** Normalizes the argument forms of tls.connect into (options, callback). */
function normalizeConnectArgs(args: unknown[]): { options: tls.ConnectionOptions; callback?: () => void } | undefined {
  let options: tls.ConnectionOptions = {};
  let i: number;
  if (typeof args[0] === 'object' && args[0] !== null) {
    options = { ...(args[0] as tls.ConnectionOptions) };
    i = 1;
  } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    options.port = Number(args[0]);
    i = 1;
    if (typeof args[1] === 'string') {
      options.host = args[1];
      i = 2;
    }
    if (typeof args[i] === 'object' && args[i] !== null) {
      options = {
        ...(args[i] as tls.ConnectionOptions),
        port: options.port,
        host: options.host ?? (args[i] as tls.ConnectionOptions).host,
      };
      i += 1;
    }
  } else {
    return undefined; // a unix socket path: not a network connection
  }
  const callback = typeof args[i] === 'function' ? (args[i] as () => void) : undefined;
  return { options, callback };
}

function makeConnect(original: ConnectFn, backend: SimulatedBackend): ConnectFn {
  const patched = function (this: unknown, ...args: unknown[]): tls.TLSSocket {
    const call = (...a: unknown[]) => (original as (...x: unknown[]) => tls.TLSSocket).apply(tls, a);
    const normalized = normalizeConnectArgs(args);
    if (!normalized) return call(...args);
    const { options, callback } = normalized;
    if (options.socket || options.path) return call(...args);
    const rawHost = options.host ?? 'localhost';
    if (LOOPBACK.has(rawHost)) return call(...args);
    const host = normalizeHost(rawHost);
    const port = Number(options.port ?? 443);
    const servername = options.servername ?? (isIP(host) ? undefined : host);
    const route = backend.routeTls(host, port);
    const rest = callback ? [callback] : [];
    if (route.kind === 'endpoint') {
      return call({ ...options, host: '127.0.0.1', port: route.localPort, servername }, ...rest);
    }
    // Fail like DNS (or a closed port) would, through the socket's own error path, without network.
    const error = lookupError(host, route.kind === 'refused' ? 'ECONNREFUSED' : 'ENOTFOUND', port);
    return call(
      {
        ...options,
        host: 'simulated-host.invalid',
        port,
        servername,
        lookup: ((_hostname: string, _opts: unknown, cb: (err: NodeJS.ErrnoException) => void) =>
          process.nextTick(cb, error)) as unknown as tls.ConnectionOptions['lookup'],
      },
      ...rest,
    );
  };
  Object.defineProperty(patched, HOOKED, { value: true });
  return patched;
}

const FAKE_ENV: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: 'AKIASIMULATED0000000',
  AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key-not-a-real-one',
};

/**
 * Installs the hooks for `backend`. Throws if another backend is installed (in this module
 * instance, or — through the shared `tls` module — in another one that was not uninstalled).
 */
export function installSimulatedAws(backend: SimulatedBackend): void {
  if (installed) throw new Error('a simulated AWS account is already installed: uninstall() it first');
  if ((tls.connect as unknown as Record<symbol, unknown>)[HOOKED]) {
    throw new Error('tls.connect is already patched by a simulated AWS account that was never uninstalled (missing close()/uninstall())');
  }
  const env: Record<string, string | undefined> = {};
  const setEnv = (k: string, v: string) => {
    env[k] = process.env[k];
    process.env[k] = v;
  };
  if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
    for (const [k, v] of Object.entries(FAKE_ENV)) setEnv(k, v);
    if (process.env.AWS_SESSION_TOKEN !== undefined) {
      env.AWS_SESSION_TOKEN = process.env.AWS_SESSION_TOKEN;
      delete process.env.AWS_SESSION_TOKEN;
    }
  }
  if (!process.env.AWS_REGION) setEnv('AWS_REGION', backend.region);

  const prototypes: InstalledState['prototypes'] = [];
  for (const [cls, service] of SIMULATED_CLIENTS) {
    const proto = cls.prototype as Record<string, unknown>;
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'send');
    const originalSend = proto.send as SendFn;
    const wrapped: SendFn = function (this: HookableClient, ...args: unknown[]) {
      hookClient(this, service);
      return originalSend.apply(this, args);
    };
    Object.defineProperty(proto, 'send', { value: wrapped, writable: true, configurable: true, enumerable: false });
    prototypes.push({ proto, descriptor });
  }

  const originalConnect = tls.connect;
  (tls as { connect: ConnectFn }).connect = makeConnect(originalConnect, backend);
  installed = { backend, prototypes, originalConnect, env };
}

/** Removes the hooks and restores `send`, `tls.connect` and the environment. No-op when not installed. */
export function uninstallSimulatedAws(backend?: SimulatedBackend): void {
  if (!installed) return;
  if (backend && installed.backend !== backend) return;
  for (const { proto, descriptor } of installed.prototypes) {
    if (descriptor) Object.defineProperty(proto, 'send', descriptor);
    else delete proto.send;
  }
  (tls as { connect: ConnectFn }).connect = installed.originalConnect;
  for (const [k, v] of Object.entries(installed.env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  installed = undefined;
}
