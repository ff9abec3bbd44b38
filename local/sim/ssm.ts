/**
 * Simulated SSM: Parameter Store (PutParameter, GetParameter: the monit fingerprint), Run Command
 * (SendCommand, GetCommandInvocation, ListCommandInvocations, ListCommands: ssm-run-command.ts,
 * with the documents of ssm-documents.ts) and DescribeInstanceInformation (ssm-instances.ts).
 * Parameter values, command parameters and every invocation's output are recorded for the secret
 * scan.
 */
import type {
  DescribeInstanceInformationCommandInput,
  GetParameterCommandInput,
  GetParameterCommandOutput,
  ParameterType,
  PutParameterCommandInput,
  PutParameterCommandOutput,
} from '@aws-sdk/client-ssm';
import * as ssmSdk from '@aws-sdk/client-ssm';
import type { SimClock } from './clock';
import type { SimEc2 } from './ec2';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';
import { parseCommandDocument, type SimDocument } from './ssm-documents';
import { describeInstanceInformation } from './ssm-instances';
import { RunCommand } from './ssm-run-command';

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
export const SSM_OPERATIONS = [
  'PutParameter',
  'GetParameter',
  'SendCommand',
  'GetCommandInvocation',
  'ListCommandInvocations',
  'ListCommands',
  'DescribeInstanceInformation',
] as const;

/** Simulated SSM. */
export class SimSsm {
  readonly parameters = new Map<string, SimParameter>();
  /** Every version of every parameter as written (SSM keeps a parameter's history), for the secret scan. */
  readonly history: SimParameter[] = [];
  /** Command documents by name (the rehearsal registers the stack's). */
  readonly documents = new Map<string, SimDocument>();
  /** Run Command: commands, invocations, the node executor, offline agents. */
  readonly runCommand: RunCommand;

  constructor(
    private readonly clock: SimClock,
    private readonly region: string,
    private readonly accountId: string,
    ec2: SimEc2,
  ) {
    this.runCommand = new RunCommand(clock, accountId, ec2, this.documents);
  }

  /** Registers a Command document (schema 2.2; its JSON content as an object or text), as CreateDocument would. */
  registerDocument(name: string, content: unknown): void {
    this.documents.set(name, parseCommandDocument(name, content));
  }

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
    SendCommand: (input: Parameters<RunCommand['operations']['SendCommand']>[0]) => this.runCommand.operations.SendCommand(input),
    GetCommandInvocation: (input: Parameters<RunCommand['operations']['GetCommandInvocation']>[0]) =>
      this.runCommand.operations.GetCommandInvocation(input),
    ListCommandInvocations: (input: Parameters<RunCommand['operations']['ListCommandInvocations']>[0]) =>
      this.runCommand.operations.ListCommandInvocations(input),
    ListCommands: (input: Parameters<RunCommand['operations']['ListCommands']>[0]) => this.runCommand.operations.ListCommands(input),
    DescribeInstanceInformation: (input: DescribeInstanceInformationCommandInput) =>
      describeInstanceInformation(this.runCommand, this.clock, input),
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
  // Estimates (PutParameter's standard throughput is low; Run Command's rates are not published).
  defaultRates: {
    'ssm:*': 40,
    'ssm:PutParameter': 3,
    'ssm:SendCommand': 20,
    'ssm:GetCommandInvocation': 40,
    'ssm:ListCommandInvocations': 40,
    'ssm:ListCommands': 20,
    'ssm:DescribeInstanceInformation': 20,
  },
  create: (ctx) => new SimSsm(ctx.clock, ctx.region, ctx.accountId, ctx.service<SimEc2>('ec2')),
  // Every version of every parameter (an overwritten value stays in the parameter's history), and
  // of Run Command what a caller or a node wrote: each command's parameters and comment, and each
  // invocation's whole stdout and stderr (more than the API returns).
  recorded: (ssm) => [
    ...ssm.history.map((p) => ({
      place: 'ssm parameters' as const,
      name: `${p.name} (version ${p.version})`,
      text: `${p.description ?? ''}\n${p.value}`,
    })),
    ...ssm.runCommand.commands.flatMap((c) => [
      { place: 'ssm output' as const, name: `command ${c.id} parameters`, text: `${c.comment}\n${JSON.stringify(c.givenParameters)}` },
      ...c.invocations
        .filter((i) => i.phase === 'done')
        .flatMap((i) => [
          { place: 'ssm output' as const, name: `command ${c.id} on ${i.instanceId}: stdout`, text: i.stdout },
          { place: 'ssm output' as const, name: `command ${c.id} on ${i.instanceId}: stderr`, text: i.stderr },
        ]),
    ]),
  ],
});
