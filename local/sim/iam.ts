/**
 * Simulated IAM server certificates: UploadServerCertificate, GetServerCertificate,
 * ListServerCertificates, DeleteServerCertificate, and GetAccountSummary (the server-certificate
 * count and quota only).
 *
 * Checks done like the real service: the body parses as one X.509 certificate, the chain parses and
 * links in order (issuer first), the key parses and matches, the certificate has not expired, the
 * name is free, the account holds fewer certificates than its quota (the fleet's
 * `iamServerCertificateQuota`, default 20). The private key is kept in a private
 * field, never in an entry or an output; only the TLS endpoints read it ({@link SimIam.servingMaterial}).
 */
import { createPrivateKey, type X509Certificate } from 'node:crypto';
import type {
  DeleteServerCertificateCommandInput,
  DeleteServerCertificateCommandOutput,
  GetAccountSummaryCommandOutput,
  GetServerCertificateCommandInput,
  GetServerCertificateCommandOutput,
  ListServerCertificatesCommandInput,
  ListServerCertificatesCommandOutput,
  ServerCertificateMetadata,
  Tag,
  UploadServerCertificateCommandInput,
  UploadServerCertificateCommandOutput,
} from '@aws-sdk/client-iam';
import * as iamSdk from '@aws-sdk/client-iam';
import { certificateBlocks, parseCertificate, sha256OfCertificate } from './certinfo';
import type { SimClock } from './clock';
import { awsError } from './errors';
import { defineService, type OperationsOf } from './service';
import { copy, randomChars } from './util';

/** An SDK command output without `$metadata` (the middleware adds it). */
export type Out<T> = Omit<T, '$metadata'>;

/** What a CA delivers: leaf, key and intermediates, PEM. */
export interface SimCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly chainPem: string;
}

/** One IAM server certificate, without its private key. */
export interface IamServerCertificate {
  readonly name: string;
  readonly id: string;
  readonly arn: string;
  readonly path: string;
  readonly certificateBody: string;
  readonly certificateChain?: string;
  readonly uploadDate: Date;
  readonly expiration: Date;
  readonly tags: readonly Tag[];
  /** SHA-256 (hex) of the leaf's DER. */
  readonly sha256: string;
  /** Upload order. */
  readonly seq: number;
}

/** The IAM default quota of server certificates per account. */
export const IAM_SERVER_CERTIFICATE_QUOTA = 20;
/** Page size of ListServerCertificates when MaxItems is absent (real IAM: 100; small here to exercise pagination). */
export const IAM_DEFAULT_PAGE = 3;

const NAME_RE = /^[\w+=,.@-]{1,128}$/;
const PATH_RE = /^\/([\x21-\x7e]*\/)?$/;

/** The operations of iam the simulator answers (the SDK command names without `Command`). */
export const IAM_OPERATIONS = [
  'UploadServerCertificate',
  'GetServerCertificate',
  'ListServerCertificates',
  'DeleteServerCertificate',
  'GetAccountSummary',
] as const;

/** Simulated IAM (server certificates only). */
export class SimIam {
  readonly #keys = new Map<string, string>();
  readonly #entries = new Map<string, IamServerCertificate>();
  #seq = 0;

  /** Returns where a certificate is in use (ARNs of load balancers / distributions); set by the account. */
  attachmentsOf: (entry: IamServerCertificate) => string[] = () => [];

  constructor(
    private readonly clock: SimClock,
    private readonly accountId: string,
    /** Simulated seconds before ELB and ELBv2 see a just-uploaded certificate (fleet `iamPropagationSeconds`). */
    private readonly propagationSeconds: number = 10,
    /** ServerCertificatesQuota (fleet `iamServerCertificateQuota`). */
    readonly quota: number = IAM_SERVER_CERTIFICATE_QUOTA,
  ) {}

  /** The SDK operations, by name (exactly IAM_OPERATIONS). */
  readonly operations = {
    UploadServerCertificate: (input: UploadServerCertificateCommandInput): Out<UploadServerCertificateCommandOutput> => this.upload(input),
    GetServerCertificate: (input: GetServerCertificateCommandInput): Out<GetServerCertificateCommandOutput> => {
      const entry = this.mustGet(input.ServerCertificateName);
      return {
        ServerCertificate: {
          ServerCertificateMetadata: metadata(entry),
          CertificateBody: entry.certificateBody,
          CertificateChain: entry.certificateChain,
          Tags: copy([...entry.tags]),
        },
      };
    },
    ListServerCertificates: (input: ListServerCertificatesCommandInput): Out<ListServerCertificatesCommandOutput> => {
      const prefix = input.PathPrefix ?? '/';
      if (!prefix.startsWith('/')) throw awsError('ValidationError', 'PathPrefix must begin with "/"');
      const max = input.MaxItems ?? IAM_DEFAULT_PAGE;
      if (!Number.isInteger(max) || max < 1 || max > 1000) throw awsError('ValidationError', 'MaxItems must be 1..1000');
      let after = -1;
      if (input.Marker !== undefined) {
        const m = /^seq:(\d+)$/.exec(Buffer.from(input.Marker, 'base64').toString('utf8'));
        if (!m) throw awsError('ValidationError', `Invalid Marker "${input.Marker}"`);
        after = Number(m[1]);
      }
      const matching = this.list().filter((e) => e.path.startsWith(prefix) && e.seq > after);
      const page = matching.slice(0, max);
      const truncated = matching.length > page.length;
      return {
        ServerCertificateMetadataList: page.map(metadata),
        IsTruncated: truncated,
        Marker: truncated ? Buffer.from(`seq:${page[page.length - 1].seq}`).toString('base64') : undefined,
      };
    },
    DeleteServerCertificate: (input: DeleteServerCertificateCommandInput): Out<DeleteServerCertificateCommandOutput> => {
      const entry = this.mustGet(input.ServerCertificateName);
      const users = this.attachmentsOf(entry);
      if (users.length > 0) {
        throw awsError(
          'DeleteConflict',
          `Certificate: ${entry.id} is currently in use by ${users[0]}. Please remove it first before deleting it from IAM.`,
        );
      }
      this.#entries.delete(entry.name);
      this.#keys.delete(entry.id);
      return {};
    },
    // Only the server-certificate figures: what the rotation reads.
    GetAccountSummary: (): Out<GetAccountSummaryCommandOutput> => ({
      SummaryMap: { ServerCertificates: this.#entries.size, ServerCertificatesQuota: this.quota },
    }),
  } satisfies OperationsOf<typeof IAM_OPERATIONS>;

  /** Every certificate, in upload order (no keys). */
  list(): IamServerCertificate[] {
    return [...this.#entries.values()].sort((a, b) => a.seq - b.seq);
  }

  /** By ServerCertificateName. */
  byName(name: string): IamServerCertificate | undefined {
    return this.#entries.get(name);
  }

  /** By ARN (exact, as load balancers reference them). */
  byArn(arn: string): IamServerCertificate | undefined {
    return this.list().find((e) => e.arn === arn);
  }

  /**
   * By ARN, as ELB and ELBv2 see it: undefined while a just-uploaded certificate has not
   * propagated yet (they answer `CertificateNotFound`, as in AWS).
   */
  visibleToLoadBalancers(arn: string): IamServerCertificate | undefined {
    const entry = this.byArn(arn);
    if (!entry) return undefined;
    return entry.uploadDate.getTime() + this.propagationSeconds * 1000 <= this.clock.nowMs() ? entry : undefined;
  }

  /** By ServerCertificateId (as CloudFront references them). */
  byId(id: string): IamServerCertificate | undefined {
    return this.list().find((e) => e.id === id);
  }

  /**
   * Internal, for the TLS endpoints only: the certificate, chain and private key to serve.
   * Never pass the result to anything that records or logs.
   */
  servingMaterial(id: string): SimCertificate | undefined {
    const entry = this.byId(id);
    const keyPem = this.#keys.get(id);
    if (!entry || keyPem === undefined) return undefined;
    return { certPem: entry.certificateBody, keyPem, chainPem: entry.certificateChain ?? '' };
  }

  /**
   * The upload itself. The account also seeds the current and other certificates with it, with
   * `allowExpired` (a certificate uploaded long ago stays in IAM after it expires).
   */
  upload(
    input: UploadServerCertificateCommandInput,
    opts: { allowExpired?: boolean; uploadedAt?: Date } = {},
  ): Out<UploadServerCertificateCommandOutput> {
    const name = input.ServerCertificateName;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw awsError('ValidationError', `ServerCertificateName "${String(name)}" must match [\\w+=,.@-]{1,128}`);
    }
    const path = input.Path ?? '/';
    if (!PATH_RE.test(path) || path.length > 512) {
      throw awsError('ValidationError', `Path "${path}" must begin and end with "/"`);
    }
    if (typeof input.CertificateBody !== 'string' || typeof input.PrivateKey !== 'string') {
      throw awsError('ValidationError', 'CertificateBody and PrivateKey are required');
    }
    if (this.#entries.has(name)) {
      throw awsError('EntityAlreadyExists', `The Server Certificate with name ${name} already exists.`);
    }
    if (this.#entries.size >= this.quota) {
      throw awsError('LimitExceeded', `Cannot exceed quota for ServerCertificatesPerAccount: ${this.quota}`);
    }
    const blocks = certificateBlocks(input.CertificateBody);
    let cert: X509Certificate;
    try {
      if (blocks.length !== 1) throw new Error('not exactly one certificate');
      cert = parseCertificate(blocks[0]);
    } catch {
      throw awsError('MalformedCertificate', 'Unable to parse certificate. Please ensure the certificate is in PEM format.');
    }
    const chain: X509Certificate[] = [];
    if (input.CertificateChain !== undefined && input.CertificateChain.trim() !== '') {
      const chainBlocks = certificateBlocks(input.CertificateChain);
      try {
        if (chainBlocks.length === 0) throw new Error('no certificate');
        for (const b of chainBlocks) chain.push(parseCertificate(b));
      } catch {
        throw awsError('MalformedCertificate', 'Unable to parse certificate chain. Please ensure the chain is in PEM format.');
      }
      let child = cert;
      chain.forEach((c, i) => {
        if (!child.checkIssued(c) || !child.verify(c.publicKey)) {
          throw awsError(
            'MalformedCertificate',
            'Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, ' +
              `followed by any intermediaries in order. The index within the chain of the invalid certificate is: ${i}`,
          );
        }
        child = c;
      });
    }
    let key;
    try {
      key = createPrivateKey(input.PrivateKey);
    } catch {
      throw awsError('MalformedCertificate', 'Unable to parse the private key. Please ensure the key is an unencrypted PEM key.');
    }
    if (!cert.checkPrivateKey(key)) {
      throw awsError('KeyPairMismatch', 'The public key in the certificate does not match the private key.');
    }
    const expiration = new Date(cert.validTo);
    if (!opts.allowExpired && expiration.getTime() <= this.clock.nowMs()) {
      throw awsError(
        'MalformedCertificate',
        "Certificate is no longer valid. The 'Not After' date restriction on the certificate has passed.",
      );
    }
    const tags = (input.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value ?? '' }));
    if (tags.length > 50 || tags.some((t) => !t.Key)) throw awsError('InvalidInput', 'Tags: at most 50, each with a Key');
    const id = `ASCA${randomChars(17)}`;
    const entry: IamServerCertificate = {
      name,
      id,
      arn: `arn:aws:iam::${this.accountId}:server-certificate${path}${name}`,
      path,
      certificateBody: input.CertificateBody,
      certificateChain: input.CertificateChain,
      uploadDate: opts.uploadedAt ?? this.clock.now(),
      expiration,
      tags,
      sha256: sha256OfCertificate(cert),
      seq: ++this.#seq,
    };
    this.#entries.set(name, entry);
    this.#keys.set(id, input.PrivateKey);
    return { ServerCertificateMetadata: metadata(entry), Tags: copy(tags) };
  }

  private mustGet(name: string | undefined): IamServerCertificate {
    const entry = name === undefined ? undefined : this.#entries.get(name);
    if (!entry) throw awsError('NoSuchEntity', `The Server Certificate with name ${String(name)} cannot be found.`);
    return entry;
  }
}

function metadata(e: IamServerCertificate): ServerCertificateMetadata {
  return {
    Path: e.path,
    ServerCertificateName: e.name,
    ServerCertificateId: e.id,
    Arn: e.arn,
    UploadDate: new Date(e.uploadDate),
    Expiration: new Date(e.expiration),
  };
}

/** iam in the registry (registry.ts). */
export const iamService = defineService({
  prefix: 'iam',
  property: 'iam',
  operations: IAM_OPERATIONS,
  client: iamSdk.IAMClient,
  sdk: { exports: iamSdk, baseException: 'IAMServiceException' },
  throttlingCode: 'Throttling',
  // AWS publishes no figure for IAM's control-plane calls: a conservative estimate.
  defaultRates: { 'iam:*': 10 },
  create: (ctx) => new SimIam(ctx.clock, ctx.accountId, ctx.fleet.iamPropagationSeconds, ctx.fleet.iamServerCertificateQuota),
});
