/**
 * Simulated EC2: DescribeInstances over the fleet's instances (all running), with the filters the
 * node phases use (`tag:<Key>`, `tag-key`, `tag-value`, `instance-state-name`, `instance-id`),
 * InstanceIds, and MaxResults/NextToken paging (like the real API: everything when MaxResults is absent).
 */
import type { DescribeInstancesCommandInput, DescribeInstancesCommandOutput, Filter, Instance, Reservation } from '@aws-sdk/client-ec2';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { FleetInstance } from './fleet';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';
import { nodeTargets } from './targets';
import { paginate, stableHex } from './util';

/** A simulated instance. */
export interface SimInstance {
  readonly id: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly nginx: boolean;
  /** Registered with SSM (DescribeInstanceInformation lists it; SendCommand reaches it). */
  readonly ssmManaged: boolean;
  readonly privateIp: string;
  readonly privateDnsName: string;
  readonly launchTime: Date;
}

/** EC2's filter wildcards: `*` any run, `?` one character. */
function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

/** The operations of ec2 the simulator answers (the SDK command names without `Command`). */
export const EC2_OPERATIONS = ['DescribeInstances'] as const;

/** Simulated EC2 (instances only). */
export class SimEc2 {
  readonly instances: SimInstance[] = [];

  constructor(
    private readonly clock: SimClock,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** Creates the fleet's instances with private IPs 10.0.x.y. */
  seed(instances: readonly FleetInstance[]): void {
    instances.forEach((inst, i) => {
      const ip = `10.0.${1 + Math.floor(i / 240)}.${10 + (i % 240)}`;
      const domain = this.region === 'us-east-1' ? 'ec2.internal' : `${this.region}.compute.internal`;
      this.instances.push({
        id: inst.id,
        tags: { ...inst.tags },
        nginx: inst.nginx,
        ssmManaged: inst.ssmManaged !== false,
        privateIp: ip,
        privateDnsName: `ip-${ip.replace(/\./g, '-')}.${domain}`,
        launchTime: new Date(this.clock.nowMs() - 90 * 86_400_000),
      });
    });
  }

  /** By instance id. */
  byId(id: string): SimInstance | undefined {
    return this.instances.find((i) => i.id === id);
  }

  /** The SDK operations, by name (exactly EC2_OPERATIONS). */
  readonly operations = {
    DescribeInstances: (input: DescribeInstancesCommandInput): Out<DescribeInstancesCommandOutput> => {
      if (input.MaxResults !== undefined) {
        if (input.InstanceIds?.length) {
          throw awsError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
        }
        if (!Number.isInteger(input.MaxResults) || input.MaxResults < 5 || input.MaxResults > 1000) {
          throw awsError(
            'InvalidParameterValue',
            `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
          );
        }
      }
      let selected = this.instances;
      if (input.InstanceIds?.length) {
        const missing = input.InstanceIds.filter((id) => !this.byId(id));
        if (missing.length > 0) {
          throw awsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
        }
        selected = selected.filter((i) => input.InstanceIds!.includes(i.id));
      }
      for (const f of input.Filters ?? []) selected = selected.filter((i) => this.matches(i, f));
      const { page, next } = paginate(selected, {
        marker: input.NextToken,
        pageSize: input.MaxResults ?? Number.MAX_SAFE_INTEGER,
        kind: 'ec2',
        errorCode: 'InvalidParameterValue',
      });
      return { Reservations: page.map((i) => this.reservation(i)), NextToken: next };
    },
  } satisfies OperationsOf<typeof EC2_OPERATIONS>;

  private matches(inst: SimInstance, filter: Filter): boolean {
    const name = filter.Name ?? '';
    const values = filter.Values ?? [];
    const matchesAny = (candidates: string[]) => candidates.some((c) => values.some((v) => wildcardMatch(v, c)));
    if (name.startsWith('tag:')) {
      const v = inst.tags[name.slice(4)];
      return v !== undefined && matchesAny([v]);
    }
    switch (name) {
      case 'tag-key':
        return matchesAny(Object.keys(inst.tags));
      case 'tag-value':
        return matchesAny(Object.values(inst.tags));
      case 'instance-state-name':
        return matchesAny(['running']);
      case 'instance-id':
        return matchesAny([inst.id]);
      case 'private-ip-address':
        return matchesAny([inst.privateIp]);
      default:
        throw awsError(
          'InvalidParameterValue',
          `The filter '${name}' is invalid (simulated filters: tag:<key>, tag-key, tag-value, instance-state-name, instance-id, private-ip-address)`,
        );
    }
  }

  private reservation(i: SimInstance): Reservation {
    const instance: Instance = {
      InstanceId: i.id,
      ImageId: 'ami-0sim00000000000',
      State: { Code: 16, Name: 'running' },
      PrivateDnsName: i.privateDnsName,
      PublicDnsName: '',
      InstanceType: 't3.small',
      LaunchTime: new Date(i.launchTime),
      Placement: { AvailabilityZone: `${this.region}a`, Tenancy: 'default' },
      Monitoring: { State: 'disabled' },
      SubnetId: 'subnet-0a1b2c3d',
      VpcId: 'vpc-0sim0000',
      PrivateIpAddress: i.privateIp,
      Architecture: 'x86_64',
      RootDeviceType: 'ebs',
      RootDeviceName: '/dev/xvda',
      SecurityGroups: [{ GroupId: 'sg-0nodes00', GroupName: 'nodes' }],
      Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
      PlatformDetails: 'Linux/UNIX',
    };
    return { ReservationId: `r-${stableHex(i.id, 17)}`, OwnerId: this.accountId, Groups: [], Instances: [instance] };
  }
}

/** ec2 in the registry (registry.ts). */
export const ec2Service = defineService({
  prefix: 'ec2',
  property: 'ec2',
  operations: EC2_OPERATIONS,
  client: ec2Sdk.EC2Client,
  sdk: { exports: ec2Sdk, baseException: 'EC2ServiceException' },
  throttlingCode: 'RequestLimitExceeded',
  // Published: non-mutating actions 20/s.
  defaultRates: { 'ec2:*': 20 },
  create: (ctx) => new SimEc2(ctx.clock, ctx.region, ctx.accountId),
  seed: (ec2, ctx) => ec2.seed(ctx.fleet.instances),
  targets: nodeTargets,
});
