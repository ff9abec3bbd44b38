/**
 * Simulated SSM Parameter Store: PutParameter and GetParameter (the monit fingerprint). Values are
 * recorded for the secret scan.
 *
 * Run Command (SendCommand / GetCommandInvocation / ListCommandInvocations) is NOT simulated yet:
 * the node phases will add it together with the sandboxed node script.
 */
import type {
  GetParameterCommandInput,
  GetParameterCommandOutput,
  ParameterType,
  PutParameterCommandInput,
  PutParameterCommandOutput,
} from '@aws-sdk/client-ssm';
import * as ssmSdk from '@aws-sdk/client-ssm';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';

/** A stored parameter. */
export interface SimParameter {
  readonly name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModified: Date;
  description?: string;
}

const NAME_RE = /^\/?[\w.\-/]{1,2048}$/;

/** The operations of ssm the simulator answers (the SDK command names without `Command`). */
export const SSM_OPERATIONS = ['PutParameter', 'GetParameter'] as const;

/** Simulated SSM (Parameter Store only). */
export class SimSsm {
  readonly parameters = new Map<string, SimParameter>();
  /** Every version of every parameter as written (SSM keeps a parameter's history), for the secret scan. */
  readonly history: SimParameter[] = [];

  constructor(
    private readonly clock: SimClock,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** The SDK operations, by name (exactly SSM_OPERATIONS). */
  readonly operations = {
    PutParameter: (input: PutParameterCommandInput): Out<PutParameterCommandOutput> => {
      const name = input.Name ?? '';
      if (!NAME_RE.test(name)) throw awsError('ValidationException', `Parameter name "${name}" is not valid`);
      if (input.Value === undefined || input.Value.length === 0) throw awsError('ValidationException', 'Value must not be empty');
      if (input.Value.length > 4096) throw awsError('ValidationException', 'Standard parameter values are at most 4096 characters');
      const existing = this.parameters.get(name);
      if (existing && !input.Overwrite) {
        throw awsError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      }
      if (existing && input.Type !== undefined && input.Type !== existing.type) {
        throw awsError('HierarchyTypeMismatchException', 'The parameter type cannot be changed.');
      }
      const version = (existing?.version ?? 0) + 1;
      const parameter: SimParameter = {
        name,
        type: input.Type ?? existing?.type ?? 'String',
        value: input.Value,
        version,
        lastModified: this.clock.now(),
        description: input.Description ?? existing?.description,
      };
      this.parameters.set(name, parameter);
      this.history.push({ ...parameter });
      return { Version: version, Tier: 'Standard' };
    },
    GetParameter: (input: GetParameterCommandInput): Out<GetParameterCommandOutput> => {
      const p = this.parameters.get(input.Name ?? '');
      if (!p) throw awsError('ParameterNotFound', `Parameter ${String(input.Name)} not found.`);
      return {
        Parameter: {
          Name: p.name,
          Type: p.type,
          Value: p.value,
          Version: p.version,
          LastModifiedDate: new Date(p.lastModified),
          ARN: `arn:aws:ssm:${this.region}:${this.accountId}:parameter${p.name.startsWith('/') ? '' : '/'}${p.name}`,
          DataType: 'text',
        },
      };
    },
  } satisfies OperationsOf<typeof SSM_OPERATIONS>;
}

/** ssm in the registry (registry.ts). */
export const ssmService = defineService({
  prefix: 'ssm',
  property: 'ssm',
  operations: SSM_OPERATIONS,
  client: ssmSdk.SSMClient,
  sdk: { exports: ssmSdk, baseException: 'SSMServiceException' },
  throttlingCode: 'ThrottlingException',
  // Estimates (PutParameter's standard throughput is low).
  defaultRates: { 'ssm:*': 40, 'ssm:PutParameter': 3 },
  create: (ctx) => new SimSsm(ctx.clock, ctx.region, ctx.accountId),
  // Every version of every parameter (an overwritten value stays in the parameter's history).
  recorded: (ssm) =>
    ssm.history.map((p) => ({
      place: 'ssm parameters',
      name: `${p.name} (version ${p.version})`,
      text: `${p.description ?? ''}\n${p.value}`,
    })),
});
