/**
 * The shape of the deployment config: what an operator writes in `cdk.json` context (key
 * `certRotation`; {@link RotationConfig}) and what constructs and the rehearsal use, every default
 * filled in ({@link ResolvedConfig}). Each top-level part is validated and defaulted by its section
 * (sections/*.ts); reader.ts runs them.
 */

import type { CertificateSources } from '../../lambdas/shared/source-config';

/** Which instances a node phase deploys to. Tags are ANDed; values within a tag are ORed. */
export interface NodeTargets {
  /** e.g. `{ "Env": ["prod"] }` */
  readonly tags?: Readonly<Record<string, readonly string[]>>;
  /** Explicit instance ids; combined with `tags` by OR. */
  readonly instanceIds?: readonly string[];
}

export interface NodePhaseConfig {
  /** Short name used in state names and reports, e.g. `beta`, `prod-canary`, `prod`. */
  readonly name: string;
  /**
   * Instances of this phase. An instance that an earlier phase already covers is left out, so
   * `prod` = `Env=prod` means "every prod node but the canary".
   */
  readonly targets: NodeTargets;
  /** SSM Run Command MaxConcurrency (`"1"`, `"10%"`). @default "1" */
  readonly maxConcurrency?: string;
  /** SSM Run Command MaxErrors (`"0"`, `"10%"`). @default "0" */
  readonly maxErrors?: string;
}

/** How the node phases run (every node phase alike). */
export interface NodeRolloutConfig {
  /**
   * What to do with an instance of a node phase that SSM does not manage or that is not Online
   * (DescribeInstanceInformation): `refuse` stops the rotation before anything changes (error
   * `NodesUnavailable`, naming them); `skip` leaves them out, named in the plan and the first
   * approval email. @default "refuse"
   */
  readonly unavailableNodes?: 'refuse' | 'skip';
  /** Seconds between polls of a node phase's command (a Wait state; nothing sleeps in a Lambda). @default 15 */
  readonly pollSeconds?: number;
  /** Give up on a node phase (and roll back) when its command has not finished on every node after this long. @default 3600 */
  readonly timeoutSeconds?: number;
}

export interface CanaryConfig {
  /** The classic ELB that carries the canary listener. */
  readonly loadBalancerName: string;
  /** The listener port (the IRC service: 6667). */
  readonly port: number;
  /** `host:port` a TLS handshake is made to, with SNI = host, to verify what the canary serves. */
  readonly endpoint: string;
}

export interface EdgeSelection {
  /** Only these targets (ELB name, `elb-name:port`, ALB name, distribution id). @default every target serving the current certificate */
  readonly include?: readonly string[];
  /** Never these targets (same forms as include). @default none */
  readonly exclude?: readonly string[];
  /** Targets per batch (one Lambda invocation of the edge switch). @default elb 1000, elbv2 200, cloudfront 250 */
  readonly batchSize?: Partial<EdgeServiceNumbers>;
  /** Batches of one service switched at once (the Map's MaxConcurrency). @default 2 each */
  readonly maxConcurrency?: Partial<EdgeServiceNumbers>;
  /** API calls in flight within one batch (bounded by AWS's request rates). @default elb 4, elbv2 4, cloudfront 3 */
  readonly callConcurrency?: Partial<EdgeServiceNumbers>;
  /** How long the rollout waits for every changed distribution to be Deployed. @default 2700 (45 minutes) */
  readonly deployTimeoutSeconds?: number;
  /** Seconds between CloudFront status polls (one poll covers every changed distribution). @default 30 */
  readonly deployPollSeconds?: number;
}

/** One number per edge service. */
export interface EdgeServiceNumbers {
  readonly elb: number;
  readonly elbv2: number;
  readonly cloudfront: number;
}

/** The edge section with every default filled in. */
export interface ResolvedEdge {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly batchSize: EdgeServiceNumbers;
  readonly maxConcurrency: EdgeServiceNumbers;
  readonly callConcurrency: EdgeServiceNumbers;
  readonly deployTimeoutSeconds: number;
  readonly deployPollSeconds: number;
}

export interface NginxConfig {
  readonly certificatePath: string;
  readonly keyPath: string;
  /** @default "nginx -t" */
  readonly testCommand?: string;
  /** @default "systemctl reload nginx" */
  readonly reloadCommand?: string;
}

export interface ApprovalConfig {
  /** How long a gate waits for a decision (the approval link expires then), unless `gates` says otherwise. @default 86400 */
  readonly timeoutSeconds?: number;
  /**
   * What a gate timeout does: `rollback` restores every changed target (verified) and reports
   * it, as a rejection does; `stop` ends the rotation at the gate with every change kept (each
   * changed target was verified on the new certificate before the gate), reported as a failure
   * `GateTimedOut` that names what is on which certificate and how to finish or undo. @default "rollback"
   */
  readonly onTimeout?: 'rollback' | 'stop';
  /**
   * Per gate (`start`, `canary`, `edge`, `nodes<Phase>`: see `gateNamesOf`), its own timeout.
   * @default {} (every gate waits `timeoutSeconds`)
   */
  readonly gates?: Readonly<Record<string, { readonly timeoutSeconds: number }>>;
}

export interface ScheduleConfig {
  /** @default true */
  readonly enabled?: boolean;
  /** EventBridge schedule expression. @default "cron(0 9 * * ? *)" */
  readonly expression?: string;
  /** Start a rotation when the certificate in use has fewer days left than this. @default 30 */
  readonly daysBeforeExpiry?: number;
}

export interface TimingConfig {
  /** First pause of the Retry on transient AWS errors and IAM propagation delay. @default 5 */
  readonly retryIntervalSeconds?: number;
  /** Attempts of those retries (including the first). @default 6 */
  readonly retryMaxAttempts?: number;
  /** Pause between TLS checks while waiting for a target to serve the new certificate. @default 15 */
  readonly verifyIntervalSeconds?: number;
  /** Give up waiting for a target to serve the new certificate after this long. @default 300 */
  readonly verifyTimeoutSeconds?: number;
}

export interface PruneConfig {
  /**
   * How many of the domain's certificates older than the new one stay in IAM after a successful
   * rotation, newest first, the previous one (kept for rollback) included; at least 1. @default 1
   */
  readonly keep?: number;
}

export interface PagerDutyConfig {
  /** A name for the services in emails and logs, e.g. `monit-prod-critical`. */
  readonly serviceName: string;
  /** The PagerDuty service ids put in maintenance (REST API v2 ids, e.g. `PQ8QK9U`). */
  readonly serviceIds: readonly string[];
  /** Secrets Manager secret holding the PagerDuty REST API token (the secret string is the token). */
  readonly apiTokenSecretName: string;
  /** The `From` header: a PagerDuty user's email (needed with an account-level token). @default the first notificationEmails */
  readonly fromEmail?: string;
  /** The REST API origin. @default "https://api.pagerduty.com" (EU: https://api.eu.pagerduty.com) */
  readonly apiUrl?: string;
}

/**
 * Where configuration management (Ansible) keeps the certificate: the runbook also updates these,
 * and a stale role would revert the nodes on its next run. The success email names them.
 */
export interface ConfigurationManagementConfig {
  /** The Ansible role that deploys the certificate, e.g. `nginx`. */
  readonly role: string;
  /** The certificate file in the role, e.g. `roles/nginx/files/STAR.gitter.im.crt`. */
  readonly certificateFile: string;
  /** The vault that holds the private key, e.g. `group_vars/prod/vault.yml`. */
  readonly vaultFile: string;
}

export interface MonitConfig {
  /** SSM parameter that holds the MD5 fingerprint monit checks. */
  readonly fingerprintParameterName: string;
  /**
   * The nodes' monit control files whose `certmd5` the deploy document rewrites from the replaced
   * certificate's MD5 to the new one (and back on rollback). @default none
   */
  readonly controlFiles?: readonly string[];
  /** The command that reloads monit after a control file changed. @default the document's (`monit reload`) */
  readonly reloadCommand?: string;
}

/** What the nodes that run the deploy document get (lib/node-deployment). */
export interface NodeAccessConfig {
  /**
   * Names (not ARNs) of the EC2 instance roles of the nodes: the stack attaches the policy that
   * lets them read this domain's certificate secrets. @default [] (attach the policy yourself: it is a stack output)
   */
  readonly instanceRoleNames?: readonly string[];
}

export interface RotationConfig {
  /** The domain, e.g. `gitter.im`. */
  readonly domain: string;
  /** Names the new certificate must cover. @default [`*.<domain>`, `<domain>`] */
  readonly certificateNames?: readonly string[];
  /** IAM path; must start with `/cloudfront` (CloudFront only sees those) and end with `/`. */
  readonly iamPath: string;
  /** Dated IAM name prefix: `<prefix>_<yyyy-mm-dd>`, e.g. `STAR.gitter.im`. */
  readonly certificateNamePrefix: string;
  readonly canary: CanaryConfig;
  /** @default everything that serves the current certificate */
  readonly edge?: EdgeSelection;
  readonly nodePhases: readonly NodePhaseConfig[];
  readonly nodeRollout?: NodeRolloutConfig;
  readonly nginx: NginxConfig;
  readonly approvals?: ApprovalConfig;
  /** Who gets the approval and result emails. */
  readonly notificationEmails: readonly string[];
  /** Named in the success email as the follow-up. @default none */
  readonly configurationManagement?: ConfigurationManagementConfig;
  readonly schedule?: ScheduleConfig;
  /** Extra PEM root CAs trusted when validating the chain (a private CA). @default the public roots Node.js ships */
  readonly trustedRootCertificates?: readonly string[];
  readonly timing?: TimingConfig;
  /** Deleting old IAM certificates of the domain after a successful rotation. */
  readonly prune?: PruneConfig;
  readonly pagerDuty?: PagerDutyConfig;
  readonly monit?: MonitConfig;
  readonly nodeAccess?: NodeAccessConfig;
  /**
   * The automatic certificate sources: `acme` (directoryUrl, contactEmail, eab, accountKeySecretName,
   * keyType, hostedZoneIds, dnsTimeoutSeconds, dnsPollSeconds, directoryTrustedCertificates) and `acm`
   * (certificateArn, startOnRenewal). @default none (staged sources only)
   */
  readonly certificateSource?: { readonly acme?: object; readonly acm?: object };
}

/** The config with every default filled in: what constructs and the rehearsal use. */
export interface ResolvedConfig {
  readonly domain: string;
  readonly certificateNames: readonly string[];
  readonly iamPath: string;
  readonly certificateNamePrefix: string;
  readonly canary: CanaryConfig & { readonly host: string; readonly endpointPort: number };
  readonly edge: ResolvedEdge;
  readonly nodePhases: ReadonlyArray<Required<NodePhaseConfig>>;
  readonly nodeRollout: Required<NodeRolloutConfig>;
  readonly nginx: Required<NginxConfig>;
  readonly approvals: Required<ApprovalConfig>;
  readonly notificationEmails: readonly string[];
  readonly configurationManagement?: ConfigurationManagementConfig;
  readonly schedule: Required<ScheduleConfig>;
  readonly trustedRootCertificates: readonly string[];
  readonly timing: Required<TimingConfig>;
  readonly prune: Required<PruneConfig>;
  readonly pagerDuty?: PagerDutyConfig & { readonly apiUrl: string };
  readonly monit?: MonitConfig;
  readonly nodeAccess: Required<NodeAccessConfig>;
  readonly certificateSource: CertificateSources;
}
