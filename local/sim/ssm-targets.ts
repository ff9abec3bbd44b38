/**
 * Which instances a SendCommand reaches (ssm-run-command.ts): `InstanceIds` (<= 50, each managed
 * by SSM, no repeats) or `Targets` (<= 5; keys `InstanceIds`, `tag:<key>`, `tag-key`; 1 to 50
 * values each; targets AND together, the values of one target OR), among SSM-managed instances.
 */
import type { SendCommandCommandInput } from '@aws-sdk/client-ssm';
import type { SimInstance } from './ec2';
import { awsError } from './errors';

/** The instances a SendCommand reaches, in fleet order (see the module comment). */
export function targetsOf(input: SendCommandCommandInput, managed: readonly SimInstance[], accountId: string): readonly SimInstance[] {
  const ids = input.InstanceIds ?? [];
  const targets = input.Targets ?? [];
  if (ids.length > 0 && targets.length > 0) throw awsError('ValidationException', 'InstanceIds and Targets cannot be used together');
  if (ids.length === 0 && targets.length === 0) throw awsError('ValidationException', 'One of InstanceIds or Targets is required');
  if (ids.length > 50) throw awsError('ValidationException', 'InstanceIds takes at most 50 instances: use Targets beyond that');
  if (targets.length > 5) throw awsError('ValidationException', 'Targets takes at most 5 targets');
  if (ids.length > 0) {
    if (new Set(ids).size !== ids.length) throw awsError('DuplicateInstanceId', 'Instance IDs must not repeat');
    const bad = ids.filter((id) => !managed.some((i) => i.id === id));
    if (bad.length > 0) {
      throw awsError('InvalidInstanceId', `Instances [[${bad.join(', ')}]] not in a valid state for account ${accountId}`);
    }
    return managed.filter((i) => ids.includes(i.id));
  }
  let selected = managed;
  for (const t of targets) {
    const key = t.Key ?? '';
    const values = t.Values ?? [];
    if (values.length === 0 || values.length > 50) throw awsError('ValidationException', `Target ${key}: 1 to 50 values`);
    if (key === 'InstanceIds') selected = selected.filter((i) => values.includes(i.id));
    else if (key === 'tag-key') selected = selected.filter((i) => values.some((v) => Object.hasOwn(i.tags, v)));
    else if (key.startsWith('tag:') && key.length > 4) selected = selected.filter((i) => values.includes(i.tags[key.slice(4)] ?? '\u0000'));
    else throw awsError('ValidationException', `Target key ${key} is not simulated (simulated: InstanceIds, tag:<key>, tag-key)`);
  }
  return selected;
}
