/**
 * Simulated Secrets Manager: CreateSecret, GetSecretValue, DescribeSecret, PutSecretValue,
 * DeleteSecret, TagResource. Secrets are addressed by name or full ARN; versions carry the
 * AWSCURRENT / AWSPREVIOUS stages; a deleted secret is kept (scheduled for deletion) unless forced.
 */
import { randomUUID } from 'node:crypto';
import type {
  CreateSecretCommandInput,
  CreateSecretCommandOutput,
  DeleteSecretCommandInput,
  DeleteSecretCommandOutput,
  DescribeSecretCommandInput,
  DescribeSecretCommandOutput,
  GetSecretValueCommandInput,
  GetSecretValueCommandOutput,
  PutSecretValueCommandInput,
  PutSecretValueCommandOutput,
  Tag,
  TagResourceCommandInput,
  TagResourceCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import * as secretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';
import { copy, randomMixed } from './util';

/** One version of a simulated secret. */
export interface SimSecretVersion {
  readonly id: string;
  readonly secretString?: string;
  readonly secretBinary?: Uint8Array;
  readonly created: Date;
  stages: string[];
}

/** A simulated secret. Values are where keys belong: they are not part of `recorded()` scans. */
export interface SimSecret {
  readonly name: string;
  readonly arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  readonly created: Date;
  lastChanged: Date;
  lastAccessed?: Date;
  deletedDate?: Date;
  versions: SimSecretVersion[];
}

const NAME_RE = /^[\w/+=.@-]{1,512}$/;

/** The operations of secretsmanager the simulator answers (the SDK command names without `Command`). */
export const SECRETS_MANAGER_OPERATIONS = [
  'CreateSecret',
  'GetSecretValue',
  'DescribeSecret',
  'PutSecretValue',
  'DeleteSecret',
  'TagResource',
] as const;

/** Simulated Secrets Manager. */
export class SimSecretsManager {
  readonly secrets: SimSecret[] = [];

  constructor(
    private readonly clock: SimClock,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** Stages a secret directly (no API call recorded): what an operator would have created. Returns its ARN. */
  putSecret(name: string, secretString: string, opts: { description?: string; tags?: Tag[] } = {}): string {
    const existing = this.secrets.find((s) => s.name === name && !s.deletedDate);
    if (existing) {
      this.operations.PutSecretValue({ SecretId: existing.arn, SecretString: secretString });
      return existing.arn;
    }
    return this.operations.CreateSecret({ Name: name, SecretString: secretString, Description: opts.description, Tags: opts.tags }).ARN!;
  }

  /** The SDK operations, by name (exactly SECRETS_MANAGER_OPERATIONS). */
  readonly operations = {
    CreateSecret: (input: CreateSecretCommandInput): Out<CreateSecretCommandOutput> => {
      const name = input.Name ?? '';
      if (!NAME_RE.test(name)) throw awsError('InvalidParameterException', `Invalid name "${name}"`);
      const existing = this.secrets.find((s) => s.name === name);
      if (existing?.deletedDate) {
        throw awsError(
          'InvalidRequestException',
          `You can't create this secret because a secret with this name is already scheduled for deletion.`,
        );
      }
      if (existing) throw awsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
      if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
        throw awsError(
          'InvalidParameterException',
          "You can't specify both a binary secret value and a string secret value in the same secret.",
        );
      }
      const now = this.clock.now();
      const secret: SimSecret = {
        name,
        arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomMixed(6)}`,
        description: input.Description,
        kmsKeyId: input.KmsKeyId,
        tags: copy(input.Tags ?? []),
        created: now,
        lastChanged: now,
        versions: [],
      };
      this.secrets.push(secret);
      let versionId: string | undefined;
      if (input.SecretString !== undefined || input.SecretBinary !== undefined) {
        versionId = this.addVersion(secret, input.SecretString, input.SecretBinary, input.ClientRequestToken);
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
    },
    GetSecretValue: (input: GetSecretValueCommandInput): Out<GetSecretValueCommandOutput> => {
      const secret = this.mustGetLive(input.SecretId);
      let version: SimSecretVersion | undefined;
      if (input.VersionId !== undefined) version = secret.versions.find((v) => v.id === input.VersionId);
      else version = secret.versions.find((v) => v.stages.includes(input.VersionStage ?? 'AWSCURRENT'));
      if (!version || (input.VersionStage !== undefined && !version.stages.includes(input.VersionStage))) {
        throw awsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for ${input.VersionId ? `VersionId: ${input.VersionId}` : `staging label: ${input.VersionStage ?? 'AWSCURRENT'}`}`,
        );
      }
      secret.lastAccessed = this.clock.now();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        SecretString: version.secretString,
        SecretBinary: version.secretBinary ? new Uint8Array(version.secretBinary) : undefined,
        VersionStages: [...version.stages],
        CreatedDate: new Date(version.created),
      };
    },
    DescribeSecret: (input: DescribeSecretCommandInput): Out<DescribeSecretCommandOutput> => {
      const s = this.mustGet(input.SecretId);
      return {
        ARN: s.arn,
        Name: s.name,
        Description: s.description,
        KmsKeyId: s.kmsKeyId,
        RotationEnabled: false,
        LastChangedDate: new Date(s.lastChanged),
        LastAccessedDate: s.lastAccessed ? new Date(s.lastAccessed) : undefined,
        DeletedDate: s.deletedDate ? new Date(s.deletedDate) : undefined,
        Tags: copy(s.tags),
        VersionIdsToStages: Object.fromEntries(s.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, [...v.stages]])),
        CreatedDate: new Date(s.created),
      };
    },
    PutSecretValue: (input: PutSecretValueCommandInput): Out<PutSecretValueCommandOutput> => {
      const s = this.mustGetLive(input.SecretId);
      if ((input.SecretString === undefined) === (input.SecretBinary === undefined)) {
        throw awsError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
      }
      const id = this.addVersion(s, input.SecretString, input.SecretBinary, input.ClientRequestToken);
      const version = s.versions.find((v) => v.id === id)!;
      return { ARN: s.arn, Name: s.name, VersionId: id, VersionStages: [...version.stages] };
    },
    DeleteSecret: (input: DeleteSecretCommandInput): Out<DeleteSecretCommandOutput> => {
      const s = this.mustGet(input.SecretId);
      if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) {
        throw awsError('InvalidParameterException', "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
      }
      const days = input.RecoveryWindowInDays ?? 30;
      if (!input.ForceDeleteWithoutRecovery && (days < 7 || days > 30)) {
        throw awsError('InvalidParameterException', 'RecoveryWindowInDays must be between 7 and 30');
      }
      const now = this.clock.nowMs();
      if (input.ForceDeleteWithoutRecovery) {
        this.secrets.splice(this.secrets.indexOf(s), 1);
        return { ARN: s.arn, Name: s.name, DeletionDate: new Date(now) };
      }
      s.deletedDate ??= new Date(now);
      return { ARN: s.arn, Name: s.name, DeletionDate: new Date(s.deletedDate.getTime() + days * 86_400_000) };
    },
    TagResource: (input: TagResourceCommandInput): Out<TagResourceCommandOutput> => {
      const s = this.mustGet(input.SecretId);
      for (const t of input.Tags ?? []) {
        if (!t.Key) throw awsError('InvalidParameterException', 'Tag keys must not be empty');
        const existing = s.tags.find((x) => x.Key === t.Key);
        if (existing) existing.Value = t.Value;
        else s.tags.push({ Key: t.Key, Value: t.Value });
      }
      if (s.tags.length > 50) throw awsError('LimitExceededException', 'A secret can have at most 50 tags');
      return {};
    },
  } satisfies OperationsOf<typeof SECRETS_MANAGER_OPERATIONS>;

  /** By name or full ARN (deleted ones included), or ResourceNotFoundException. */
  mustGet(secretId: string | undefined): SimSecret {
    const s = this.secrets.find((x) => x.arn === secretId || x.name === secretId);
    if (!s) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  }

  private mustGetLive(secretId: string | undefined): SimSecret {
    const s = this.mustGet(secretId);
    if (s.deletedDate) {
      throw awsError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
    }
    return s;
  }

  private addVersion(s: SimSecret, secretString: string | undefined, secretBinary: Uint8Array | undefined, token?: string): string {
    const id = token ?? randomUUID();
    const same = s.versions.find((v) => v.id === id);
    if (same) {
      // Idempotent retry with the same ClientRequestToken and value; a different value is an error.
      if (same.secretString !== secretString) {
        throw awsError('ResourceExistsException', `A version with ClientRequestToken ${id} already exists with a different value.`);
      }
      return id;
    }
    for (const v of s.versions) {
      v.stages = v.stages.filter((st) => st !== 'AWSPREVIOUS');
      if (v.stages.includes('AWSCURRENT')) v.stages = [...v.stages.filter((st) => st !== 'AWSCURRENT'), 'AWSPREVIOUS'];
    }
    s.versions.push({
      id,
      secretString,
      secretBinary: secretBinary ? new Uint8Array(secretBinary) : undefined,
      created: this.clock.now(),
      stages: ['AWSCURRENT'],
    });
    s.lastChanged = this.clock.now();
    return id;
  }
}

/** secretsmanager in the registry (registry.ts). */
export const secretsManagerService = defineService({
  prefix: 'secretsmanager',
  property: 'secretsManager',
  operations: SECRETS_MANAGER_OPERATIONS,
  client: secretsManagerSdk.SecretsManagerClient,
  sdk: { exports: secretsManagerSdk, baseException: 'SecretsManagerServiceException' },
  throttlingCode: 'ThrottlingException',
  // Published: GetSecretValue 10,000/s, the other calls 50/s.
  defaultRates: { 'secretsmanager:*': 50, 'secretsmanager:GetSecretValue': 10000 },
  create: (ctx) => new SimSecretsManager(ctx.clock, ctx.region, ctx.accountId),
  // Names, descriptions and tags; never the values (that is where keys belong).
  recorded: (secrets) =>
    secrets.secrets.map((s) => ({ place: 'secrets', name: s.name, text: `${s.name}\n${s.description ?? ''}\n${JSON.stringify(s.tags)}` })),
});
