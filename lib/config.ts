/**
 * The deployment config: one typed block in `cdk.json` context (key `certRotation`), validated at
 * synth. The local rehearsal reads the same schema (`npm start -- --config FILE`).
 *
 * Every problem is collected and reported together, each message naming the field.
 */

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
  /** How long a gate waits for a decision before the rotation is rolled back. @default 86400 */
  readonly timeoutSeconds?: number;
  /**
   * IAM role ARNs of the approvers: the only principals, besides the request-approval function,
   * that may read the approval tokens in the artifacts bucket (a bucket policy denies everyone
   * else). @default [] (then nobody can read a token, and every gate times out and rolls back)
   */
  readonly approverRoleArns?: readonly string[];
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

export interface PagerDutyConfig {
  /** The PagerDuty service put in maintenance during the node phases. */
  readonly serviceName: string;
  /** Secrets Manager secret holding the PagerDuty API token. */
  readonly apiTokenSecretName: string;
}

export interface MonitConfig {
  /** SSM parameter that holds the MD5 fingerprint monit checks. */
  readonly fingerprintParameterName: string;
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
  readonly nginx: NginxConfig;
  readonly approvals?: ApprovalConfig;
  /** Who gets the approval and result emails. */
  readonly notificationEmails: readonly string[];
  readonly schedule?: ScheduleConfig;
  /** Extra PEM root CAs trusted when validating the chain (a private CA). @default the public roots Node.js ships */
  readonly trustedRootCertificates?: readonly string[];
  readonly timing?: TimingConfig;
  readonly pagerDuty?: PagerDutyConfig;
  readonly monit?: MonitConfig;
}

/** The config with every default filled in: what constructs and the rehearsal use. */
export interface ResolvedConfig {
  readonly domain: string;
  readonly certificateNames: readonly string[];
  readonly iamPath: string;
  readonly certificateNamePrefix: string;
  readonly canary: CanaryConfig & { readonly host: string; readonly endpointPort: number };
  readonly edge: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly nodePhases: ReadonlyArray<Required<NodePhaseConfig>>;
  readonly nginx: Required<NginxConfig>;
  readonly approvals: Required<ApprovalConfig>;
  readonly notificationEmails: readonly string[];
  readonly schedule: Required<ScheduleConfig>;
  readonly trustedRootCertificates: readonly string[];
  readonly timing: Required<TimingConfig>;
  readonly pagerDuty?: PagerDutyConfig;
  readonly monit?: MonitConfig;
}

/** The context key in cdk.json. */
export const CONFIG_CONTEXT_KEY = 'certRotation';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid certRotation config:\n  - ${problems.join('\n  - ')}`);
  }
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': [
    'domain',
    'certificateNames',
    'iamPath',
    'certificateNamePrefix',
    'canary',
    'edge',
    'nodePhases',
    'nginx',
    'approvals',
    'notificationEmails',
    'schedule',
    'trustedRootCertificates',
    'timing',
    'pagerDuty',
    'monit',
  ],
  canary: ['loadBalancerName', 'port', 'endpoint'],
  edge: ['include', 'exclude'],
  nginx: ['certificatePath', 'keyPath', 'testCommand', 'reloadCommand'],
  approvals: ['timeoutSeconds', 'approverRoleArns'],
  schedule: ['enabled', 'expression', 'daysBeforeExpiry'],
  timing: ['retryIntervalSeconds', 'retryMaxAttempts', 'verifyIntervalSeconds', 'verifyTimeoutSeconds'],
  pagerDuty: ['serviceName', 'apiTokenSecretName'],
  monit: ['fingerprintParameterName'],
  nodePhase: ['name', 'targets', 'maxConcurrency', 'maxErrors'],
  targets: ['tags', 'instanceIds'],
};

const DOMAIN_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const CERT_NAME_RE = /^(\*\.)?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
// IAM ServerCertificateName: [\w+=,.@-]+, at most 128; we append `_yyyy-mm-dd` (11 chars).
const IAM_NAME_RE = /^[\w+=,.@-]{1,117}$/;
const IAM_PATH_RE = /^\/cloudfront(\/[\x21-\x7e]*)?\/$/;
// SSM SendCommand's own patterns: a count or a percentage, no leading zeros, at most 7 characters.
const MAX_CONCURRENCY_RE = /^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$/;
const MAX_ERRORS_RE = /^(0|[1-9][0-9]{0,6}|[0-9]%|[1-9][0-9]%|100%)$/;
// EC2 instance ids: i- and 8 or 17 hex digits.
const INSTANCE_ID_RE = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
// EventBridge: rate(1 unit) singular, rate(n units) plural, n > 0.
const SCHEDULE_RE = /^(cron\(.+\)|rate\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\))$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// An IAM role ARN, with an optional path (SSO roles have one), never a wildcard.
const ROLE_ARN_RE = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\x21-\x29\x2b-\x7e]+\/)?[\w+=,.@-]{1,64}$/;
const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
// Lambda environment variables share a 4 KiB budget; roots travel there.
const MAX_TRUSTED_ROOTS_BYTES = 3000;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates raw JSON (from cdk.json context or a file) and fills in the defaults. */
export function resolveConfig(raw: unknown): ResolvedConfig {
  const problems: string[] = [];
  const p = (field: string, msg: string): void => {
    problems.push(`${field}: ${msg}`);
  };
  if (!isObject(raw)) throw new ConfigError([`${CONFIG_CONTEXT_KEY}: must be an object`]);

  const unknownKeys = (obj: Json, kind: string, field: string) => {
    for (const k of Object.keys(obj)) {
      if (!KNOWN_KEYS[kind]?.includes(k)) p(field ? `${field}.${k}` : k, 'unknown field');
    }
  };
  const str = (obj: Json, key: string, field: string, required: boolean): string | undefined => {
    const v = obj[key];
    if (v === undefined) {
      if (required) p(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      p(field, 'must be a non-empty string');
      return undefined;
    }
    return v;
  };
  const int = (obj: Json, key: string, field: string, min: number, max: number, dflt?: number): number | undefined => {
    const v = obj[key];
    if (v === undefined) {
      if (dflt === undefined) p(field, 'is required');
      return dflt;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      p(field, `must be an integer from ${min} to ${max}`);
      return dflt;
    }
    return v;
  };
  const strList = (obj: Json, key: string, field: string): string[] | undefined => {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
      p(field, 'must be a list of non-empty strings');
      return undefined;
    }
    return v as string[];
  };
  const section = (key: string, required: boolean): Json | undefined => {
    const v = raw[key];
    if (v === undefined) {
      if (required) p(key, 'is required');
      return undefined;
    }
    if (!isObject(v)) {
      p(key, 'must be an object');
      return undefined;
    }
    unknownKeys(v, key, key);
    return v;
  };

  unknownKeys(raw, '', '');

  const domain = str(raw, 'domain', 'domain', true);
  if (domain !== undefined && !DOMAIN_RE.test(domain)) p('domain', `"${domain}" is not a lower-case DNS name like "gitter.im"`);

  // Defaults derive from a valid domain only (an invalid one is reported once, under "domain").
  const certificateNames =
    strList(raw, 'certificateNames', 'certificateNames') ?? (domain && DOMAIN_RE.test(domain) ? [`*.${domain}`, domain] : []);
  certificateNames.forEach((n, i) => {
    if (!CERT_NAME_RE.test(n)) p(`certificateNames[${i}]`, `"${n}" is not a DNS name or *.wildcard`);
  });
  if (raw.certificateNames !== undefined && certificateNames.length === 0) p('certificateNames', 'must not be empty');

  const iamPath = str(raw, 'iamPath', 'iamPath', true);
  if (iamPath !== undefined && !IAM_PATH_RE.test(iamPath)) {
    p(
      'iamPath',
      `"${iamPath}" must start with "/cloudfront" and end with "/" (CloudFront only sees certificates under /cloudfront/...), e.g. "/cloudfront/gitter-production/"`,
    );
  }
  const certificateNamePrefix = str(raw, 'certificateNamePrefix', 'certificateNamePrefix', true);
  if (certificateNamePrefix !== undefined && !IAM_NAME_RE.test(certificateNamePrefix)) {
    p(
      'certificateNamePrefix',
      `"${certificateNamePrefix}" may only hold letters, digits and +=,.@_- (at most 117 characters; a date is appended)`,
    );
  }

  const canaryRaw = section('canary', true);
  let canary: ResolvedConfig['canary'] | undefined;
  if (canaryRaw) {
    const loadBalancerName = str(canaryRaw, 'loadBalancerName', 'canary.loadBalancerName', true);
    const port = int(canaryRaw, 'port', 'canary.port', 1, 65535);
    const endpoint = str(canaryRaw, 'endpoint', 'canary.endpoint', true);
    let host = '';
    let endpointPort = 0;
    if (endpoint !== undefined) {
      const m = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(endpoint);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
        p('canary.endpoint', `"${endpoint}" must be host:port, e.g. "irc.gitter.im:6667"`);
      else {
        host = m[1].toLowerCase();
        endpointPort = Number(m[2]);
      }
    }
    if (loadBalancerName && port && endpoint) canary = { loadBalancerName, port, endpoint, host, endpointPort };
  }

  const edgeRaw = section('edge', false);
  const edge = {
    include: (edgeRaw && strList(edgeRaw, 'include', 'edge.include')) ?? [],
    exclude: (edgeRaw && strList(edgeRaw, 'exclude', 'edge.exclude')) ?? [],
  };

  const nodePhases: Array<Required<NodePhaseConfig>> = [];
  const phasesRaw = raw.nodePhases;
  if (phasesRaw === undefined) p('nodePhases', 'is required (use [] for no node phases)');
  else if (!Array.isArray(phasesRaw)) p('nodePhases', 'must be a list');
  else {
    const seen = new Set<string>();
    phasesRaw.forEach((ph: unknown, i) => {
      const f = `nodePhases[${i}]`;
      if (!isObject(ph)) {
        p(f, 'must be an object');
        return;
      }
      unknownKeys(ph, 'nodePhase', f);
      const name = str(ph, 'name', `${f}.name`, true);
      if (name !== undefined) {
        if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) p(`${f}.name`, `"${name}" must be lower-case letters, digits and - (at most 31)`);
        if (seen.has(name)) p(`${f}.name`, `"${name}" is used by another phase`);
        seen.add(name);
      }
      const maxConcurrency = ph.maxConcurrency === undefined ? '1' : ph.maxConcurrency;
      const maxErrors = ph.maxErrors === undefined ? '0' : ph.maxErrors;
      if (typeof maxConcurrency !== 'string' || !MAX_CONCURRENCY_RE.test(maxConcurrency)) {
        p(`${f}.maxConcurrency`, 'must be a string like "1" or "10%" (not "0")');
      }
      if (typeof maxErrors !== 'string' || !MAX_ERRORS_RE.test(maxErrors)) p(`${f}.maxErrors`, 'must be a string like "0" or "10%"');
      const t = ph.targets;
      let targets: NodeTargets = {};
      if (!isObject(t)) p(`${f}.targets`, 'must be an object with "tags" and/or "instanceIds"');
      else {
        unknownKeys(t, 'targets', `${f}.targets`);
        const instanceIds = strList(t, 'instanceIds', `${f}.targets.instanceIds`);
        instanceIds?.forEach((id, j) => {
          if (!INSTANCE_ID_RE.test(id)) p(`${f}.targets.instanceIds[${j}]`, `"${id}" is not an instance id`);
        });
        let tags: Record<string, string[]> | undefined;
        if (t.tags !== undefined) {
          if (!isObject(t.tags) || Object.keys(t.tags).length === 0)
            p(`${f}.targets.tags`, 'must be an object of tag name to list of values');
          else {
            tags = {};
            for (const [k, v] of Object.entries(t.tags)) {
              const vals = typeof v === 'string' ? [v] : v;
              if (!Array.isArray(vals) || vals.length === 0 || vals.length > 50 || vals.some((x) => typeof x !== 'string' || x === '')) {
                p(`${f}.targets.tags.${k}`, 'must be a non-empty list of at most 50 strings');
              } else tags[k] = vals as string[];
            }
            if (Object.keys(t.tags).length > 5) p(`${f}.targets.tags`, 'at most 5 tags (SSM Run Command target limit)');
          }
        }
        if (!tags && !instanceIds?.length) p(`${f}.targets`, 'needs "tags" or "instanceIds"');
        targets = { ...(tags ? { tags } : {}), ...(instanceIds ? { instanceIds } : {}) };
      }
      if (name) nodePhases.push({ name, targets, maxConcurrency: maxConcurrency as string, maxErrors: maxErrors as string });
    });
  }

  const nginxRaw = section('nginx', true);
  let nginx: Required<NginxConfig> | undefined;
  if (nginxRaw) {
    const certificatePath = str(nginxRaw, 'certificatePath', 'nginx.certificatePath', true);
    const keyPath = str(nginxRaw, 'keyPath', 'nginx.keyPath', true);
    for (const [k, v] of [
      ['certificatePath', certificatePath],
      ['keyPath', keyPath],
    ] as const) {
      if (v !== undefined && !/^\/[\w./-]+$/.test(v)) p(`nginx.${k}`, `"${v}" must be an absolute path of letters, digits, . _ - /`);
    }
    const testCommand = str(nginxRaw, 'testCommand', 'nginx.testCommand', false) ?? 'nginx -t';
    const reloadCommand = str(nginxRaw, 'reloadCommand', 'nginx.reloadCommand', false) ?? 'systemctl reload nginx';
    if (certificatePath && keyPath) nginx = { certificatePath, keyPath, testCommand, reloadCommand };
  }

  const approvalsRaw = section('approvals', false) ?? {};
  const approverRoleArns = strList(approvalsRaw, 'approverRoleArns', 'approvals.approverRoleArns') ?? [];
  approverRoleArns.forEach((arn, i) => {
    if (!ROLE_ARN_RE.test(arn)) {
      p(
        `approvals.approverRoleArns[${i}]`,
        `"${arn}" must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), without wildcards`,
      );
    }
  });
  if (new Set(approverRoleArns).size !== approverRoleArns.length) p('approvals.approverRoleArns', 'lists a role twice');
  const approvals = {
    timeoutSeconds: int(approvalsRaw, 'timeoutSeconds', 'approvals.timeoutSeconds', 60, 7 * 86400, 86400)!,
    approverRoleArns,
  };

  const notificationEmails = strList(raw, 'notificationEmails', 'notificationEmails');
  if (notificationEmails === undefined && raw.notificationEmails === undefined)
    p('notificationEmails', 'is required (who approves and hears the result)');
  notificationEmails?.forEach((e, i) => {
    if (!EMAIL_RE.test(e)) p(`notificationEmails[${i}]`, `"${e}" is not an email address`);
  });
  if (notificationEmails?.length === 0) p('notificationEmails', 'must hold at least one address');

  const scheduleRaw = section('schedule', false) ?? {};
  const enabled = scheduleRaw.enabled === undefined ? true : scheduleRaw.enabled;
  if (typeof enabled !== 'boolean') p('schedule.enabled', 'must be true or false');
  const expression = str(scheduleRaw, 'expression', 'schedule.expression', false) ?? 'cron(0 9 * * ? *)';
  if (!SCHEDULE_RE.test(expression)) {
    p('schedule.expression', `"${expression}" must be an EventBridge cron(...) or rate(...) expression`);
  }
  const schedule = {
    enabled: enabled === true,
    expression,
    daysBeforeExpiry: int(scheduleRaw, 'daysBeforeExpiry', 'schedule.daysBeforeExpiry', 1, 365, 30)!,
  };

  const roots = strList(raw, 'trustedRootCertificates', 'trustedRootCertificates') ?? [];
  roots.forEach((r, i) => {
    if (!PEM_CERT_RE.test(r)) p(`trustedRootCertificates[${i}]`, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----...)');
  });
  if (roots.join('\n').length > MAX_TRUSTED_ROOTS_BYTES) {
    p(
      'trustedRootCertificates',
      `together must stay under ${MAX_TRUSTED_ROOTS_BYTES} characters (they travel in Lambda environment variables)`,
    );
  }

  const timingRaw = section('timing', false) ?? {};
  const timing = {
    retryIntervalSeconds: int(timingRaw, 'retryIntervalSeconds', 'timing.retryIntervalSeconds', 1, 300, 5)!,
    retryMaxAttempts: int(timingRaw, 'retryMaxAttempts', 'timing.retryMaxAttempts', 1, 20, 6)!,
    verifyIntervalSeconds: int(timingRaw, 'verifyIntervalSeconds', 'timing.verifyIntervalSeconds', 1, 600, 15)!,
    verifyTimeoutSeconds: int(timingRaw, 'verifyTimeoutSeconds', 'timing.verifyTimeoutSeconds', 1, 3600, 300)!,
  };
  if (timing.verifyTimeoutSeconds < timing.verifyIntervalSeconds) {
    p('timing.verifyTimeoutSeconds', 'must be at least timing.verifyIntervalSeconds');
  }

  const pdRaw = section('pagerDuty', false);
  let pagerDuty: PagerDutyConfig | undefined;
  if (pdRaw) {
    const serviceName = str(pdRaw, 'serviceName', 'pagerDuty.serviceName', true);
    const apiTokenSecretName = str(pdRaw, 'apiTokenSecretName', 'pagerDuty.apiTokenSecretName', true);
    if (serviceName && apiTokenSecretName) pagerDuty = { serviceName, apiTokenSecretName };
  }
  const monitRaw = section('monit', false);
  let monit: MonitConfig | undefined;
  if (monitRaw) {
    const fingerprintParameterName = str(monitRaw, 'fingerprintParameterName', 'monit.fingerprintParameterName', true);
    if (fingerprintParameterName !== undefined && !/^\/[\w./-]+$/.test(fingerprintParameterName)) {
      p('monit.fingerprintParameterName', `"${fingerprintParameterName}" must be an SSM parameter path like "/monit/cert-md5"`);
    }
    if (fingerprintParameterName) monit = { fingerprintParameterName };
  }

  if (problems.length > 0 || !domain || !iamPath || !certificateNamePrefix || !canary || !nginx || !notificationEmails) {
    throw new ConfigError(problems.length > 0 ? problems : ['config is incomplete']);
  }
  return {
    domain,
    certificateNames,
    iamPath,
    certificateNamePrefix,
    canary,
    edge,
    nodePhases,
    nginx,
    approvals,
    notificationEmails,
    schedule,
    trustedRootCertificates: roots,
    timing,
    ...(pagerDuty ? { pagerDuty } : {}),
    ...(monit ? { monit } : {}),
  };
}
