/**
 * The shape of one simulated service, as the registry (`registry.ts`) composes it. Each service
 * file (`iam.ts`, `elb.ts`...) ends with one `defineService({...})`: its operation names, SDK
 * client class and exception module, throttling code and default request rates, how it is built
 * and seeded from the fleet, and (optionally) which certificates it uses, what it records for the
 * secret scan and which TLS targets it serves. Nothing else in the simulator names a service's
 * operations.
 *
 * Types only here (and the identity `defineService`): this module imports no service.
 */
import type { SimClock } from './clock';
import type { CertificateRef, FleetSpec } from './fleet';
import type { SdkExceptions } from './errors';
import type { IamServerCertificate } from './iam';
import type { TargetDef, TargetContext } from './targets';

/** A client constructor (only its prototype is used). */
export type ClientClass = { prototype: object; name: string };

/** A simulated operation: takes the SDK command input, returns its output without `$metadata`. */
export type SimHandler = (input: never) => unknown;

/** The handlers object a service class exposes as `operations`, for the names `N`. */
export type OperationsOf<N extends readonly string[]> = { readonly [K in N[number]]: SimHandler };

/** Places the secret scan searches, with the recorded text, in the order the account lists them. */
export const RECORDED_PLACES = ['notifications', 'ssm parameters', 'ssm output', 's3 objects', 'secrets', 'approval store'] as const;

/** One of {@link RECORDED_PLACES}. */
export type RecordedPlace = (typeof RECORDED_PLACES)[number];

/** A piece of text the account recorded, for the secret scan. */
export interface RecordedText {
  readonly place: RecordedPlace;
  /** Which item (topic ARN, parameter name, s3://bucket/key, secret name). */
  readonly name: string;
  readonly text: string;
}

/** What a service is built from. */
export interface ServiceContext {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  readonly fleet: FleetSpec;
  /** A service built before this one (registry order), by prefix: `ctx.service<SimIam>('iam')`. */
  service<T>(prefix: string): T;
}

/** What a service is seeded with, after IAM holds the fleet's certificates. */
export interface SeedContext {
  readonly fleet: FleetSpec;
  /** IAM ARN of `current` / `other`. */
  readonly certificateArn: (ref: CertificateRef) => string;
  /** IAM ServerCertificateId of `current` / `other`. */
  readonly certificateId: (ref: CertificateRef) => string;
}

/** One simulated service. `P` its prefix in operation names, `A` its property on the account, `N` its operation names. */
export interface SimServiceDefinition<
  P extends string,
  A extends string,
  N extends readonly string[],
  S extends { readonly operations: OperationsOf<N> },
> {
  /** Prefix in operation names (`iam:UploadServerCertificate`) and in the faults file. */
  readonly prefix: P;
  /** Property of `SimulatedAccount` that holds the service (`account.secretsManager`). */
  readonly property: A;
  /** Every operation it answers (the SDK command name minus `Command`); `S['operations']` holds exactly these. */
  readonly operations: N;
  /** The SDK v3 client class whose `send` is hooked. */
  readonly client: ClientClass;
  /** The SDK package (its exception classes) and the name of its `*ServiceException` base class. */
  readonly sdk: SdkExceptions;
  /** The error code it throttles with. */
  readonly throttlingCode: string;
  /** Simulated requests per second (`service:Operation` or `service:*`) when the fleet's `apiRates` do not say. */
  readonly defaultRates?: Readonly<Record<string, number>>;
  create(ctx: ServiceContext): S;
  /** Creates the fleet's resources. */
  seed?(service: S, ctx: SeedContext): void;
  /** Where an IAM certificate is in use (ARNs), for IAM DeleteServerCertificate's DeleteConflict. */
  certificateUsers?(service: S, entry: IamServerCertificate): string[];
  /** Text it holds that the secret scan must search. */
  recorded?(service: S): RecordedText[];
  /** The places it serves a certificate over TLS, in fleet order. */
  targets?(service: S, ctx: TargetContext): TargetDef[];
}

/** Any service definition (the registry's element type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds services of different types; each keeps its own through `as const`
export type AnySimService = SimServiceDefinition<string, string, readonly string[], any>;

/** Declares a service (an identity function that keeps the literal types for the registry). */
export function defineService<
  const P extends string,
  const A extends string,
  const N extends readonly string[],
  S extends { readonly operations: OperationsOf<N> },
>(definition: SimServiceDefinition<P, A, N, S>): SimServiceDefinition<P, A, N, S> {
  return definition;
}
