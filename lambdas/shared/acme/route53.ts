/**
 * DNS-01 records in Route53: find the public hosted zone that really owns a name (longest suffix
 * over every page of ListHostedZones), UPSERT the TXT record set, wait until the change is
 * INSYNC (bounded, in this invocation), and remove the record set again.
 *
 * The wait is a bounded poll inside the obtain invocation, not a Wait/Choice loop in the state
 * machine: an ACME order is one conversation (order, challenges, finalize) that has to hold the
 * records while the CA validates and remove them whatever happens; Route53 changes are INSYNC in
 * well under a minute normally, so `dnsTimeoutSeconds` (default 300) plus the ACME exchange fit
 * in the function's timeout, and a `finally` cleans up in the same process. A timeout is
 * `DnsChangeTimeout` (the record removed first), which the state retries once.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  paginateListHostedZones,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { pages } from '../aws-clients';
import { DnsChangeTimeout, HostedZoneNotFound } from '../errors';
import type { DomainLogger } from '../logger';

/** Route53 ListHostedZones `MaxItems`: at most 100. */
const LIST_HOSTED_ZONES_PAGE = 100;
/** TTL of the challenge record: short, so a retried challenge is not answered from a cache for long. */
const CHALLENGE_TTL = 60;

export interface HostedZoneRef {
  /** Without the `/hostedzone/` prefix. */
  readonly id: string;
  /** Without the trailing dot, lower case. */
  readonly name: string;
}

/** A DNS name as Route53 compares it: lower case, no trailing dot. */
export function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** The DNS-01 record name of an identifier (`*.gitter.im` and `gitter.im` both give `_acme-challenge.gitter.im`). */
export function challengeRecordName(identifier: string): string {
  return `_acme-challenge.${normalizeName(identifier).replace(/^\*\./, '')}`;
}

/**
 * The public hosted zone that owns `recordName`: of every zone whose name is `recordName` or a
 * parent of it, the longest (a delegated child zone answers for its names, not its parent).
 * Several public zones of that same name are ambiguous unless exactly one is granted; none, or a
 * winner that is not granted, is `HostedZoneNotFound` naming what was found.
 */
export async function findHostedZone(
  route53: Route53Client,
  recordName: string,
  grantedZoneIds: readonly string[],
): Promise<HostedZoneRef> {
  const name = normalizeName(recordName);
  const matching: HostedZoneRef[] = [];
  for await (const page of paginateListHostedZones(pages(route53, LIST_HOSTED_ZONES_PAGE), {})) {
    for (const zone of page.HostedZones ?? []) {
      if (zone.Config?.PrivateZone) continue; // a CA resolves public DNS only
      const zoneName = normalizeName(zone.Name ?? '');
      if (zoneName && (name === zoneName || name.endsWith(`.${zoneName}`))) {
        matching.push({ id: (zone.Id ?? '').replace(/^\/hostedzone\//, ''), name: zoneName });
      }
    }
  }
  if (matching.length === 0) {
    throw new HostedZoneNotFound(
      `no public Route53 hosted zone owns ${name}: create the zone (or delegate it) in this account, and list its id in certificateSource.acme.hostedZoneIds`,
    );
  }
  const longest = Math.max(...matching.map((z) => z.name.length));
  let owners = matching.filter((z) => z.name.length === longest);
  if (owners.length > 1) {
    const granted = owners.filter((z) => grantedZoneIds.includes(z.id));
    if (granted.length !== 1) {
      throw new HostedZoneNotFound(
        `${owners.length} public hosted zones are named ${owners[0].name} (${owners.map((z) => z.id).join(', ')}): list exactly the delegated one in certificateSource.acme.hostedZoneIds`,
      );
    }
    owners = granted;
  }
  const owner = owners[0];
  if (!grantedZoneIds.includes(owner.id)) {
    throw new HostedZoneNotFound(
      `hosted zone ${owner.id} (${owner.name}) owns ${name}, but the stack grants TXT changes only in ${grantedZoneIds.join(', ') || 'no zone'}: add ${owner.id} to certificateSource.acme.hostedZoneIds and deploy`,
    );
  }
  return owner;
}

/** TXT values as Route53 wants them: each quoted. */
function quoted(values: readonly string[]): Array<{ Value: string }> {
  return values.map((v) => ({ Value: `"${v}"` }));
}

/** UPSERTs the TXT record set `name` with `values` (all of them: a wildcard and its apex share one name). Returns the change id. */
export async function upsertTxt(route53: Route53Client, zone: HostedZoneRef, name: string, values: readonly string[]): Promise<string> {
  const out = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone.id,
      ChangeBatch: {
        Comment: 'cert-rotation: ACME DNS-01 challenge',
        Changes: [
          { Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'TXT', TTL: CHALLENGE_TTL, ResourceRecords: quoted(values) } },
        ],
      },
    }),
  );
  const id = out.ChangeInfo?.Id;
  if (!id) throw new Error(`Route53 ChangeResourceRecordSets in ${zone.id} returned no change id`);
  return id;
}

export interface WaitOptions {
  readonly timeoutSeconds: number;
  readonly pollSeconds: number;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Polls GetChange until INSYNC; `DnsChangeTimeout` after `timeoutSeconds`. */
export async function waitInsync(route53: Route53Client, changeId: string, what: string, o: WaitOptions): Promise<void> {
  const deadline = o.now().getTime() + o.timeoutSeconds * 1000;
  for (;;) {
    const out = await route53.send(new GetChangeCommand({ Id: changeId }));
    if (out.ChangeInfo?.Status === 'INSYNC') return;
    if (o.now().getTime() + o.pollSeconds * 1000 > deadline) {
      throw new DnsChangeTimeout(
        `Route53 change ${changeId} (${what}) was still ${out.ChangeInfo?.Status ?? 'unknown'} after ${o.timeoutSeconds} s; the record has been removed. Check the Route53 service health, or raise certificateSource.acme.dnsTimeoutSeconds`,
      );
    }
    await o.sleep(o.pollSeconds * 1000);
  }
}

/**
 * Deletes the TXT record set `name` in `zone` as Route53 holds it now (a DELETE must repeat the
 * exact values, and an earlier attempt may have written others). Nothing there is a no-op.
 * Returns whether a record set was deleted.
 */
export async function deleteTxt(route53: Route53Client, zone: HostedZoneRef, name: string, logger: DomainLogger): Promise<boolean> {
  const wanted = normalizeName(name);
  // The SDK has no paginator for ListResourceRecordSets; one record set from `name` on is all we need.
  const out = await route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zone.id, StartRecordName: wanted, StartRecordType: 'TXT', MaxItems: 1 }),
  );
  const found: ResourceRecordSet | undefined = (out.ResourceRecordSets ?? []).find(
    (r) => normalizeName(r.Name ?? '') === wanted && r.Type === 'TXT',
  );
  if (!found) return false;
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone.id,
      ChangeBatch: {
        Comment: 'cert-rotation: remove the ACME DNS-01 challenge',
        Changes: [{ Action: 'DELETE', ResourceRecordSet: found }],
      },
    }),
  );
  logger.info('ACME challenge record removed', { zone: zone.id, record: wanted });
  return true;
}
