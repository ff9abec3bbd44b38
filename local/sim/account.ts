/**
 * The simulated AWS account of the local rehearsal: IAM, classic ELB, ELBv2, CloudFront, EC2,
 * Secrets Manager, S3, SNS, Step Functions and SSM Parameter Store, shaped by a fleet file, with
 * injected faults, a simulated clock, and a real TLS endpoint on 127.0.0.1 for every place that
 * serves a certificate.
 *
 * Typical use:
 *   const account = await SimulatedAccount.create({ fleet, faults, current, other });
 *   account.install();                       // SDK clients and tls.connect now reach the account
 *   ... run handlers (they build ordinary SDK clients) ...
 *   await account.close();                   // stops the TLS servers and uninstalls
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { X509Certificate } from 'node:crypto';
import { ApiRateLimiter } from './api-rates';
import { SimClock } from './clock';
import { certificateCoversHost, isoDay, sha256OfCertificate } from './certinfo';
import { SimCloudFront } from './cloudfront';
import { SimEc2 } from './ec2';
import { SimElb } from './elb';
import { SimElbv2, type SimElbv2Listener } from './elbv2';
import { NotSimulatedError, SimServiceError, THROTTLING_CODES, toSdkException, type ServicePrefix } from './errors';
import {
  callKey,
  checkFaultsAgainstFleet,
  FaultInjector,
  isNodeFault,
  isStateFault,
  isTargetFault,
  parseFaults,
  type ApiFault,
  type FaultSpec,
  type NodeFault,
  type StateFault,
  type TargetFault,
} from './faults';
import { parseFleet, type CertificateRef, type FleetSpec } from './fleet';
import { SimIam, type IamServerCertificate, type SimCertificate } from './iam';
import { installedBackend, installSimulatedAws, uninstallSimulatedAws, type SimulatedBackend, type TlsRoute } from './install';
import { SIMULATED_OPERATIONS } from './operations';
import { SimS3 } from './s3';
import { SimSecretsManager } from './secrets';
import { SimSfn } from './sfn';
import { SimSns } from './sns';
import { SimSsm } from './ssm';
import { TlsEndpoints, type TlsEndpointSpec } from './tls-endpoints';

export type { SimCertificate } from './iam';

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
  /** IAM name of `current`. @default `STAR.<domain>_<yyyy-mm-dd of its notBefore>` */
  readonly currentCertificateName?: string;
  /** IAM path of `current`. @default '/cloudfront/rehearsal/' */
  readonly iamPath?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
}

/** Every place that serves a certificate: a secure listener, a distribution or a node. */
export interface SimTarget {
  /** The report key: `elb/NAME/PORT`, `elbv2/NAME/PORT`, `cloudfront/ID`, `node/INSTANCE`. */
  readonly key: string;
  readonly kind: 'elb' | 'elbv2' | 'cloudfront' | 'node';
  /** ELB name; listener ARN (elbv2); distribution id; instance id. */
  readonly id: string;
  /** Load balancer name (elb, elbv2). */
  readonly loadBalancerName?: string;
  /** The instance's Name tag (node). */
  readonly name?: string;
  readonly port: number;
  /** Simulated DNS name to handshake with (ELB DNS name, first alias or cloudfront.net name, private DNS name). */
  readonly host: string;
  /** Every simulated name that reaches this target (aliases, private IP...). */
  readonly hosts: readonly string[];
  /** Real 127.0.0.1 port of its TLS server. */
  readonly localPort: number;
  /** IAM ARN (elb, elbv2 default); IAM ServerCertificateId served now (cloudfront); a label such as 'current' (node). */
  readonly certificate: string;
  /** SHA-256 (hex, DER) of the leaf the account says this target serves now (elbv2: the default). */
  servedSha256(): string;
  /**
   * SHA-256 of the leaf the API configuration serves for an SNI name (elbv2: the SNI certificate
   * that covers it, else the default), whatever a target fault makes the TLS endpoint serve.
   */
  configuredSha256(servername: string): string;
}

/** One API call the account answered (or refused). Never the input: it can hold a private key. */
export interface SimCall {
  readonly operation: string;
  /** Error name/code when the call failed. */
  readonly error?: string;
  /** Whether the failure was injected by the faults file. */
  readonly injected?: boolean;
  /** Whether the call was throttled by the fleet's `apiRates` (simulated requests per second). */
  readonly rateLimited?: boolean;
  /** Simulated epoch ms. */
  readonly at: number;
}

/** Places the secret scan searches, with the recorded text. */
export type RecordedPlace = 'notifications' | 'ssm parameters' | 'ssm output' | 's3 objects' | 'secrets';

/** A piece of text the account recorded, for the secret scan. */
export interface RecordedText {
  readonly place: RecordedPlace;
  /** Which item (topic ARN, parameter name, s3://bucket/key, secret name). */
  readonly name: string;
  readonly text: string;
}

/** The operation table: `service:Operation` -> the simulated implementation. */
type Prefixed<P extends string, T> = { [K in keyof T & string as `${P}:${K}`]: T[K] };
/** Every simulated operation with its SDK input and output types. */
export type SimOperationTable = Prefixed<'iam', SimIam['operations']> &
  Prefixed<'elb', SimElb['operations']> &
  Prefixed<'elbv2', SimElbv2['operations']> &
  Prefixed<'cloudfront', SimCloudFront['operations']> &
  Prefixed<'ec2', SimEc2['operations']> &
  Prefixed<'secretsmanager', SimSecretsManager['operations']> &
  Prefixed<'s3', SimS3['operations']> &
  Prefixed<'sns', SimSns['operations']> &
  Prefixed<'sfn', SimSfn['operations']> &
  Prefixed<'ssm', SimSsm['operations']>;
/** A simulated operation name. */
export type SimOperationName = keyof SimOperationTable;
/** The SDK command input of an operation. */
export type SimInput<K extends SimOperationName> = Parameters<SimOperationTable[K]>[0];
/** The SDK command output (without $metadata) of an operation. */
export type SimOutput<K extends SimOperationName> = Awaited<ReturnType<SimOperationTable[K]>>;

type AnyOperation = (input: never) => unknown;

/** The task invocation a call belongs to, for `crash-after-side-effects` with `afterCalls`. */
interface TaskInvocation {
  readonly state: string;
  /** State-changing calls that succeeded so far in this invocation. */
  changes: number;
  /** The fault that crashes this invocation, and after how many state-changing calls. */
  readonly crash?: StateFault & { readonly afterCalls: number };
  /** Set once the simulated process died: every later call of the invocation fails with it. */
  crashed?: Error;
}

/** Operation names (after the service prefix) that change something: what `afterCalls` counts. */
const STATE_CHANGING_VERB =
  /^(Put|Create|Delete|Set|Modify|Add|Remove|Update|Upload|Tag|Untag|Publish|Send|Start|Stop|Register|Deregister|Attach|Detach|Import|Restore|Rotate|Cancel|Terminate|Reboot|Run)/;

/** True for operations that change state (`s3:PutObject`, `elb:SetLoadBalancerListenerSSLCertificate`, `sfn:SendTaskSuccess`...). */
export function isStateChanging(operation: string): boolean {
  return STATE_CHANGING_VERB.test(operation.split(':')[1] ?? '');
}

interface TargetDef {
  readonly kind: SimTarget['kind'];
  readonly id: string;
  readonly key: string;
  readonly port: number;
  readonly hosts: string[];
  readonly loadBalancerName?: string;
  readonly name?: string;
  certificate(): string;
  serve(servername: string | undefined): SimCertificate | undefined;
  servedSha256(): string;
  /** What the configuration serves now, as a fingerprint: it differs exactly when the served certificates changed. */
  signature(): string;
  /** What the configuration serves now, kept (material included) for a target fault that freezes the endpoint. */
  pin(): (servername: string | undefined) => SimCertificate | undefined;
}

interface NodeCertificate {
  label: string;
  cert: SimCertificate;
  sha256: string;
}

const DEFAULT_IAM_PATH = '/cloudfront/rehearsal/';
const OTHER_IAM_PATH = '/cloudfront/other/';

function iamNameFor(cert: SimCertificate, fallbackDomain: string): string {
  const x = new X509Certificate(cert.certPem);
  const san = (x.subjectAltName ?? '').split(/,\s*/).find((s) => s.startsWith('DNS:'));
  const cn = /CN=([^\n,]+)/.exec(x.subject)?.[1];
  const name = (san?.slice(4) ?? cn ?? fallbackDomain).replace(/^\*\./, 'STAR.').replace(/[^\w+=,.@-]/g, '-');
  return `${name}_${isoDay(new Date(x.validFrom))}`;
}

/** A simulated AWS account. See the module comment. */
export class SimulatedAccount implements SimulatedBackend {
  readonly region: string;
  readonly accountId: string;
  /** The validated fleet. */
  readonly fleet: FleetSpec;
  /** Simulated time. */
  readonly clock: SimClock;
  /** IAM server certificates (no keys in entries). */
  readonly iam: SimIam;
  readonly elb: SimElb;
  readonly elbv2: SimElbv2;
  readonly cloudfront: SimCloudFront;
  readonly ec2: SimEc2;
  readonly secretsManager: SimSecretsManager;
  readonly s3: SimS3;
  readonly sns: SimSns;
  readonly sfn: SimSfn;
  readonly ssm: SimSsm;
  /** The `{state, fault: 'crash-after-side-effects'}` entries of the faults file, for the rehearsal runner. */
  readonly stateFaults: ReadonlyArray<StateFault>;
  /** The `{instance, fault}` entries of the faults file, for the node phases. */
  readonly nodeFaults: ReadonlyArray<NodeFault>;
  /** IAM entry of the current certificate (as seeded). */
  readonly currentCertificate: IamServerCertificate;
  /** IAM entry of the unrelated certificate (as seeded). */
  readonly otherCertificate: IamServerCertificate;

  private readonly table = new Map<string, AnyOperation>();
  private readonly injector: FaultInjector;
  private readonly rates: ApiRateLimiter;
  private readonly tasks = new AsyncLocalStorage<TaskInvocation>();
  private readonly crashesLeft = new Map<StateFault, number>();
  private readonly callLog: SimCall[] = [];
  private readonly targetDefs: TargetDef[] = [];
  private readonly routes = new Map<string, Map<number, string>>();
  private readonly dnsAliases = new Map<string, string>();
  private readonly nodeCertificates = new Map<string, NodeCertificate>();
  private readonly nodeEndpointOverrides = new Map<string, number>();
  /** What the TLS endpoint of a target with a target fault serves (instead of what its configuration says). */
  private readonly faultedServe = new Map<string, (servername: string | undefined) => SimCertificate | undefined>();
  /** Change checks of `stuck-after-change` targets: run after every call and before every handshake. */
  private readonly pinChecks: Array<() => void> = [];
  private endpoints?: TlsEndpoints;

  private constructor(opts: SimulatedAccountOptions) {
    this.region = opts.region ?? 'us-east-1';
    this.accountId = opts.accountId ?? '123456789012';
    if (!/^\d{12}$/.test(this.accountId)) throw new Error(`accountId must be 12 digits, got "${this.accountId}"`);
    this.fleet = parseFleet(opts.fleet, 'fleet');
    const faults = parseFaults(opts.faults ?? [], 'faults');
    checkFaultsAgainstFleet(faults, this.fleet, 'faults');
    this.injector = new FaultInjector(faults);
    this.stateFaults = faults.filter(isStateFault);
    this.nodeFaults = faults.filter(isNodeFault);

    this.clock = new SimClock();
    this.rates = new ApiRateLimiter(this.clock, this.fleet.apiRates);
    for (const f of this.stateFaults) if (f.afterCalls !== undefined) this.crashesLeft.set(f, f.count);
    this.iam = new SimIam(this.clock, this.accountId, this.fleet.iamPropagationSeconds);
    this.elb = new SimElb(this.iam, this.clock, this.region, this.accountId);
    this.elbv2 = new SimElbv2(this.iam, this.clock, this.region, this.accountId);
    this.cloudfront = new SimCloudFront(this.iam, this.clock, this.accountId);
    this.ec2 = new SimEc2(this.clock, this.region, this.accountId);
    this.secretsManager = new SimSecretsManager(this.clock, this.region, this.accountId);
    this.s3 = new SimS3(this.clock);
    this.sns = new SimSns(this.clock);
    this.sfn = new SimSfn(this.clock);
    this.ssm = new SimSsm(this.clock, this.region, this.accountId);

    const services: Array<[ServicePrefix, Record<string, AnyOperation>]> = [
      ['iam', this.iam.operations],
      ['elb', this.elb.operations],
      ['elbv2', this.elbv2.operations],
      ['cloudfront', this.cloudfront.operations],
      ['ec2', this.ec2.operations],
      ['secretsmanager', this.secretsManager.operations],
      ['s3', this.s3.operations],
      ['sns', this.sns.operations],
      ['sfn', this.sfn.operations],
      ['ssm', this.ssm.operations],
    ];
    for (const [prefix, ops] of services) {
      for (const [name, fn] of Object.entries(ops)) this.table.set(`${prefix}:${name}`, fn);
    }
    const declared = [...SIMULATED_OPERATIONS].sort().join(',');
    if ([...this.table.keys()].sort().join(',') !== declared) {
      throw new Error('internal: the dispatch table and SIMULATED_OPERATIONS disagree');
    }

    // Seed IAM: the current certificate (may already be expired: it was valid when uploaded) and the other one.
    const seed = (cert: SimCertificate, name: string, path: string) => {
      try {
        this.iam.upload(
          {
            ServerCertificateName: name,
            Path: path,
            CertificateBody: cert.certPem,
            PrivateKey: cert.keyPem,
            CertificateChain: cert.chainPem || undefined,
          },
          // Uploaded long ago: it may have expired since, and every service sees it.
          { allowExpired: true, uploadedAt: new Date(this.clock.nowMs() - 400 * 86_400_000) },
        );
      } catch (e) {
        throw new Error(`cannot seed IAM certificate ${name}: ${(e as Error).message}`, { cause: e });
      }
      return this.iam.byName(name)!;
    };
    this.currentCertificate = seed(
      opts.current,
      opts.currentCertificateName ?? `STAR.${this.fleet.domain}_${isoDay(new Date(new X509Certificate(opts.current.certPem).validFrom))}`,
      opts.iamPath ?? DEFAULT_IAM_PATH,
    );
    let otherName = iamNameFor(opts.other, 'other');
    if (otherName === this.currentCertificate.name) otherName = `${otherName}-other`;
    this.otherCertificate = seed(opts.other, otherName, OTHER_IAM_PATH);
    const arnOf = (ref: CertificateRef) => (ref === 'current' ? this.currentCertificate.arn : this.otherCertificate.arn);
    const idOf = (ref: CertificateRef) => (ref === 'current' ? this.currentCertificate.id : this.otherCertificate.id);

    this.elb.seed(this.fleet.elbs, arnOf);
    this.elbv2.seed(this.fleet.albs, arnOf);
    this.cloudfront.seed(this.fleet.distributions, idOf);
    this.ec2.seed(this.fleet.instances);
    for (const inst of this.fleet.instances) {
      this.nodeCertificates.set(inst.id, { label: 'current', cert: opts.current, sha256: sha256OfCertificate(opts.current.certPem) });
    }
    this.iam.attachmentsOf = (entry) => this.attachmentsOf(entry);
    this.defineTargets();
    for (const f of faults.filter(isTargetFault)) this.applyTargetFault(f);
  }

  /** Builds the account and starts its TLS endpoints. */
  static async create(opts: SimulatedAccountOptions): Promise<SimulatedAccount> {
    const account = new SimulatedAccount(opts);
    account.endpoints = await TlsEndpoints.start(
      account.targetDefs.map((t): TlsEndpointSpec => ({
        key: t.key,
        serve: (servername) => (account.faultedServe.get(t.key) ?? t.serve)(servername),
      })),
    );
    return account;
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
  }

  /**
   * The dispatcher the SDK middleware calls: records the call, applies the faults file, runs the
   * simulated operation. Throws the real SDK exception classes.
   */
  handle<K extends SimOperationName>(operation: K, input: SimInput<K>): Promise<SimOutput<K>>;
  handle(operation: string, input: unknown): Promise<unknown>;
  async handle(operation: string, input: unknown): Promise<unknown> {
    const at = this.clock.nowMs();
    const fn = this.table.get(operation);
    if (!fn) {
      this.callLog.push({ operation, error: 'NotSimulated', at });
      throw new NotSimulatedError(
        `${operation} is not simulated by the simulated AWS account (simulated: ${SIMULATED_OPERATIONS.filter((o) => o.startsWith(`${operation.split(':')[0]}:`)).join(', ') || 'none for this service'})`,
      );
    }
    const service = operation.split(':')[0] as ServicePrefix;
    const task = this.tasks.getStore();
    // A crashed task's process is gone: nothing it would still send reaches AWS.
    if (task?.crashed) throw task.crashed;
    const limited = this.rates.take(operation);
    if (limited) {
      this.callLog.push({ operation, error: limited, rateLimited: true, at });
      throw toSdkException(
        service,
        limited,
        `Rate exceeded (${operation} is limited to ${this.rates.rateOf(operation)} requests per second)`,
      );
    }
    const fault = this.injector.check(
      operation,
      callKey(input, (v) => this.normalizeRunValue(v)),
    );
    if (fault) {
      this.callLog.push({ operation, error: fault.error, injected: true, at });
      throw toSdkException(service, fault.error, injectedMessage(operation, fault));
    }
    try {
      const output = await (fn as (i: unknown) => unknown)(input ?? {});
      this.callLog.push({ operation, at });
      for (const check of this.pinChecks) check();
      if (task && isStateChanging(operation)) this.afterStateChange(task, operation);
      return output;
    } catch (e) {
      if (e instanceof SimServiceError) {
        this.callLog.push({ operation, error: e.code, at });
        throw toSdkException(service, e.code, e.message, e.httpStatusCode);
      }
      this.callLog.push({ operation, error: e instanceof Error ? e.name : 'Error', at });
      throw e;
    }
  }

  /**
   * Runs one invocation of a task state's handler, so that `crash-after-side-effects` with
   * `afterCalls: N` can crash it right after its Nth state-changing call: that call takes effect,
   * then it and every later call of the invocation fail, and so does the invocation itself, with
   * the error a crashed Lambda gives (`Lambda.ServiceException`), whatever the handler caught.
   */
  async runTask<T>(state: string, body: () => Promise<T>): Promise<T> {
    const fault = this.stateFaults.find(
      (f): f is StateFault & { afterCalls: number } =>
        f.afterCalls !== undefined && state.includes(f.state) && (this.crashesLeft.get(f) ?? 0) > 0,
    );
    const invocation: TaskInvocation = { state, changes: 0, ...(fault ? { crash: fault } : {}) };
    return this.tasks.run(invocation, async () => {
      let result: T;
      try {
        result = await body();
      } catch (e) {
        throw invocation.crashed ?? e;
      }
      if (invocation.crashed) throw invocation.crashed;
      return result;
    });
  }

  private afterStateChange(task: TaskInvocation, operation: string): void {
    task.changes += 1;
    if (!task.crash || task.changes !== task.crash.afterCalls) return;
    this.crashesLeft.set(task.crash, (this.crashesLeft.get(task.crash) ?? 1) - 1);
    const error = new Error(
      `simulated crash of "${task.state}" right after its state-changing AWS call #${task.changes} (${operation}) took effect`,
    );
    error.name = 'Lambda.ServiceException';
    task.crashed = error;
    throw error;
  }

  /** Per-run strings (execution names, timestamps, random ARN suffixes) made the same in every run, for fault keys. */
  private normalizeRunValue(value: string): string {
    let v = value;
    for (const e of this.sfn.executions) if (e.name) v = v.split(e.name).join('<execution>');
    return v
      .replace(/\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:[-.]\d{1,3})?Z/g, '<time>')
      .replace(/(:secret:[^:]+)-[A-Za-z0-9]{6}$/, '$1-<suffix>');
  }

  /** Every call, failed ones included, in order. */
  get calls(): ReadonlyArray<SimCall> {
    return this.callLog;
  }

  /** Calls per operation (failed and retried attempts included), e.g. `{ 'iam:UploadServerCertificate': 1 }`. */
  apiCallCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.callLog) counts[c.operation] = (counts[c.operation] ?? 0) + 1;
    return counts;
  }

  /** How many calls each API fault of the faults file failed so far. */
  faultsFired(): Array<{ fault: ApiFault; fired: number }> {
    return this.injector.firedCounts();
  }

  /** Adds a CNAME-like name: `irc.gitter.im` -> the canary ELB's DNS name. Chains are followed. */
  addDnsAlias(host: string, target: { host: string }): void {
    const from = normalizeHost(host);
    const to = normalizeHost(target.host);
    if (this.routes.has(from)) throw new Error(`addDnsAlias: ${from} is already a simulated name`);
    if (!this.routes.has(to) && !this.dnsAliases.has(to)) throw new Error(`addDnsAlias: ${to} is not a simulated name`);
    this.dnsAliases.set(from, to);
  }

  /** Resolves a host and port to a local TLS endpoint (used by the patched tls.connect). */
  routeTls(host: string, port: number): TlsRoute {
    let name = normalizeHost(host);
    for (let hops = 0; hops < 10 && this.dnsAliases.has(name); hops++) name = this.dnsAliases.get(name)!;
    const ports = this.routes.get(name);
    if (!ports || !this.endpoints) return { kind: 'unknown' };
    const key = ports.get(port);
    if (!key) return { kind: 'refused' };
    const override = this.nodeEndpointOverrides.get(key);
    return { kind: 'endpoint', localPort: override ?? this.endpoints.localPort(key) };
  }

  /** Every listener, distribution and node, in fleet order. */
  targets(): SimTarget[] {
    return this.targetDefs.map((t) => ({
      key: t.key,
      kind: t.kind,
      id: t.id,
      loadBalancerName: t.loadBalancerName,
      name: t.name,
      port: t.port,
      host: t.hosts[0],
      hosts: [...t.hosts],
      localPort: this.nodeEndpointOverrides.get(t.key) ?? this.endpoints?.localPort(t.key) ?? 0,
      certificate: t.certificate(),
      servedSha256: () => t.servedSha256(),
      configuredSha256: (servername: string) => {
        const m = t.serve(servername);
        return m ? sha256OfCertificate(m.certPem) : '';
      },
    }));
  }

  /** Completed TLS handshakes on a target's endpoint (tests: prove a check really handshook). */
  handshakes(target: Pick<SimTarget, 'kind' | 'id' | 'port'>): number {
    const def = this.targetDefs.find((t) => t.kind === target.kind && t.id === target.id && t.port === target.port);
    return def && this.endpoints ? this.endpoints.handshakes(def.key) : 0;
  }

  /** SHA-256 (hex, DER) of the leaf of an IAM certificate, by ARN or ServerCertificateId. */
  sha256ForCertificateArn(arnOrId: string): string | undefined {
    return (this.iam.byArn(arnOrId) ?? this.iam.byId(arnOrId))?.sha256;
  }

  /** Makes an in-memory node serve another certificate (the node phases). */
  setNodeCertificate(instanceId: string, cert: SimCertificate, label?: string): void {
    if (!this.ec2.byId(instanceId)) throw new Error(`setNodeCertificate: no instance ${instanceId}`);
    const sha256 = sha256OfCertificate(cert.certPem);
    this.nodeCertificates.set(instanceId, { label: label ?? `sha256:${sha256.slice(0, 16)}`, cert, sha256 });
    for (const check of this.pinChecks) check();
  }

  /** Routes a node's TLS name to another local port (a real nginx for `nginx: true` instances). */
  setNodeEndpoint(instanceId: string, localPort: number): void {
    const def = this.targetDefs.find((t) => t.kind === 'node' && t.id === instanceId);
    if (!def) throw new Error(`setNodeEndpoint: no instance ${instanceId}`);
    // A target fault acts on the simulated endpoint; routing around it would silently drop the fault.
    if (this.faultedServe.has(def.key)) throw new Error(`setNodeEndpoint: ${def.key} has a target fault, which a real nginx cannot honour`);
    this.nodeEndpointOverrides.set(def.key, localPort);
  }

  /** Stages a secret (what an operator creates before starting a rotation); returns its ARN. No API call recorded. */
  putSecret(name: string, secretString: string): string {
    return this.secretsManager.putSecret(name, secretString);
  }

  /** Everything the account recorded that the secret scan must search. Secret *values* are excluded (that is where keys belong); secret names, descriptions and tags are included. */
  recorded(): RecordedText[] {
    const out: RecordedText[] = [];
    for (const m of this.sns.messages) {
      out.push({ place: 'notifications', name: m.topicArn, text: `${m.subject ?? ''}\n${m.message}` });
    }
    // Every version of every parameter (an overwritten value stays in the parameter's history).
    for (const p of this.ssm.history) {
      out.push({ place: 'ssm parameters', name: `${p.name} (version ${p.version})`, text: `${p.description ?? ''}\n${p.value}` });
    }
    // Every version of every object (an old version stays readable by its VersionId); delete markers hold no data.
    for (const { bucket, entry: o } of this.s3.allVersions()) {
      if ('deleteMarker' in o) continue;
      out.push({
        place: 's3 objects',
        name: `s3://${bucket}/${o.key}?versionId=${o.versionId}`,
        text: `${JSON.stringify(o.metadata)}\n${textOf(o.body)}`,
      });
    }
    for (const s of this.secretsManager.secrets) {
      out.push({ place: 'secrets', name: s.name, text: `${s.name}\n${s.description ?? ''}\n${JSON.stringify(s.tags)}` });
    }
    return out;
  }

  /**
   * A target fault: `serves-stale` pins the endpoint to what the target serves now (the start);
   * `stuck-after-change` pins it to what it serves right after its configuration first changes.
   * The API keeps answering with the configuration; only the TLS endpoint is affected.
   */
  private applyTargetFault(f: TargetFault): void {
    const def = this.targetDefs.find((t) => t.key === f.target);
    if (!def)
      throw new Error(`internal: target fault on ${f.target}, which is not a target (checkFaultsAgainstFleet lets no such fault through)`);
    if (f.fault === 'serves-stale') {
      this.faultedServe.set(def.key, def.pin());
      return;
    }
    const start = def.signature();
    let pinned: ((servername: string | undefined) => SimCertificate | undefined) | undefined;
    const check = () => {
      if (!pinned && def.signature() !== start) pinned = def.pin();
    };
    this.pinChecks.push(check);
    this.faultedServe.set(def.key, (servername) => {
      check();
      return (pinned ?? def.serve)(servername);
    });
  }

  private attachmentsOf(entry: IamServerCertificate): string[] {
    const users: string[] = [];
    for (const lb of this.elb.loadBalancers) {
      if (lb.listeners.some((l) => l.certificateArn === entry.arn)) users.push(this.elb.arnOf(lb));
    }
    for (const l of this.elbv2.allListeners()) {
      if (l.defaultCertificateArn === entry.arn || l.sniCertificateArns.includes(entry.arn)) users.push(l.arn);
    }
    for (const d of this.cloudfront.distributions) {
      this.cloudfront.refresh(d);
      if (d.config.ViewerCertificate?.IAMCertificateId === entry.id || d.servedCertificateId === entry.id) users.push(d.arn);
    }
    return users;
  }

  private materialByArn(arn: string | undefined): SimCertificate | undefined {
    const e = arn === undefined ? undefined : this.iam.byArn(arn);
    return e ? this.iam.servingMaterial(e.id) : undefined;
  }

  private pickElbv2(l: SimElbv2Listener, servername: string | undefined): string {
    if (!servername) return l.defaultCertificateArn;
    const covers = (arn: string) => {
      const e = this.iam.byArn(arn);
      return e !== undefined && certificateCoversHost(new X509Certificate(e.certificateBody), servername);
    };
    if (covers(l.defaultCertificateArn)) return l.defaultCertificateArn;
    return l.sniCertificateArns.find(covers) ?? l.defaultCertificateArn;
  }

  private route(hosts: readonly string[], port: number, key: string): void {
    for (const h of hosts) {
      const name = normalizeHost(h);
      let ports = this.routes.get(name);
      if (!ports) this.routes.set(name, (ports = new Map<number, string>()));
      if (ports.has(port)) throw new Error(`internal: two simulated endpoints on ${name}:${port}`);
      ports.set(port, key);
    }
  }

  private defineTargets(): void {
    const shaOfArn = (arn: string | undefined) => (arn ? (this.sha256ForCertificateArn(arn) ?? '') : '');
    for (const lb of this.elb.loadBalancers) {
      for (const l of lb.listeners) {
        if (l.certificateArn === undefined) continue; // HTTP/TCP: no certificate, no TLS server
        const key = `elb/${lb.name}/${l.port}`;
        this.targetDefs.push({
          kind: 'elb',
          id: lb.name,
          key,
          port: l.port,
          hosts: [lb.dnsName],
          loadBalancerName: lb.name,
          certificate: () => l.certificateArn ?? '',
          serve: () => this.materialByArn(l.certificateArn),
          servedSha256: () => shaOfArn(l.certificateArn),
          signature: () => l.certificateArn ?? '',
          pin: () => {
            const m = this.materialByArn(l.certificateArn);
            return () => m;
          },
        });
        this.route([lb.dnsName], l.port, key);
      }
    }
    for (const lb of this.elbv2.loadBalancers) {
      for (const l of lb.listeners) {
        const key = `elbv2/${lb.name}/${l.port}`;
        this.targetDefs.push({
          kind: 'elbv2',
          id: l.arn,
          key,
          port: l.port,
          hosts: [lb.dnsName],
          loadBalancerName: lb.name,
          certificate: () => l.defaultCertificateArn,
          serve: (servername) => this.materialByArn(this.pickElbv2(l, servername)),
          servedSha256: () => shaOfArn(l.defaultCertificateArn),
          signature: () => [l.defaultCertificateArn, ...l.sniCertificateArns].join(' '),
          pin: () => {
            // The default first, then the SNI list: the order pickElbv2 picks in.
            const all = [l.defaultCertificateArn, ...l.sniCertificateArns]
              .map((arn) => this.materialByArn(arn))
              .filter((m): m is SimCertificate => m !== undefined)
              .map((m) => ({ m, x: new X509Certificate(m.certPem) }));
            const fallback = this.materialByArn(l.defaultCertificateArn);
            return (servername) => (servername ? (all.find((e) => certificateCoversHost(e.x, servername))?.m ?? fallback) : fallback);
          },
        });
        this.route([lb.dnsName], l.port, key);
      }
    }
    for (const d of this.cloudfront.distributions) {
      const key = `cloudfront/${d.id}`;
      const aliases = d.config.Aliases?.Items ?? [];
      const hosts = [...aliases.filter((a) => !a.startsWith('*.')), d.domainName];
      const served = () => this.cloudfront.refresh(d).servedCertificateId;
      this.targetDefs.push({
        kind: 'cloudfront',
        id: d.id,
        key,
        port: 443,
        hosts,
        certificate: () => served() ?? '',
        serve: () => {
          const id = served();
          return id ? this.iam.servingMaterial(id) : undefined;
        },
        servedSha256: () => {
          const id = served();
          return id ? (this.iam.byId(id)?.sha256 ?? '') : '';
        },
        signature: () => served() ?? '',
        pin: () => {
          const id = served();
          const m = id ? this.iam.servingMaterial(id) : undefined;
          return () => m;
        },
      });
      this.route(hosts, 443, key);
    }
    for (const inst of this.ec2.instances) {
      const key = `node/${inst.id}`;
      const node = () => this.nodeCertificates.get(inst.id)!;
      this.targetDefs.push({
        kind: 'node',
        id: inst.id,
        key,
        port: 443,
        hosts: [inst.privateDnsName, inst.privateIp],
        name: inst.tags.Name,
        certificate: () => node().label,
        serve: () => node().cert,
        servedSha256: () => node().sha256,
        signature: () => node().sha256,
        pin: () => {
          const cert = node().cert;
          return () => cert;
        },
      });
      this.route([inst.privateDnsName, inst.privateIp], 443, key);
    }
  }
}

/** An object body as text; a body that is not UTF-8 (raw DER, say) as hex, so the scan's hex needles see it. */
function textOf(body: Buffer): string {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? text : body.toString('hex');
}

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

function injectedMessage(operation: string, fault: ApiFault): string {
  return THROTTLING_CODES.has(fault.error) ? 'Rate exceeded' : `${fault.error} (injected by the faults file for ${operation})`;
}
