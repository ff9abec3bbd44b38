/**
 * Validation of a fleet file (REHEARSAL.md "Fleet file"): `parseFleet` checks a parsed JSON value
 * field by field, into the shared problem collector, and returns it with every default filled in.
 * The shape it returns is fleet.ts's.
 */
import { DEFAULT_API_RATES } from './api-rates';
import { parseAcm, parseHostedZones } from './fleet-sources';
import type {
  CertificateRef,
  ElbProtocol,
  FleetAlb,
  FleetAlbListener,
  FleetDistribution,
  FleetElb,
  FleetElbListener,
  FleetIamCertificate,
  FleetInstance,
  FleetSpec,
} from './fleet';
import {
  DNS_NAME_RE,
  isDnsNameOrWildcard,
  isIntegerIn,
  isObject,
  operationPatternProblem,
  Problems,
  usageError,
  type JsonObject,
} from './validate';

const ELB_PROTOCOLS: readonly ElbProtocol[] = ['HTTPS', 'SSL', 'HTTP', 'TCP'];
const CERT_REFS: readonly CertificateRef[] = ['current', 'other'];
// Load balancer names: 1-32 letters, digits and hyphens, not starting or ending with a hyphen.
const LB_NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const DISTRIBUTION_ID_RE = /^[A-Z0-9]{1,32}$/;
const INSTANCE_ID_RE = /^i-[0-9A-Za-z]{1,32}$/;

/** Default days left on the current certificate when the fleet file does not say. */
export const DEFAULT_DAYS_LEFT = 20;
/** Default simulated CloudFront propagation time. */
export const DEFAULT_DEPLOY_SECONDS = 60;
/** Default simulated IAM -> ELB propagation time of a just-uploaded certificate. */
export const DEFAULT_IAM_PROPAGATION_SECONDS = 10;
/** IAM's default quota of server certificates per account. */
export const DEFAULT_IAM_QUOTA = 20;
// IAM ServerCertificateName and Path.
const IAM_NAME_RE = /^[\w+=,.@-]{1,128}$/;
const IAM_PATH_RE = /^\/([\x21-\x7e]*\/)?$/;

function parseApiRates(value: unknown, p: Problems): Record<string, number> {
  if (value === undefined) return {};
  if (!isObject(value)) {
    p.add('fleet.apiRates', 'must be an object of "service:Operation" (or "service:*", or "*") to requests per second');
    return {};
  }
  const out: Record<string, number> = {};
  for (const [op, rate] of Object.entries(value)) {
    const path = `fleet.apiRates.${op}`;
    const known = operationPatternProblem(op) === undefined;
    if (!known)
      p.add(path, `is not a simulated operation, "service:*" or "*" (e.g. ${Object.keys(DEFAULT_API_RATES).slice(0, 2).join(', ')})`);
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1_000_000) {
      p.add(path, 'must be a number of requests per second > 0');
    } else if (known) {
      out[op] = rate;
    }
  }
  return out;
}

function arrayField(obj: JsonObject, key: string, path: string, p: Problems): unknown[] {
  const value = obj[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    p.add(`${path}.${key}`, 'must be an array');
    return [];
  }
  return value;
}

/** Where each name of an `iamCertificates` entry is used, checked against the declared names by {@link parseIam}. */
const namedRefs = new WeakMap<Problems, Array<{ name: string; path: string }>>();

function certRef(value: unknown, path: string, p: Problems): CertificateRef {
  if (value === undefined) return 'current';
  if (typeof value === 'string' && CERT_REFS.includes(value)) return value;
  if (typeof value === 'string' && IAM_NAME_RE.test(value)) {
    namedRefs.set(p, [...(namedRefs.get(p) ?? []), { name: value, path }]);
    return value;
  }
  p.add(path, `must be "current", "other" or the name of an iamCertificates entry`);
  return 'current';
}

/** `iamCertificates` and `iamServerCertificateQuota`; every certificate name a place uses must be declared. */
function parseIam(raw: JsonObject, p: Problems): { iamCertificates: FleetIamCertificate[]; iamServerCertificateQuota: number } {
  const iamCertificates: FleetIamCertificate[] = [];
  const names = new Set<string>();
  arrayField(raw, 'iamCertificates', 'fleet', p).forEach((value, i) => {
    const path = `fleet.iamCertificates[${i}]`;
    const c = p.object(value, path, ['name', 'uploadedDaysAgo', 'path']);
    if (!c) return;
    if (typeof c.name !== 'string' || !IAM_NAME_RE.test(c.name))
      p.add(`${path}.name`, 'must be an IAM certificate name ([\\w+=,.@-], 1-128)');
    else if (['current', 'other'].includes(c.name) || names.has(c.name)) p.add(`${path}.name`, `"${c.name}" is used twice`);
    if (!isIntegerIn(c.uploadedDaysAgo, 0, 36500)) p.add(`${path}.uploadedDaysAgo`, 'must be an integer number of days >= 0');
    if (c.path !== undefined && (typeof c.path !== 'string' || !IAM_PATH_RE.test(c.path))) {
      p.add(`${path}.path`, 'must be an IAM path that begins and ends with "/"');
    }
    if (typeof c.name !== 'string') return;
    names.add(c.name);
    iamCertificates.push({
      name: c.name,
      uploadedDaysAgo: Number(c.uploadedDaysAgo),
      ...(typeof c.path === 'string' ? { path: c.path } : {}),
    });
  });
  for (const ref of namedRefs.get(p) ?? []) {
    if (!names.has(ref.name)) p.add(ref.path, `"${ref.name}" is not "current", "other" or the name of an iamCertificates entry`);
  }
  // The account holds the current and the other certificate besides these.
  const held = iamCertificates.length + 2;
  let iamServerCertificateQuota = Math.max(DEFAULT_IAM_QUOTA, held);
  if (raw.iamServerCertificateQuota !== undefined) {
    if (!isIntegerIn(raw.iamServerCertificateQuota, held, 10_000)) {
      p.add('fleet.iamServerCertificateQuota', `must be an integer >= ${held} (the certificates the account holds at the start)`);
    } else {
      iamServerCertificateQuota = raw.iamServerCertificateQuota;
    }
  }
  return { iamCertificates, iamServerCertificateQuota };
}

function port(value: unknown, path: string, p: Problems): number {
  if (!isIntegerIn(value, 1, 65535)) p.add(path, 'must be an integer 1..65535');
  return typeof value === 'number' ? value : 0;
}

function lbName(value: unknown, path: string, p: Problems, seen: Set<string>): string {
  if (typeof value !== 'string' || !LB_NAME_RE.test(value)) {
    p.add(path, 'must be 1-32 letters, digits and hyphens, not starting or ending with a hyphen');
    return String(value);
  }
  if (seen.has(value)) p.add(path, `"${value}" is used by another load balancer`);
  seen.add(value);
  return value;
}

/**
 * The part classic ELBs and ELBv2 load balancers share: the object, its name, a non-empty list of
 * listener objects with known fields and distinct ports. `listener` parses the rest of one listener.
 */
function parseLoadBalancer<L>(
  value: unknown,
  path: string,
  p: Problems,
  seen: Set<string>,
  listenerFields: readonly string[],
  listener: (l: Record<string, unknown>, lp: string, listenerPort: number) => L,
): { name: string; listeners: L[] } | undefined {
  const raw = p.object(value, path, ['name', 'listeners']);
  if (!raw) return undefined;
  const name = lbName(raw.name, `${path}.name`, p, seen);
  const rawListeners = arrayField(raw, 'listeners', path, p);
  if (raw.listeners === undefined || rawListeners.length === 0) p.add(`${path}.listeners`, 'must list at least one listener');
  const ports = new Set<number>();
  const listeners: L[] = [];
  rawListeners.forEach((rawListener, j) => {
    const lp = `${path}.listeners[${j}]`;
    const l = p.object(rawListener, lp, listenerFields);
    if (!l) return;
    const listenerPort = port(l.port, `${lp}.port`, p);
    if (ports.has(listenerPort)) p.add(`${lp}.port`, `port ${listenerPort} is used by another listener of this load balancer`);
    ports.add(listenerPort);
    listeners.push(listener(l, lp, listenerPort));
  });
  return { name, listeners };
}

function parseElb(raw: unknown, path: string, p: Problems, seen: Set<string>): FleetElb | undefined {
  return parseLoadBalancer(raw, path, p, seen, ['port', 'protocol', 'certificate'], (l, lp, listenerPort): FleetElbListener => {
    let protocol: ElbProtocol = 'HTTPS';
    if (typeof l.protocol === 'string' && (ELB_PROTOCOLS as readonly string[]).includes(l.protocol)) {
      protocol = l.protocol as ElbProtocol;
    } else {
      p.add(`${lp}.protocol`, `must be one of ${ELB_PROTOCOLS.join(', ')}`);
    }
    const secure = protocol === 'HTTPS' || protocol === 'SSL';
    if (!secure && l.certificate !== undefined) {
      p.add(`${lp}.certificate`, 'only HTTPS and SSL listeners have a certificate');
    }
    return secure
      ? { port: listenerPort, protocol, certificate: certRef(l.certificate, `${lp}.certificate`, p) }
      : { port: listenerPort, protocol };
  });
}

function parseAlb(raw: unknown, path: string, p: Problems, seen: Set<string>): FleetAlb | undefined {
  const alb = parseLoadBalancer(raw, path, p, seen, ['port', 'protocol', 'certificate', 'sni'], (l, lp, listenerPort): FleetAlbListener => {
    let protocol: 'HTTPS' | 'TLS' = 'HTTPS';
    if (l.protocol === 'TLS' || l.protocol === 'HTTPS') protocol = l.protocol;
    else if (l.protocol !== undefined) p.add(`${lp}.protocol`, 'must be "HTTPS" (ALB) or "TLS" (NLB)');
    const sni: CertificateRef[] = [];
    if (l.sni !== undefined) {
      if (!Array.isArray(l.sni)) p.add(`${lp}.sni`, 'must be an array of "current" / "other"');
      else l.sni.forEach((s, k) => sni.push(certRef(s, `${lp}.sni[${k}]`, p)));
    }
    return { port: listenerPort, protocol, certificate: certRef(l.certificate, `${lp}.certificate`, p), sni };
  });
  if (alb && new Set(alb.listeners.map((l) => l.protocol)).size > 1) {
    p.add(`${path}.listeners`, 'mixes HTTPS (ALB) and TLS (NLB) listeners: one load balancer is either an ALB or an NLB');
  }
  return alb;
}

function parseDistribution(
  value: unknown,
  path: string,
  p: Problems,
  seenIds: Set<string>,
  seenAliases: Set<string>,
): FleetDistribution | undefined {
  const raw = p.object(value, path, ['id', 'aliases', 'deploySeconds', 'certificate']);
  if (!raw) return undefined;
  const id = typeof raw.id === 'string' ? raw.id : String(raw.id);
  if (typeof raw.id !== 'string' || !DISTRIBUTION_ID_RE.test(raw.id)) {
    p.add(`${path}.id`, 'must be an upper-case distribution id like "E2EXAMPLE"');
  } else if (seenIds.has(id)) {
    p.add(`${path}.id`, `"${id}" is used by another distribution`);
  }
  seenIds.add(id);
  const aliases: string[] = [];
  arrayField(raw, 'aliases', path, p).forEach((a, k) => {
    if (typeof a !== 'string' || !isDnsNameOrWildcard(a)) {
      p.add(`${path}.aliases[${k}]`, 'must be a lower-case DNS name (optionally *.wildcard)');
      return;
    }
    if (seenAliases.has(a)) p.add(`${path}.aliases[${k}]`, `"${a}" is an alias of another distribution (CNAMEAlreadyExists)`);
    seenAliases.add(a);
    aliases.push(a);
  });
  let deploySeconds = DEFAULT_DEPLOY_SECONDS;
  if (raw.deploySeconds !== undefined) {
    if (typeof raw.deploySeconds !== 'number' || !Number.isFinite(raw.deploySeconds) || raw.deploySeconds < 0) {
      p.add(`${path}.deploySeconds`, 'must be a number of seconds >= 0');
    } else {
      deploySeconds = raw.deploySeconds;
    }
  }
  return { id, aliases, deploySeconds, certificate: certRef(raw.certificate, `${path}.certificate`, p) };
}

function parseInstance(value: unknown, path: string, p: Problems, seen: Set<string>): FleetInstance | undefined {
  const raw = p.object(value, path, ['id', 'tags', 'nginx', 'ssmManaged']);
  if (!raw) return undefined;
  const id = String(raw.id);
  if (typeof raw.id !== 'string' || !INSTANCE_ID_RE.test(raw.id)) p.add(`${path}.id`, 'must be an instance id like "i-0ws01"');
  else if (seen.has(id)) p.add(`${path}.id`, `"${id}" is used by another instance`);
  seen.add(id);
  const tags: Record<string, string> = {};
  if (raw.tags !== undefined) {
    if (!isObject(raw.tags)) {
      p.add(`${path}.tags`, 'must be an object of tag name to string value');
    } else {
      for (const [k, v] of Object.entries(raw.tags)) {
        if (typeof v !== 'string') p.add(`${path}.tags.${k}`, 'must be a string');
        else if (k.length === 0 || k.length > 128 || k.startsWith('aws:')) p.add(`${path}.tags.${k}`, 'is not a valid EC2 tag key');
        else tags[k] = v;
      }
    }
  }
  let nginx = false;
  if (raw.nginx !== undefined) {
    if (typeof raw.nginx !== 'boolean') p.add(`${path}.nginx`, 'must be true or false');
    else nginx = raw.nginx;
  }
  if (raw.ssmManaged !== undefined && typeof raw.ssmManaged !== 'boolean') p.add(`${path}.ssmManaged`, 'must be true or false');
  return { id, tags, nginx, ...(raw.ssmManaged === false ? { ssmManaged: false } : {}) };
}

/**
 * Validates a fleet file (already JSON-parsed) and fills in the defaults. Throws a UsageError that
 * names `source` and every bad field, e.g. `fleet.elbs[0].listeners[1].port: must be an integer 1..65535`.
 */
export function parseFleet(json: unknown, source: string): FleetSpec {
  const p = new Problems();
  if (!isObject(json)) {
    p.add('fleet', 'must be a JSON object');
    p.throwIfAny(usageError(source, 'fleet file'));
  }
  const raw = json as JsonObject;
  p.unknownFields(raw, 'fleet', [
    'domain',
    'currentCertDaysLeft',
    'elbs',
    'albs',
    'distributions',
    'instances',
    'iamPropagationSeconds',
    'apiRates',
    'iamCertificates',
    'iamServerCertificateQuota',
    'hostedZones',
    'acm',
  ]);
  const domain = typeof raw.domain === 'string' ? raw.domain : '';
  if (typeof raw.domain !== 'string' || !DNS_NAME_RE.test(raw.domain)) {
    p.add('fleet.domain', 'must be a lower-case DNS name like "gitter.im"');
  }
  let currentCertDaysLeft = DEFAULT_DAYS_LEFT;
  if (raw.currentCertDaysLeft !== undefined) {
    if (!isIntegerIn(raw.currentCertDaysLeft, -3650, 3650)) {
      p.add('fleet.currentCertDaysLeft', 'must be an integer number of days (negative: already expired)');
    } else {
      currentCertDaysLeft = raw.currentCertDaysLeft;
    }
  }
  const elbNames = new Set<string>();
  const elbs = arrayField(raw, 'elbs', 'fleet', p)
    .map((e, i) => parseElb(e, `fleet.elbs[${i}]`, p, elbNames))
    .filter((e): e is FleetElb => e !== undefined);
  const albNames = new Set<string>();
  const albs = arrayField(raw, 'albs', 'fleet', p)
    .map((a, i) => parseAlb(a, `fleet.albs[${i}]`, p, albNames))
    .filter((a): a is FleetAlb => a !== undefined);
  const ids = new Set<string>();
  const aliases = new Set<string>();
  const distributions = arrayField(raw, 'distributions', 'fleet', p)
    .map((d, i) => parseDistribution(d, `fleet.distributions[${i}]`, p, ids, aliases))
    .filter((d): d is FleetDistribution => d !== undefined);
  const instanceIds = new Set<string>();
  const instances = arrayField(raw, 'instances', 'fleet', p)
    .map((n, i) => parseInstance(n, `fleet.instances[${i}]`, p, instanceIds))
    .filter((n): n is FleetInstance => n !== undefined);
  let iamPropagationSeconds = DEFAULT_IAM_PROPAGATION_SECONDS;
  if (raw.iamPropagationSeconds !== undefined) {
    const v = raw.iamPropagationSeconds;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 3600) {
      p.add('fleet.iamPropagationSeconds', 'must be a number of simulated seconds in [0, 3600]');
    } else {
      iamPropagationSeconds = v;
    }
  }
  const apiRates = parseApiRates(raw.apiRates, p);
  const iam = parseIam(raw, p);
  const sources = { ...parseHostedZones(raw, p), ...parseAcm(raw, p) };
  p.throwIfAny(usageError(source, 'fleet file'));
  return { domain, currentCertDaysLeft, elbs, albs, distributions, instances, iamPropagationSeconds, apiRates, ...iam, ...sources };
}
