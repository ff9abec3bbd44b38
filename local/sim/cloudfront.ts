/**
 * Simulated CloudFront: ListDistributions (small pages), GetDistribution, GetDistributionConfig and
 * UpdateDistribution with the real service's rules that matter for a rotation:
 *  - IfMatch is required and must be the current ETag (InvalidIfMatchVersion / PreconditionFailed);
 *  - the DistributionConfig replaces the whole config, so it must be complete: the fields the API
 *    requires (InvalidArgument "The parameter X is required."), and every top-level setting the
 *    distribution has now (real CloudFront would silently reset an omitted one; the simulator
 *    refuses, so a rotation that drops a setting is caught in the rehearsal);
 *  - the IAM certificate must exist, be under a `/cloudfront/` path, not be expired, have an RSA
 *    (<= 4096 bits) or ECDSA key and cover every alias (InvalidViewerCertificate);
 *  - an update makes the distribution `InProgress` for `deploySeconds` of simulated time; the served
 *    certificate switches when it is `Deployed`.
 */
import type {
  Distribution,
  DistributionConfig,
  DistributionSummary,
  GetDistributionCommandInput,
  GetDistributionCommandOutput,
  GetDistributionConfigCommandInput,
  GetDistributionConfigCommandOutput,
  ListDistributionsCommandInput,
  ListDistributionsCommandOutput,
  UpdateDistributionCommandInput,
  UpdateDistributionCommandOutput,
  ViewerCertificate,
} from '@aws-sdk/client-cloudfront';
import * as cloudfrontSdk from '@aws-sdk/client-cloudfront';
import { certificateCoversHost, keyDescription, parseCertificate } from './certinfo';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { CertificateRef, FleetDistribution } from './fleet';
import type { Out, SimIam } from './iam';
import { defineService, type OperationsOf } from './service';
import { cloudfrontTargets } from './targets';
import { copy, pageSize, paginate, randomChars } from './util';

/** ListDistributions page size when MaxItems is absent (real: 100; small here to exercise pagination). */
export const CLOUDFRONT_DEFAULT_PAGE = 2;
/** The largest ListDistributions page CloudFront gives (MaxItems above it is refused). */
export const CLOUDFRONT_MAX_PAGE = 100;

/** A simulated distribution. `config` is what GetDistributionConfig returns; `deployed` what is served. */
export interface SimDistribution {
  readonly id: string;
  readonly arn: string;
  readonly domainName: string;
  readonly deploySeconds: number;
  config: DistributionConfig;
  etag: string;
  lastModified: Date;
  /** Simulated epoch ms at which the latest update is Deployed; undefined when Deployed. */
  pendingUntilMs?: number;
  /** The IAM ServerCertificateId served now (the last Deployed config's). */
  servedCertificateId?: string;
  /** How many updates were applied (for tests and the report). */
  updates: number;
}

function newEtag(): string {
  return `E${randomChars(13)}`;
}

function viewerCertificate(iamCertificateId: string): ViewerCertificate {
  return {
    CloudFrontDefaultCertificate: false,
    IAMCertificateId: iamCertificateId,
    SSLSupportMethod: 'sni-only',
    MinimumProtocolVersion: 'TLSv1.2_2021',
    Certificate: iamCertificateId,
    CertificateSource: 'iam',
  };
}

/** Top-level DistributionConfig fields the API requires. */
const REQUIRED_CONFIG_FIELDS = ['CallerReference', 'Origins', 'DefaultCacheBehavior', 'Comment', 'Enabled'] as const;
/** DefaultCacheBehavior fields CloudFront requires in an update. */
const REQUIRED_BEHAVIOR_FIELDS = ['TargetOriginId', 'ViewerProtocolPolicy', 'FieldLevelEncryptionId'] as const;

/** Refuses a config that is not a complete replacement of `current` (see the module comment). */
function checkComplete(next: DistributionConfig, current: DistributionConfig): void {
  const required = (field: string) => awsError('InvalidArgument', `The parameter ${field} is required.`);
  const record = next as unknown as Record<string, unknown>;
  for (const field of REQUIRED_CONFIG_FIELDS) if (record[field] === undefined || record[field] === null) throw required(field);
  const behavior = next.DefaultCacheBehavior as unknown as Record<string, unknown>;
  for (const field of REQUIRED_BEHAVIOR_FIELDS) if (behavior[field] === undefined) throw required(`DefaultCacheBehavior.${field}`);
  if (next.Origins?.Quantity === undefined || (next.Origins.Items ?? []).length !== next.Origins.Quantity) {
    throw awsError('InconsistentQuantities', "The value of Quantity and the size of Items don't match (Origins).");
  }
  for (const [field, value] of Object.entries(current)) {
    if (value !== undefined && record[field] === undefined) {
      throw awsError(
        'InvalidArgument',
        `The parameter ${field} is required: UpdateDistribution replaces the whole configuration, and this distribution has a ${field} (the simulator refuses an update that would reset it).`,
      );
    }
  }
}

/** The operations of cloudfront the simulator answers (the SDK command names without `Command`). */
export const CLOUDFRONT_OPERATIONS = ['ListDistributions', 'GetDistribution', 'GetDistributionConfig', 'UpdateDistribution'] as const;

/** Simulated CloudFront. */
export class SimCloudFront {
  readonly distributions: SimDistribution[] = [];

  constructor(
    private readonly iam: SimIam,
    private readonly clock: SimClock,
    private readonly accountId: string,
  ) {}

  /** Creates the fleet's distributions, Deployed; `certificateId` maps "current"/"other" to IAM ServerCertificateIds. */
  seed(distributions: readonly FleetDistribution[], certificateId: (ref: CertificateRef) => string): void {
    for (const d of distributions) {
      const id = certificateId(d.certificate);
      const domainName = `${d.id.toLowerCase()}.cloudfront.net`;
      const config: DistributionConfig = {
        CallerReference: `rehearsal-${d.id}`,
        Aliases: { Quantity: d.aliases.length, Items: d.aliases.length > 0 ? [...d.aliases] : undefined },
        DefaultRootObject: '',
        Origins: {
          Quantity: 1,
          Items: [
            {
              Id: `origin-${d.id.toLowerCase()}`,
              DomainName: `origin-${d.id.toLowerCase()}.example.internal`,
              OriginPath: '',
              CustomHeaders: { Quantity: 0 },
              CustomOriginConfig: {
                HTTPPort: 80,
                HTTPSPort: 443,
                OriginProtocolPolicy: 'https-only',
                OriginSslProtocols: { Quantity: 1, Items: ['TLSv1.2'] },
                OriginReadTimeout: 30,
                OriginKeepaliveTimeout: 5,
              },
              ConnectionAttempts: 3,
              ConnectionTimeout: 10,
            },
          ],
        },
        OriginGroups: { Quantity: 0 },
        DefaultCacheBehavior: {
          TargetOriginId: `origin-${d.id.toLowerCase()}`,
          ViewerProtocolPolicy: 'redirect-to-https',
          AllowedMethods: { Quantity: 2, Items: ['GET', 'HEAD'], CachedMethods: { Quantity: 2, Items: ['GET', 'HEAD'] } },
          Compress: true,
          CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
          TrustedSigners: { Enabled: false, Quantity: 0 },
          TrustedKeyGroups: { Enabled: false, Quantity: 0 },
          SmoothStreaming: false,
          LambdaFunctionAssociations: { Quantity: 0 },
          FunctionAssociations: { Quantity: 0 },
          FieldLevelEncryptionId: '',
        },
        CacheBehaviors: { Quantity: 0 },
        CustomErrorResponses: { Quantity: 0 },
        Comment: `${d.id} (rehearsal)`,
        Logging: { Enabled: false, IncludeCookies: false, Bucket: '', Prefix: '' },
        PriceClass: 'PriceClass_All',
        Enabled: true,
        ViewerCertificate: viewerCertificate(id),
        Restrictions: { GeoRestriction: { RestrictionType: 'none', Quantity: 0 } },
        WebACLId: '',
        HttpVersion: 'http2',
        IsIPV6Enabled: true,
        Staging: false,
      };
      this.distributions.push({
        id: d.id,
        arn: `arn:aws:cloudfront::${this.accountId}:distribution/${d.id}`,
        domainName,
        deploySeconds: d.deploySeconds,
        config,
        etag: newEtag(),
        lastModified: new Date(this.clock.nowMs() - 200 * 86_400_000),
        servedCertificateId: id,
        updates: 0,
      });
    }
  }

  /** Brings a distribution's status up to the simulated clock: Deployed once its deploy time passed. */
  refresh(d: SimDistribution): SimDistribution {
    if (d.pendingUntilMs !== undefined && this.clock.nowMs() >= d.pendingUntilMs) {
      d.pendingUntilMs = undefined;
      d.servedCertificateId = d.config.ViewerCertificate?.IAMCertificateId;
    }
    return d;
  }

  /** `InProgress` or `Deployed`, at the simulated time. */
  status(d: SimDistribution): 'InProgress' | 'Deployed' {
    return this.refresh(d).pendingUntilMs === undefined ? 'Deployed' : 'InProgress';
  }

  /** By id, or NoSuchDistribution. */
  mustGet(id: string | undefined): SimDistribution {
    const d = this.distributions.find((x) => x.id === id);
    if (!d) throw awsError('NoSuchDistribution', `The specified distribution does not exist: ${String(id)}`, 404);
    return this.refresh(d);
  }

  /** The SDK operations, by name (exactly CLOUDFRONT_OPERATIONS). */
  readonly operations = {
    ListDistributions: (input: ListDistributionsCommandInput): Out<ListDistributionsCommandOutput> => {
      const max = pageSize(input.MaxItems, CLOUDFRONT_DEFAULT_PAGE, 1, CLOUDFRONT_MAX_PAGE, 'InvalidArgument', 'MaxItems');
      const { page, next } = paginate(this.distributions, {
        marker: input.Marker,
        pageSize: max,
        kind: 'cf',
        errorCode: 'InvalidArgument',
      });
      return {
        DistributionList: {
          Marker: input.Marker ?? '',
          NextMarker: next,
          MaxItems: max,
          IsTruncated: next !== undefined,
          Quantity: page.length,
          Items: page.map((d) => this.summary(d)),
        },
      };
    },
    GetDistribution: (input: GetDistributionCommandInput): Out<GetDistributionCommandOutput> => {
      const d = this.mustGet(input.Id);
      return { Distribution: this.distribution(d), ETag: d.etag };
    },
    GetDistributionConfig: (input: GetDistributionConfigCommandInput): Out<GetDistributionConfigCommandOutput> => {
      const d = this.mustGet(input.Id);
      return { DistributionConfig: copy(d.config), ETag: d.etag };
    },
    UpdateDistribution: (input: UpdateDistributionCommandInput): Out<UpdateDistributionCommandOutput> => {
      const d = this.mustGet(input.Id);
      if (!input.IfMatch) throw awsError('InvalidIfMatchVersion', 'The If-Match version is missing or not valid for the resource.');
      if (input.IfMatch !== d.etag) {
        throw awsError('PreconditionFailed', 'The precondition given in one or more of the request-header fields evaluated to false.', 412);
      }
      const next = input.DistributionConfig;
      if (!next)
        throw awsError(
          'MissingBody',
          'This operation requires a body. Ensure that the body is present and the Content-Type header is set.',
        );
      checkComplete(next, d.config);
      if (next.CallerReference !== d.config.CallerReference) {
        throw awsError('IllegalUpdate', 'Origin and CallerReference cannot be updated.');
      }
      const aliases = next.Aliases?.Items ?? [];
      if ((next.Aliases?.Quantity ?? 0) !== aliases.length) {
        throw awsError('InconsistentQuantities', "The value of Quantity and the size of Items don't match.");
      }
      const viewer = this.checkViewerCertificate(next.ViewerCertificate, aliases);
      const stored = copy(next);
      stored.ViewerCertificate = viewer;
      d.config = stored;
      d.etag = newEtag();
      d.lastModified = this.clock.now();
      d.updates += 1;
      d.pendingUntilMs = this.clock.nowMs() + d.deploySeconds * 1000;
      this.refresh(d);
      return { Distribution: this.distribution(d), ETag: d.etag };
    },
  } satisfies OperationsOf<typeof CLOUDFRONT_OPERATIONS>;

  private checkViewerCertificate(vc: ViewerCertificate | undefined, aliases: readonly string[]): ViewerCertificate {
    const invalid = (why: string) => awsError('InvalidViewerCertificate', why);
    if (!vc) throw invalid('ViewerCertificate is required');
    if (vc.ACMCertificateArn) throw invalid('ACM certificates are not simulated: use an IAM certificate');
    if (!vc.IAMCertificateId) {
      if (vc.CloudFrontDefaultCertificate && aliases.length > 0) {
        throw invalid(
          'To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach a trusted certificate that validates your authorization to use the domain name.',
        );
      }
      if (vc.CloudFrontDefaultCertificate) return copy(vc);
      throw invalid('ViewerCertificate must name an IAMCertificateId or set CloudFrontDefaultCertificate');
    }
    const entry = this.iam.byId(vc.IAMCertificateId);
    const notUsable =
      "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, or doesn't include a valid certificate chain.";
    if (!entry) throw invalid(`${notUsable} (no IAM server certificate with id ${vc.IAMCertificateId})`);
    if (!entry.path.startsWith('/cloudfront/')) {
      throw invalid(`${notUsable} (IAM certificate ${entry.name} has path ${entry.path}: CloudFront only sees paths under /cloudfront/)`);
    }
    if (entry.expiration.getTime() <= this.clock.nowMs()) throw invalid(`${notUsable} (IAM certificate ${entry.name} has expired)`);
    const cert = parseCertificate(entry.certificateBody);
    const key = keyDescription(cert.publicKey);
    if (!(key.type === 'rsa' && (key.bits ?? 0) <= 4096) && key.type !== 'ec') {
      throw invalid(`${notUsable} (key ${key.type}${key.bits ? `-${key.bits}` : ''}: CloudFront takes RSA up to 4096 bits or ECDSA)`);
    }
    for (const alias of aliases) {
      if (!certificateCoversHost(cert, alias)) {
        throw invalid(
          `The certificate that is attached to your distribution doesn't cover the alternate domain name (CNAME) that you're trying to add (${alias}).`,
        );
      }
    }
    return {
      ...copy(vc),
      CloudFrontDefaultCertificate: false,
      SSLSupportMethod: vc.SSLSupportMethod ?? 'sni-only',
      MinimumProtocolVersion: vc.MinimumProtocolVersion ?? 'TLSv1.2_2021',
      Certificate: vc.IAMCertificateId,
      CertificateSource: 'iam',
    };
  }

  private distribution(d: SimDistribution): Distribution {
    return {
      Id: d.id,
      ARN: d.arn,
      Status: this.status(d),
      LastModifiedTime: new Date(d.lastModified),
      InProgressInvalidationBatches: 0,
      DomainName: d.domainName,
      ActiveTrustedSigners: { Enabled: false, Quantity: 0 },
      ActiveTrustedKeyGroups: { Enabled: false, Quantity: 0 },
      DistributionConfig: copy(d.config),
    };
  }

  private summary(d: SimDistribution): DistributionSummary {
    const c = copy(d.config);
    return {
      Id: d.id,
      ARN: d.arn,
      ETag: d.etag,
      Status: this.status(d),
      LastModifiedTime: new Date(d.lastModified),
      DomainName: d.domainName,
      Aliases: c.Aliases ?? { Quantity: 0 },
      Origins: c.Origins,
      OriginGroups: c.OriginGroups,
      DefaultCacheBehavior: c.DefaultCacheBehavior,
      CacheBehaviors: c.CacheBehaviors ?? { Quantity: 0 },
      CustomErrorResponses: c.CustomErrorResponses ?? { Quantity: 0 },
      Comment: c.Comment,
      PriceClass: c.PriceClass ?? 'PriceClass_All',
      Enabled: c.Enabled,
      ViewerCertificate: c.ViewerCertificate,
      Restrictions: c.Restrictions ?? { GeoRestriction: { RestrictionType: 'none', Quantity: 0 } },
      WebACLId: c.WebACLId ?? '',
      HttpVersion: c.HttpVersion ?? 'http2',
      IsIPV6Enabled: c.IsIPV6Enabled ?? true,
      Staging: c.Staging ?? false,
    };
  }
}

/** cloudfront in the registry (registry.ts). */
export const cloudfrontService = defineService({
  prefix: 'cloudfront',
  property: 'cloudfront',
  operations: CLOUDFRONT_OPERATIONS,
  client: cloudfrontSdk.CloudFrontClient,
  sdk: { exports: cloudfrontSdk, baseException: 'CloudFrontServiceException' },
  throttlingCode: 'Throttling',
  // AWS publishes no figure for CloudFront's control-plane calls: conservative estimates.
  defaultRates: {
    'cloudfront:*': 5,
    'cloudfront:ListDistributions': 10,
    'cloudfront:GetDistribution': 10,
    'cloudfront:GetDistributionConfig': 10,
  },
  create: (ctx) => new SimCloudFront(ctx.service<SimIam>('iam'), ctx.clock, ctx.accountId),
  seed: (cloudfront, ctx) => cloudfront.seed(ctx.fleet.distributions, ctx.certificateId),
  certificateUsers: (cloudfront, entry) =>
    cloudfront.distributions
      .filter((d) => {
        cloudfront.refresh(d);
        return d.config.ViewerCertificate?.IAMCertificateId === entry.id || d.servedCertificateId === entry.id;
      })
      .map((d) => d.arn),
  targets: cloudfrontTargets,
});
