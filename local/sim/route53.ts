/**
 * Simulated Route53: ListHostedZones, ListHostedZonesByName, ChangeResourceRecordSets, GetChange,
 * ListResourceRecordSets, over the fleet's `hostedZones` (default: one public zone named after the
 * fleet's domain).
 *
 * What public DNS answers: a TXT record set is published only when its zone is the one that owns
 * the name (the longest public zone name that is a suffix of it: a parent zone's record for a
 * name inside a delegated child zone is not what resolvers see), into the account's names
 * (`SimDns`) and, when attached ({@link SimRoute53.publishTo}), into a real pebble-challtestsrv, so
 * a real ACME CA validates DNS-01 against what this Route53 holds. `publishing = false` (tests)
 * keeps Route53's own view but publishes nothing: a record that never reaches public DNS.
 *
 * As AWS: ids are `/hostedzone/Z...` and `/change/C...` (the SDK strips the prefixes from input);
 * a change is PENDING until `syncSeconds` of simulated time have passed, then INSYNC; DELETE must
 * repeat the record set exactly; names outside the zone, CREATE of an existing set and a bad TXT
 * value are InvalidChangeBatch / InvalidInput; ListHostedZones pages (MaxItems, Marker).
 */
import { createHash, randomBytes } from 'node:crypto';
import type * as r53 from '@aws-sdk/client-route-53';
import * as route53Sdk from '@aws-sdk/client-route-53';
import type { SimClock } from './clock';
import { normalizeHost, type SimDns } from './dns';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';
import { copy } from './util';

/** A hosted zone of the fleet file. */
export interface FleetHostedZone {
  readonly name: string;
  /** @default false */
  readonly private?: boolean;
}

interface Zone {
  readonly id: string;
  readonly name: string;
  readonly private: boolean;
  readonly records: Map<string, r53.ResourceRecordSet>;
}

/** Page size when the caller gives no MaxItems (small: callers must paginate, as against AWS). */
const DEFAULT_PAGE = 2;

/**
 * The id the simulated Route53 gives the `occurrence`-th zone named `name` (0 = the first): derived
 * from the name, so a rehearsal config can grant zones before the account exists.
 */
export function simHostedZoneId(name: string, occurrence = 0): string {
  return `Z${createHash('sha256')
    .update(`${normalizeHost(name)}#${occurrence}`)
    .digest('hex')
    .toUpperCase()
    .slice(0, 20)}`;
}

function id(prefix: string): string {
  return `${prefix}${randomBytes(10).toString('hex').toUpperCase().slice(0, 14)}`;
}

function strip(value: string | undefined, prefix: string): string {
  return (value ?? '').replace(new RegExp(`^/?${prefix}/`), '');
}

/** Where TXT records are pushed besides SimDns: challtestsrv's management API. */
type TxtSink = (name: string, values: readonly string[]) => Promise<void>;

/** The operations of route53 the simulator answers. */
export const ROUTE53_OPERATIONS = [
  'ListHostedZones',
  'ListHostedZonesByName',
  'ChangeResourceRecordSets',
  'GetChange',
  'ListResourceRecordSets',
] as const;

/** Simulated Route53. */
export class SimRoute53 {
  readonly zones: Zone[] = [];
  private readonly changes = new Map<string, { submittedAt: number }>();
  private dns?: SimDns;
  private sink?: TxtSink;
  /** Simulated seconds a change stays PENDING. */
  syncSeconds = 1;
  /** When false, records stay in Route53 but never reach public DNS (a broken delegation). */
  publishing = true;

  constructor(private readonly clock: SimClock) {}

  seed(zones: readonly FleetHostedZone[]): void {
    for (const z of zones) {
      const name = normalizeHost(z.name);
      const occurrence = this.zones.filter((x) => x.name === name).length;
      this.zones.push({ id: simHostedZoneId(name, occurrence), name, private: z.private ?? false, records: new Map() });
    }
  }

  /** The account's names receive published TXT records. */
  useDns(dns: SimDns): void {
    this.dns = dns;
  }

  /** Pushes published TXT records into a pebble-challtestsrv (its management API base URL). */
  publishTo(challtestsrvUrl: string): void {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${challtestsrvUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`pebble-challtestsrv ${path}: HTTP ${res.status}`);
    };
    this.sink = async (name, values) => {
      await post('/clear-txt', { host: `${name}.` });
      for (const value of values) await post('/set-txt', { host: `${name}.`, value });
    };
  }

  /** The zone that owns `name` in public DNS (longest public suffix), if any. */
  ownerOf(name: string): Zone | undefined {
    const n = normalizeHost(name);
    return this.zones
      .filter((z) => !z.private && (n === z.name || n.endsWith(`.${z.name}`)))
      .sort((a, b) => b.name.length - a.name.length)[0];
  }

  /** Every TXT record set in every zone (tests: nothing left behind). */
  txtRecords(): Array<{ zone: string; name: string; values: string[] }> {
    return this.zones.flatMap((z) =>
      [...z.records.values()]
        .filter((r) => r.Type === 'TXT')
        .map((r) => ({ zone: z.name, name: normalizeHost(r.Name ?? ''), values: (r.ResourceRecords ?? []).map((v) => v.Value ?? '') })),
    );
  }

  private zone(hostedZoneId: string | undefined): Zone {
    const zid = strip(hostedZoneId, 'hostedzone');
    const zone = this.zones.find((z) => z.id === zid);
    if (!zone) throw awsError('NoSuchHostedZone', `No hosted zone found with ID: ${zid}`, 404);
    return zone;
  }

  private async publish(zone: Zone, name: string): Promise<void> {
    if (!this.publishing || zone.private || this.ownerOf(name) !== zone) return;
    const record = zone.records.get(`${name}|TXT`);
    const values = (record?.ResourceRecords ?? []).map((r) => (r.Value ?? '').replace(/^"|"$/g, ''));
    this.dns?.setTxt(name, values);
    await this.sink?.(name, values);
  }

  private describe(z: Zone): r53.HostedZone {
    return {
      Id: `/hostedzone/${z.id}`,
      Name: `${z.name}.`,
      CallerReference: z.id,
      Config: { PrivateZone: z.private },
      ResourceRecordSetCount: z.records.size + 2,
    };
  }

  /** The SDK operations, by name (exactly ROUTE53_OPERATIONS). */
  readonly operations = {
    ListHostedZones: (input: r53.ListHostedZonesCommandInput): Out<r53.ListHostedZonesCommandOutput> => {
      const max = Math.min(Number(input.MaxItems ?? DEFAULT_PAGE), 100);
      const start = input.Marker ? this.zones.findIndex((z) => z.id === input.Marker) : 0;
      if (start < 0) throw awsError('InvalidInput', `Invalid marker: ${input.Marker}`, 400);
      const page = this.zones.slice(start, start + max);
      const next = this.zones[start + max];
      // Marker is echoed only when the request gave one (the SDK's type marks it required).
      return {
        HostedZones: page.map((z) => this.describe(z)),
        IsTruncated: next !== undefined,
        MaxItems: max,
        ...(input.Marker ? { Marker: input.Marker } : {}),
        ...(next ? { NextMarker: next.id } : {}),
      } as Out<r53.ListHostedZonesCommandOutput>;
    },
    ListHostedZonesByName: (input: r53.ListHostedZonesByNameCommandInput): Out<r53.ListHostedZonesByNameCommandOutput> => {
      const max = Math.min(Number(input.MaxItems ?? 100), 100);
      const key = (z: Zone) => z.name.split('.').reverse().join('.');
      const sorted = [...this.zones].sort((a, b) => key(a).localeCompare(key(b)) || a.id.localeCompare(b.id));
      const from = input.DNSName ? normalizeHost(input.DNSName).split('.').reverse().join('.') : '';
      const start = sorted.findIndex(
        (z) => key(z) >= from && (!input.HostedZoneId || key(z) > from || z.id >= strip(input.HostedZoneId, 'hostedzone')),
      );
      const page = start < 0 ? [] : sorted.slice(start, start + max);
      const next = start < 0 ? undefined : sorted[start + max];
      return {
        HostedZones: page.map((z) => this.describe(z)),
        IsTruncated: next !== undefined,
        MaxItems: max,
        ...(input.DNSName ? { DNSName: input.DNSName } : {}),
        ...(next ? { NextDNSName: `${next.name}.`, NextHostedZoneId: next.id } : {}),
      };
    },
    ChangeResourceRecordSets: async (
      input: r53.ChangeResourceRecordSetsCommandInput,
    ): Promise<Out<r53.ChangeResourceRecordSetsCommandOutput>> => {
      const zone = this.zone(input.HostedZoneId);
      const changes = input.ChangeBatch?.Changes ?? [];
      if (changes.length === 0) throw awsError('InvalidInput', 'ChangeBatch.Changes must not be empty', 400);
      // Validate the whole batch first: Route53 applies a batch all or nothing.
      const next = new Map(zone.records);
      const touched: string[] = [];
      for (const c of changes) {
        const rr = c.ResourceRecordSet;
        const name = normalizeHost(rr?.Name ?? '');
        if (!rr || !name || !rr.Type) throw awsError('InvalidInput', 'ResourceRecordSet needs Name and Type', 400);
        if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
          throw awsError('InvalidChangeBatch', `RRSet with DNS name ${name}. is not permitted in zone ${zone.name}.`, 400);
        }
        for (const v of rr.ResourceRecords ?? []) {
          if (rr.Type === 'TXT' && !/^"[^"]{0,255}"$/.test(v.Value ?? '')) {
            throw awsError(
              'InvalidChangeBatch',
              `Invalid Resource Record: FATAL problem: InvalidCharacterString encountered at ${v.Value}`,
              400,
            );
          }
        }
        const key = `${name}|${rr.Type}`;
        const existing = next.get(key);
        const stored: r53.ResourceRecordSet = copy({ ...rr, Name: `${name}.` });
        if (c.Action === 'CREATE') {
          if (existing)
            throw awsError(
              'InvalidChangeBatch',
              `Tried to create resource record set [name='${name}.', type='${rr.Type}'] but it already exists`,
              400,
            );
          next.set(key, stored);
        } else if (c.Action === 'UPSERT') {
          next.set(key, stored);
        } else if (c.Action === 'DELETE') {
          const same =
            existing &&
            existing.TTL === rr.TTL &&
            JSON.stringify((existing.ResourceRecords ?? []).map((r) => r.Value)) ===
              JSON.stringify((rr.ResourceRecords ?? []).map((r) => r.Value));
          if (!existing)
            throw awsError(
              'InvalidChangeBatch',
              `Tried to delete resource record set [name='${name}.', type='${rr.Type}'] but it was not found`,
              400,
            );
          if (!same)
            throw awsError(
              'InvalidChangeBatch',
              `Tried to delete resource record set [name='${name}.', type='${rr.Type}'] but the values provided do not match the current values`,
              400,
            );
          next.delete(key);
        } else {
          throw awsError('InvalidInput', `Invalid Action: ${String(c.Action)}`, 400);
        }
        touched.push(name);
      }
      zone.records.clear();
      for (const [k, v] of next) zone.records.set(k, v);
      for (const name of new Set(touched)) await this.publish(zone, name);
      const changeId = id('C');
      this.changes.set(changeId, { submittedAt: this.clock.nowMs() });
      return {
        ChangeInfo: { Id: `/change/${changeId}`, Status: 'PENDING', SubmittedAt: this.clock.now(), Comment: input.ChangeBatch?.Comment },
      };
    },
    GetChange: (input: r53.GetChangeCommandInput): Out<r53.GetChangeCommandOutput> => {
      const changeId = strip(input.Id, 'change');
      const change = this.changes.get(changeId);
      if (!change) throw awsError('NoSuchChange', `A change with the specified change ID does not exist: ${changeId}`, 404);
      const insync = this.clock.nowMs() >= change.submittedAt + this.syncSeconds * 1000;
      return {
        ChangeInfo: { Id: `/change/${changeId}`, Status: insync ? 'INSYNC' : 'PENDING', SubmittedAt: new Date(change.submittedAt) },
      };
    },
    ListResourceRecordSets: (input: r53.ListResourceRecordSetsCommandInput): Out<r53.ListResourceRecordSetsCommandOutput> => {
      const zone = this.zone(input.HostedZoneId);
      const max = Math.min(Number(input.MaxItems ?? 300), 300);
      const key = (name: string, type: string) => `${normalizeHost(name).split('.').reverse().join('.')}|${type}`;
      const all = [...zone.records.values()].sort((a, b) => key(a.Name ?? '', a.Type ?? '').localeCompare(key(b.Name ?? '', b.Type ?? '')));
      const from = input.StartRecordName ? key(input.StartRecordName, input.StartRecordType ?? '') : '';
      const rest = all.filter((r) => key(r.Name ?? '', r.Type ?? '') >= from);
      const page = rest.slice(0, max);
      const next = rest[max];
      return {
        ResourceRecordSets: copy(page),
        IsTruncated: next !== undefined,
        MaxItems: max,
        ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type } : {}),
      };
    },
  } satisfies OperationsOf<typeof ROUTE53_OPERATIONS>;
}

/** route53 in the registry (registry.ts). */
export const route53Service = defineService({
  prefix: 'route53',
  property: 'route53',
  operations: ROUTE53_OPERATIONS,
  client: route53Sdk.Route53Client,
  sdk: { exports: route53Sdk, baseException: 'Route53ServiceException' },
  throttlingCode: 'Throttling',
  // Published: five requests per second per account for the Route53 API.
  defaultRates: { 'route53:*': 5 },
  create: (ctx) => new SimRoute53(ctx.clock),
  seed: (route53, ctx) => route53.seed(ctx.fleet.hostedZones ?? [{ name: ctx.fleet.domain }]),
});
