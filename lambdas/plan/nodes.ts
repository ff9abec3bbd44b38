import { paginateDescribeInstanceInformation, type SSMClient } from '@aws-sdk/client-ssm';
import { pages } from '../shared/aws-clients';

/** DescribeInstanceInformation `MaxResults`: 5..50. An `InstanceIds` filter takes a bounded list: 50 ids per call. */
export const SSM_INFO_PAGE = 50;

/** Why a node cannot take part in its phase. */
export interface UnavailableNode {
  readonly instanceId: string;
  readonly name: string;
  readonly phase: string;
  /** `not managed by SSM` or `SSM ping status ConnectionLost` (or Inactive). */
  readonly reason: string;
}

/** The SSM ping status of each of `instanceIds` that SSM manages (absent: not managed). */
export async function pingStatuses(ssm: SSMClient, instanceIds: readonly string[]): Promise<Map<string, string>> {
  const status = new Map<string, string>();
  for (let i = 0; i < instanceIds.length; i += SSM_INFO_PAGE) {
    const chunk = instanceIds.slice(i, i + SSM_INFO_PAGE);
    const input = { Filters: [{ Key: 'InstanceIds', Values: chunk }] };
    for await (const out of paginateDescribeInstanceInformation(pages(ssm, SSM_INFO_PAGE), input)) {
      for (const info of out.InstanceInformationList ?? []) {
        if (info.InstanceId) status.set(info.InstanceId, info.PingStatus ?? 'unknown');
      }
    }
  }
  return status;
}

/** Why an instance with this ping status (undefined: not managed) cannot run the command, or undefined when it can. */
export function unavailableReason(pingStatus: string | undefined): string | undefined {
  if (pingStatus === undefined) return 'not managed by SSM (no SSM Agent registered, or no instance profile allowing it)';
  if (pingStatus !== 'Online') return `SSM ping status ${pingStatus}`;
  return undefined;
}
