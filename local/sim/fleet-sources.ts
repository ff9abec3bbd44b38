/**
 * The fleet file's `hostedZones` (Route53) and `acm` (ACM certificates) fields: what the automatic
 * certificate sources (ACME DNS-01, ACM export) find in the simulated account.
 */
import type { FleetAcmCertificate } from './acm';
import type { FleetHostedZone } from './route53';
import type { JsonObject, Problems } from './validate';

/** A zone name: lower-case labels (a single label too: a parent zone such as `im`). */
const ZONE_NAME_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

const ACM_TYPES = ['AMAZON_ISSUED', 'PRIVATE', 'IMPORTED'] as const;
const ACM_STATUSES = ['ISSUED', 'PENDING_VALIDATION', 'EXPIRED'] as const;

function list(raw: JsonObject, key: string, p: Problems): unknown[] | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    p.add(`fleet.${key}`, 'must be an array');
    return undefined;
  }
  return v as unknown[];
}

/** `hostedZones: [{ "name": "gitter.im", "private"?: false }]`; absent = one public zone named after the domain. */
export function parseHostedZones(raw: JsonObject, p: Problems): { hostedZones?: FleetHostedZone[] } {
  const values = list(raw, 'hostedZones', p);
  if (!values) return {};
  const hostedZones: FleetHostedZone[] = [];
  values.forEach((value, i) => {
    const path = `fleet.hostedZones[${i}]`;
    const z = p.object(value, path, ['name', 'private']);
    if (!z) return;
    if (typeof z.name !== 'string' || !ZONE_NAME_RE.test(z.name)) p.add(`${path}.name`, 'must be a lower-case DNS name like "gitter.im"');
    if (z.private !== undefined && typeof z.private !== 'boolean') p.add(`${path}.private`, 'must be true or false');
    if (typeof z.name === 'string') hostedZones.push({ name: z.name, ...(z.private === true ? { private: true } : {}) });
  });
  return { hostedZones };
}

/** `acm: [{ "type"?: "AMAZON_ISSUED", "exportable"?: true, "status"?: "ISSUED" }]`. */
export function parseAcm(raw: JsonObject, p: Problems): { acm?: FleetAcmCertificate[] } {
  const values = list(raw, 'acm', p);
  if (!values) return {};
  const acm: FleetAcmCertificate[] = [];
  values.forEach((value, i) => {
    const path = `fleet.acm[${i}]`;
    const c = p.object(value, path, ['type', 'exportable', 'status']);
    if (!c) return;
    if (c.type !== undefined && !ACM_TYPES.includes(c.type as never)) p.add(`${path}.type`, `must be one of ${ACM_TYPES.join(', ')}`);
    if (c.exportable !== undefined && typeof c.exportable !== 'boolean') p.add(`${path}.exportable`, 'must be true or false');
    if (c.status !== undefined && !ACM_STATUSES.includes(c.status as never))
      p.add(`${path}.status`, `must be one of ${ACM_STATUSES.join(', ')}`);
    acm.push({
      ...(typeof c.type === 'string' ? { type: c.type as FleetAcmCertificate['type'] } : {}),
      ...(typeof c.exportable === 'boolean' ? { exportable: c.exportable } : {}),
      ...(typeof c.status === 'string' ? { status: c.status as FleetAcmCertificate['status'] } : {}),
    });
  });
  return { acm };
}
