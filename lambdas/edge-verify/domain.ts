import { paginateListDistributions } from '@aws-sdk/client-cloudfront';
import type { ArtifactStore } from '../shared/artifacts';
import { MAX_PAGE_SIZE, pages } from '../shared/aws-clients';
import { batchName, edgeDocumentKey, readPlan, unitsOfBatch, type BatchSizes, type EdgeBatch } from '../shared/edge-batches';
import { describeClassicCertificates, observe } from '../shared/edge-ops';
import { VerificationFailed } from '../shared/errors';
import type { ChangeLedger } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { mapLimit } from '../shared/pool';
import type { EdgeClients, TargetState } from '../shared/target-ops';
import { targetKey, targetLabel, type EdgeTarget } from '../shared/targets';
import type { ProbeRequest, TlsProbe } from '../shared/tls-probe';
import { EDGE_PHASE } from '../edge-switch/domain';

export interface EdgeVerifyParams {
  readonly clients: EdgeClients;
  readonly ledger: ChangeLedger;
  readonly store: ArtifactStore;
  readonly probe: TlsProbe;
  readonly logger: DomainLogger;
  readonly executionName: string;
  readonly batch: EdgeBatch;
  readonly sizes: BatchSizes;
  /** SNI name for load balancer listeners (their SNI certificates are picked by it). */
  readonly domain: string;
  /** Handshakes (and API reads) in flight at once. */
  readonly concurrency: number;
  readonly current: { readonly arn: string; readonly id: string };
  readonly uploaded: { readonly arn: string; readonly id: string };
  readonly newSha256: string;
}

export interface EdgeVerifyResult {
  readonly batch: string;
  /** Targets this rotation switched (ledger: applied) or found on the new certificate: all verified. */
  readonly verified: number;
  readonly handshakes: number;
  /** Targets the switch left alone (they serve neither certificate): read back, not expected to change. */
  readonly leftAlone: number;
  readonly detailsKey: string;
}

interface Seen {
  readonly key: string;
  readonly target: string;
  readonly expected: 'new' | 'untouched';
  readonly api: TargetState;
  readonly configured: string;
  readonly tls: Array<{ readonly servername: string | null; readonly sha256: string | null; readonly error?: string }>;
  readonly problems: string[];
}

/** At most this many problems are spelled out in the error message. */
const PROBLEMS_SHOWN = 10;

/**
 * The handshakes that show what a target serves: a classic listener with SNI = the domain, an
 * ELBv2 default without SNI (the default answers), an ELBv2 SNI certificate with SNI = the
 * domain, a distribution with SNI = each alias (its CloudFront name when it has none).
 */
export function probesFor(target: EdgeTarget, domain: string): ProbeRequest[] {
  switch (target.kind) {
    case 'elb':
      return [{ host: target.dnsName, port: target.port, servername: domain }];
    case 'elbv2':
      return target.role === 'default'
        ? [{ host: target.dnsName, port: target.port, sni: false }]
        : [{ host: target.dnsName, port: target.port, servername: domain }];
    case 'cloudfront': {
      const names = target.aliases.length > 0 ? target.aliases : [target.domainName];
      return names.map((servername) => ({ host: target.domainName, port: 443, servername }));
    }
  }
}

/** Every distribution's IAM certificate in one ListDistributions pass (the runbook's "all aligned" script). */
async function distributionCertificates(params: EdgeVerifyParams): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const page of paginateListDistributions(pages(params.clients.cloudfront, MAX_PAGE_SIZE.cloudfrontListDistributions), {})) {
    for (const d of page.DistributionList?.Items ?? []) if (d.Id) out.set(d.Id, d.ViewerCertificate?.IAMCertificateId ?? '');
  }
  return out;
}

/**
 * After the switch (and CloudFront Deployed): every target of the batch read back from the API,
 * then handshaken over TLS. A target the rotation switched must be configured with, and serve,
 * the new certificate; a mismatch is VerificationFailed (retried while targets settle), naming
 * them. What was seen goes to `executions/<name>/edge/verified/<batch>.json`; the result counts.
 */
export async function verifyBatch(params: EdgeVerifyParams): Promise<EdgeVerifyResult> {
  const plan = await readPlan(params.store, params.executionName);
  const targets = unitsOfBatch(plan, params.batch, params.sizes).flat();
  const classicNames = targets.flatMap((t) => (t.kind === 'elb' ? [t.loadBalancerName] : []));
  const classic = classicNames.length > 0 ? await describeClassicCertificates(params.clients, classicNames) : undefined;
  const distributions = params.batch.kind === 'cloudfront' && targets.length > 0 ? await distributionCertificates(params) : undefined;

  const seen = await mapLimit(targets, params.concurrency, async (target): Promise<Seen> => {
    const cf = target.kind === 'cloudfront';
    const before = cf ? params.current.id : params.current.arn;
    const after = cf ? params.uploaded.id : params.uploaded.arn;
    const entry = await params.ledger.get(target);
    let api: TargetState;
    let configured: string;
    if (target.kind === 'cloudfront' && distributions) {
      configured = distributions.get(target.distributionId) ?? '';
      api = configured === after ? 'after' : configured === before ? 'before' : 'other';
    } else {
      const o = await observe(params.clients, target, before, after, classic);
      api = o.state;
      configured = o.value;
    }
    const switched = entry?.phase === EDGE_PHASE && entry.after === after && entry.status === 'applied';
    const expected = switched || api === 'after' ? 'new' : 'untouched';
    const label = targetLabel(target);
    const problems: string[] = [];
    if (expected === 'new' && api !== 'after')
      problems.push(`${label} is configured with ${configured || 'nothing'}, not the new certificate`);
    const tls: Seen['tls'] = [];
    if (expected === 'new') {
      for (const req of probesFor(target, params.domain)) {
        const servername = req.sni === false ? null : (req.servername ?? null);
        try {
          const r = await params.probe(req);
          tls.push({ servername, sha256: r.sha256 });
          if (r.sha256 !== params.newSha256)
            problems.push(`${label} (SNI ${servername ?? 'none'}) serves ${r.sha256}, not the new certificate`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          tls.push({ servername, sha256: null, error: message });
          problems.push(`${label}: ${message}`);
        }
      }
    }
    return { key: targetKey(target), target: label, expected, api, configured, tls, problems };
  });

  const detailsKey = edgeDocumentKey(params.executionName, 'verified', params.batch);
  await params.store.putJson(detailsKey, { batch: batchName(params.batch), targets: seen });
  const problems = seen.flatMap((s) => s.problems);
  if (problems.length > 0) {
    const more = problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more (${detailsKey})` : '';
    throw new VerificationFailed(
      `edge batch ${batchName(params.batch)} not verified yet: ${problems.slice(0, PROBLEMS_SHOWN).join('; ')}${more}`,
    );
  }
  const result: EdgeVerifyResult = {
    batch: batchName(params.batch),
    verified: seen.filter((s) => s.expected === 'new').length,
    handshakes: seen.reduce((n, s) => n + s.tls.length, 0),
    leftAlone: seen.filter((s) => s.expected === 'untouched').length,
    detailsKey,
  };
  params.logger.info('edge batch verified', { ...result });
  return result;
}
