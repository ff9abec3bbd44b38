/**
 * The simulated AWS account of the local rehearsal: the services of the registry (registry.ts:
 * IAM, classic ELB, ELBv2, CloudFront, EC2, SSM, Secrets Manager, SNS, S3, Step Functions), shaped
 * by a fleet file, with injected faults, a simulated clock, and a real TLS endpoint on 127.0.0.1
 * for every place that serves a certificate.
 *
 * Typical use:
 *   const account = await SimulatedAccount.create({ fleet, faults, current, other });
 *   account.install();                       // SDK clients and tls.connect now reach the account
 *   ... run handlers (they build ordinary SDK clients) ...
 *   await account.close();                   // stops the TLS servers and uninstalls
 */
import { SimClock } from './clock';
import { Dispatcher, type SimCall } from './dispatch';
import { SimDns } from './dns';
import {
  checkFaultsAgainstFleet,
  isNodeFault,
  isStateFault,
  isTargetFault,
  parseFaults,
  type ApiFault,
  type FaultSpec,
  type NodeFault,
  type StateFault,
} from './faults';
import { parseFleet, type CertificateRef, type FleetSpec } from './fleet';
import type { IamServerCertificate, SimCertificate } from './iam';
import { currentIamName, DEFAULT_IAM_PATH, iamNameFor, OTHER_IAM_PATH, seedIam } from './iam-seed';
import { installedBackend, installSimulatedAws, uninstallSimulatedAws, type SimulatedBackend, type TlsRoute } from './install';
import { AccountNodes } from './account-nodes';
import type { NodeFleet, NodeRuntimeName } from './nodes';
import {
  SIMULATED_OPERATIONS,
  SIMULATED_SERVICES,
  type SimInput,
  type SimOperationName,
  type SimOutput,
  type SimulatedServices,
} from './registry';
import { RECORDED_PLACES, type RecordedText, type SeedContext, type ServiceContext, type SimHandler } from './service';
import { TargetSet, type SimTarget, type TargetDef } from './targets';
import { TlsEndpoints } from './tls-endpoints';

export type { SimCertificate } from './iam';
export { isStateChanging, type SimCall } from './dispatch';
export type { RecordedPlace, RecordedText } from './service';
export type { SimInput, SimOperationName, SimOperationTable, SimOutput } from './registry';
export type { SimTarget } from './targets';

/** Options of {@link SimulatedAccount.create}. */
export interface SimulatedAccountOptions {
  /** Parsed and validated fleet file ({@link parseFleet}); re-validated here. */
  readonly fleet: FleetSpec;
  /** Parsed and validated faults file ({@link parseFaults}). @default [] */
  readonly faults?: readonly FaultSpec[];
  /** The certificate the fleet serves now (uploaded to IAM at create()). */
  readonly current: SimCertificate;
  /** An unrelated certificate, for places marked `"certificate": "other"`. */
  readonly other: SimCertificate;
  /**
   * The material of the fleet's `iamCertificates`, by name. @default for any name not given: the
   * other certificate's material, uploaded under that name
   */
  readonly iamCertificates?: Readonly<Record<string, SimCertificate>>;
  /** IAM name of `current`. @default `STAR.<domain>_<yyyy-mm-dd of its notBefore>` */
  readonly currentCertificateName?: string;
  /** IAM path of `current`. @default '/cloudfront/rehearsal/' */
  readonly iamPath?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** `nginx`: `nginx: true` instances on a real nginx each (account-nodes.ts; memory with a warning without nginx). @default 'memory' */
  readonly nodeRuntime?: 'memory' | 'nginx';
  /** Where nginx reads the certificate and key on a node (the config's `nginx` paths). @default /etc/nginx/ssl/<domain>.crt and .key */
  readonly nginxPaths?: { readonly certificatePath: string; readonly keyPath: string };
}

/**
 * The services as account properties (`account.iam`, `account.secretsManager`...), typed from the
 * registry; {@link SimulatedAccount}'s constructor fills them in.
 */
const ServiceProperties = class {} as new () => SimulatedServices;

/** A simulated AWS account. See the module comment. */
export class SimulatedAccount extends ServiceProperties implements SimulatedBackend {
  readonly region: string;
  readonly accountId: string;
  /** The validated fleet. */
  readonly fleet: FleetSpec;
  /** Simulated time. */
  readonly clock: SimClock;
  /** Simulated names: what tls.connect resolves through (dns.ts). */
  readonly dns = new SimDns();
  /** The nodes (the fleet's instances as TLS servers), each in memory or on a real nginx (nodes.ts). */
  readonly nodes: NodeFleet;
  /** What the account could not do as asked (nginx missing: nginx nodes run in memory), one line each. */
  get warnings(): readonly string[] {
    return this.nodeSide.warnings;
  }
  /** The `{state, fault: 'crash-after-side-effects'}` entries of the faults file, for the rehearsal runner. */
  readonly stateFaults: ReadonlyArray<StateFault>;
  /** The `{instance, fault}` entries of the faults file, for the node phases. */
  readonly nodeFaults: ReadonlyArray<NodeFault>;
  /** IAM entry of the current certificate (as seeded). */
  readonly currentCertificate: IamServerCertificate;
  /** IAM entry of the unrelated certificate (as seeded). */
  readonly otherCertificate: IamServerCertificate;

  private readonly dispatcher: Dispatcher;
  private readonly targetSet: TargetSet;
  private readonly nodeEndpointOverrides = new Map<string, number>();
  private endpoints?: TlsEndpoints;
  private readonly nodeSide: AccountNodes;

  private constructor(opts: SimulatedAccountOptions) {
    super();
    this.region = opts.region ?? 'us-east-1';
    this.accountId = opts.accountId ?? '123456789012';
    if (!/^\d{12}$/.test(this.accountId)) throw new Error(`accountId must be 12 digits, got "${this.accountId}"`);
    this.fleet = parseFleet(opts.fleet, 'fleet');
    const faults = parseFaults(opts.faults ?? [], 'faults');
    checkFaultsAgainstFleet(faults, this.fleet, 'faults');
    this.stateFaults = faults.filter(isStateFault);
    this.nodeFaults = faults.filter(isNodeFault);
    this.clock = new SimClock();

    // Build every service of the registry, in its order (a service may use one built before it).
    const built = new Map<string, { readonly operations: Record<string, SimHandler> }>();
    const ctx: ServiceContext = {
      clock: this.clock,
      region: this.region,
      accountId: this.accountId,
      fleet: this.fleet,
      service: <T>(prefix: string) => {
        const s = built.get(prefix);
        if (!s) throw new Error(`internal: service ${prefix} is used before it is built (registry order)`);
        return s as T;
      },
    };
    const table = new Map<string, SimHandler>();
    for (const def of SIMULATED_SERVICES) {
      const service = (def.create as (c: ServiceContext) => { readonly operations: Record<string, SimHandler> })(ctx);
      built.set(def.prefix, service);
      Object.defineProperty(this, def.property, { value: service, enumerable: true });
      for (const [name, fn] of Object.entries(service.operations)) table.set(`${def.prefix}:${name}`, fn);
    }
    if ([...table.keys()].sort().join(',') !== [...SIMULATED_OPERATIONS].sort().join(',')) {
      throw new Error('internal: the dispatch table and the operations the services declare disagree');
    }
    this.dispatcher = new Dispatcher({
      clock: this.clock,
      table,
      faults,
      stateFaults: this.stateFaults,
      apiRates: this.fleet.apiRates,
      runNames: () => this.sfn.executions.map((e) => e.name),
      afterCall: () => this.targetSet.checkChanges(),
    });

    // Seed IAM: the current certificate (may already be expired: it was valid when uploaded) and the other one.
    this.currentCertificate = seedIam(
      this.iam,
      this.clock,
      opts.current,
      opts.currentCertificateName ?? currentIamName(opts.current, this.fleet.domain),
      opts.iamPath ?? DEFAULT_IAM_PATH,
    );
    let otherName = iamNameFor(opts.other, 'other');
    if (otherName === this.currentCertificate.name) otherName = `${otherName}-other`;
    this.otherCertificate = seedIam(this.iam, this.clock, opts.other, otherName, OTHER_IAM_PATH);
    // The fleet's other IAM certificates (older ones of the domain, say), each with its own upload date.
    const named = new Map<string, IamServerCertificate>();
    for (const c of this.fleet.iamCertificates) {
      const material = opts.iamCertificates?.[c.name] ?? opts.other;
      named.set(c.name, seedIam(this.iam, this.clock, material, c.name, c.path ?? this.currentCertificate.path, c.uploadedDaysAgo));
    }
    const entryOf = (ref: CertificateRef) =>
      ref === 'current' ? this.currentCertificate : ref === 'other' ? this.otherCertificate : named.get(ref)!;
    const seed: SeedContext = {
      fleet: this.fleet,
      certificateArn: (ref: CertificateRef) => entryOf(ref).arn,
      certificateId: (ref: CertificateRef) => entryOf(ref).id,
    };
    for (const def of SIMULATED_SERVICES) def.seed?.(built.get(def.prefix) as never, seed);
    // Public DNS answers what the owning hosted zone holds (ACME DNS-01).
    this.route53.useDns(this.dns);

    this.nodeSide = new AccountNodes({
      instances: this.ec2.instances,
      initial: opts.current,
      runCommand: this.ssm.runCommand,
      faults: this.nodeFaults,
      region: this.region,
      call: (operation, input) => this.dispatcher.handleOutsideTask(operation, input),
    });
    const nodes = (this.nodes = this.nodeSide.fleet);
    this.iam.attachmentsOf = (entry) =>
      SIMULATED_SERVICES.flatMap((def) => def.certificateUsers?.(built.get(def.prefix) as never, entry) ?? []);

    const targets: TargetDef[] = SIMULATED_SERVICES.flatMap(
      (def) => def.targets?.(built.get(def.prefix) as never, { iam: this.iam, nodes }) ?? [],
    );
    for (const t of targets) this.dns.addEndpoint(t.hosts, t.port, t.key);
    this.targetSet = new TargetSet(targets, faults.filter(isTargetFault));
  }

  /** Builds the account and starts its TLS endpoints. */
  static async create(opts: SimulatedAccountOptions): Promise<SimulatedAccount> {
    const account = new SimulatedAccount(opts);
    const set = account.targetSet;
    account.endpoints = await TlsEndpoints.start(set.defs.map((t) => ({ key: t.key, serve: set.endpointServe(t) })));
    try {
      const hasTargetFault = (key: string) => set.hasFault(key);
      await account.nodeSide.start({
        runtime: opts.nodeRuntime ?? 'memory',
        domain: account.fleet.domain,
        ...opts.nginxPaths,
        hasTargetFault,
      });
    } catch (e) {
      await account.close();
      throw e;
    }
    return account;
  }

  /** Which runtime runs each instance (`memory` or `nginx`), by instance id. */
  nodeRuntimes(): Record<string, NodeRuntimeName> {
    return this.nodeSide.runtimes();
  }

  /** Hooks the SDK clients and tls.connect to this account (see install.ts). */
  install(): void {
    if (!this.endpoints) throw new Error('SimulatedAccount: closed');
    installSimulatedAws(this);
  }

  /** Removes the hooks (no-op when this account is not the installed one). */
  uninstall(): void {
    uninstallSimulatedAws(this);
  }

  /** Whether this account is the installed one. */
  get installed(): boolean {
    return installedBackend() === this;
  }

  /** Uninstalls and stops the TLS servers. */
  async close(): Promise<void> {
    this.uninstall();
    const endpoints = this.endpoints;
    this.endpoints = undefined;
    await endpoints?.close();
    await this.nodeSide.close();
  }

  /**
   * The dispatcher the SDK middleware calls: records the call, applies the faults file, runs the
   * simulated operation. Throws the real SDK exception classes.
   */
  handle<K extends SimOperationName>(operation: K, input: SimInput<K>): Promise<SimOutput<K>>;
  handle(operation: string, input: unknown): Promise<unknown>;
  handle(operation: string, input: unknown): Promise<unknown> {
    return this.dispatcher.handle(operation, input);
  }

  /**
   * Runs one invocation of a task state's handler, so that `crash-after-side-effects` with
   * `afterCalls: N` can crash it right after its Nth state-changing call: that call takes effect,
   * then it and every later call of the invocation fail, and so does the invocation itself, with
   * the error a crashed Lambda gives (`Lambda.ServiceException`), whatever the handler caught.
   */
  runTask<T>(state: string, body: () => Promise<T>): Promise<T> {
    return this.dispatcher.runTask(state, body);
  }

  /** Every call, failed ones included, in order. */
  get calls(): ReadonlyArray<SimCall> {
    return this.dispatcher.calls;
  }

  /** Calls per operation (failed and retried attempts included), e.g. `{ 'iam:UploadServerCertificate': 1 }`. */
  apiCallCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.calls) counts[c.operation] = (counts[c.operation] ?? 0) + 1;
    return counts;
  }

  /** How many calls each API fault of the faults file failed so far. */
  faultsFired(): Array<{ fault: ApiFault; fired: number }> {
    return this.dispatcher.faultsFired();
  }

  /** Adds a CNAME-like name: `irc.gitter.im` -> the canary ELB's DNS name. Chains are followed. */
  addDnsAlias(host: string, target: { host: string }): void {
    this.dns.setAlias(host, target.host);
  }

  /** Resolves a host and port to a local TLS endpoint (used by the patched tls.connect). */
  routeTls(host: string, port: number): TlsRoute {
    const resolved = this.dns.resolve(host, port);
    if (resolved.kind === 'unknown' || !this.endpoints) return { kind: 'unknown' };
    if (resolved.kind === 'refused') return { kind: 'refused' };
    return { kind: 'endpoint', localPort: this.localPortOf(resolved.key) };
  }

  /** Every listener, distribution and node, in fleet order. */
  targets(): SimTarget[] {
    return this.targetSet.list((key) => (this.endpoints ? this.localPortOf(key) : 0));
  }

  /** Completed TLS handshakes on a target's endpoint (tests: prove a check really handshook). */
  handshakes(target: Pick<SimTarget, 'kind' | 'id' | 'port'>): number {
    const def = this.targetSet.defs.find((t) => t.kind === target.kind && t.id === target.id && t.port === target.port);
    return def && this.endpoints ? this.endpoints.handshakes(def.key) : 0;
  }

  /** SHA-256 (hex, DER) of the leaf of an IAM certificate, by ARN or ServerCertificateId. */
  sha256ForCertificateArn(arnOrId: string): string | undefined {
    return (this.iam.byArn(arnOrId) ?? this.iam.byId(arnOrId))?.sha256;
  }

  /** Makes an in-memory node serve another certificate at once (the node phases). */
  setNodeCertificate(instanceId: string, cert: SimCertificate, label?: string): void {
    if (!this.ec2.byId(instanceId)) throw new Error(`setNodeCertificate: no instance ${instanceId}`);
    if (this.nodes.runtimeOf(instanceId) !== 'memory')
      throw new Error(`setNodeCertificate: ${instanceId} runs on nginx, which installs asynchronously`);
    this.nodes.memory.installNow(instanceId, cert, label);
    this.targetSet.checkChanges();
  }

  /** Routes a node's TLS name to another local port (a real nginx for `nginx: true` instances). */
  setNodeEndpoint(instanceId: string, localPort: number): void {
    const def = this.targetSet.defs.find((t) => t.kind === 'node' && t.id === instanceId);
    if (!def) throw new Error(`setNodeEndpoint: no instance ${instanceId}`);
    // A target fault acts on the simulated endpoint; routing around it would silently drop the fault.
    if (this.targetSet.hasFault(def.key))
      throw new Error(`setNodeEndpoint: ${def.key} has a target fault, which a real nginx cannot honour`);
    this.nodeEndpointOverrides.set(def.key, localPort);
  }

  /** Stages a secret (what an operator creates before starting a rotation); returns its ARN. No API call recorded. */
  putSecret(name: string, secretString: string): string {
    return this.secretsManager.putSecret(name, secretString);
  }

  /** Everything the account recorded that the secret scan must search. Secret *values* are excluded (that is where keys belong); secret names, descriptions and tags are included. */
  recorded(): RecordedText[] {
    const all = SIMULATED_SERVICES.flatMap((def) => def.recorded?.(this[def.property] as never) ?? []);
    // By place (notifications, SSM, S3, secrets), whatever the registry order.
    return all.sort((a, b) => RECORDED_PLACES.indexOf(a.place) - RECORDED_PLACES.indexOf(b.place));
  }

  private localPortOf(key: string): number {
    const node = this.targetSet.byKey(key);
    const own = node?.kind === 'node' ? this.nodes.localPort(node.id) : undefined;
    return this.nodeEndpointOverrides.get(key) ?? own ?? this.endpoints!.localPort(key);
  }
}
