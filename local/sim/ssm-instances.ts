/**
 * Simulated SSM DescribeInstanceInformation: the fleet's instances registered with SSM (`ssmManaged`
 * not false), each `Online`, or `ConnectionLost` when the faults file makes it `offline`. An
 * instance not managed by SSM is absent, whatever the filter names. Filters: `Filters` (keys
 * `InstanceIds`, `PingStatus`, `PlatformTypes`, `ResourceType`, `tag:<key>`, `tag-key`) or the
 * legacy `InstanceInformationFilterList` (`InstanceIds`, `PingStatus`, `PlatformTypes`,
 * `ResourceType`), not both; MaxResults 5..50 (default 10), NextToken.
 */
import type {
  DescribeInstanceInformationCommandInput,
  DescribeInstanceInformationCommandOutput,
  InstanceInformation,
} from '@aws-sdk/client-ssm';
import type { SimClock } from './clock';
import type { SimInstance } from './ec2';
import { awsError } from './errors';
import type { Out } from './iam';
import type { RunCommand } from './ssm-run-command';
import { pageSize, paginate } from './util';

/** The agent version every simulated node reports. */
export const SIM_AGENT_VERSION = '3.3.2746.0';

function matches(inst: SimInstance, ping: string, key: string, values: readonly string[]): boolean {
  switch (key) {
    case 'InstanceIds':
      return values.includes(inst.id);
    case 'PingStatus':
      return values.includes(ping);
    case 'PlatformTypes':
      return values.includes('Linux');
    case 'ResourceType':
      return values.includes('EC2Instance');
    case 'tag-key':
      return values.some((v) => Object.hasOwn(inst.tags, v));
    default:
      if (key.startsWith('tag:')) return values.includes(inst.tags[key.slice(4)] ?? '\u0000');
      throw awsError('InvalidInstanceInformationFilterValue', `The filter key ${key} is not simulated`);
  }
}

/** DescribeInstanceInformation over the instances `runCommand` knows (see the module comment). */
export function describeInstanceInformation(
  runCommand: RunCommand,
  clock: SimClock,
  input: DescribeInstanceInformationCommandInput,
): Out<DescribeInstanceInformationCommandOutput> {
  if (input.Filters?.length && input.InstanceInformationFilterList?.length) {
    throw awsError('InvalidFilterKey', 'InstanceInformationFilterList and Filters cannot be used together');
  }
  const size = pageSize(input.MaxResults, 10, 5, 50, 'ValidationException', 'MaxResults');
  const filters = [
    ...(input.Filters ?? []).map((f) => ({ key: f.Key ?? '', values: f.Values ?? [] })),
    ...(input.InstanceInformationFilterList ?? []).map((f) => ({ key: f.key ?? '', values: f.valueSet ?? [] })),
  ];
  const now = clock.nowMs();
  const rows = runCommand
    .managed()
    .map((inst) => ({ inst, ping: runCommand.offline.has(inst.id) ? 'ConnectionLost' : 'Online' }))
    .filter(({ inst, ping }) => filters.every((f) => matches(inst, ping, f.key, f.values)));
  const { page, next } = paginate(rows, { marker: input.NextToken, pageSize: size, kind: 'ssm-instances', errorCode: 'InvalidNextToken' });
  const info = page.map(({ inst, ping }): InstanceInformation => ({
    InstanceId: inst.id,
    PingStatus: ping as InstanceInformation['PingStatus'],
    // An offline agent last reported a while ago.
    LastPingDateTime: new Date(ping === 'Online' ? now - 60_000 : now - 3_600_000),
    AgentVersion: SIM_AGENT_VERSION,
    IsLatestVersion: false,
    PlatformType: 'Linux',
    PlatformName: 'Amazon Linux',
    PlatformVersion: '2023',
    ResourceType: 'EC2Instance',
    IPAddress: inst.privateIp,
    ComputerName: inst.privateDnsName,
    SourceId: inst.id,
    SourceType: 'AWS::EC2::Instance',
  }));
  return { InstanceInformationList: info, NextToken: next };
}
