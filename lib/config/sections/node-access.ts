/** The instance roles of the nodes, which get the policy to read the certificate secrets (optional). */
import { objectAt, strList } from '../fields';
import { defineSection } from '../section';

// An IAM role name (not an ARN, no path): what a managed policy's Roles list takes.
const ROLE_NAME_RE = /^[\w+=,.@-]{1,64}$/;

export const nodeAccessSection = defineSection({
  keys: ['nodeAccess'],
  resolve(raw, p) {
    const accessRaw = objectAt(p, raw, 'nodeAccess', false, ['instanceRoleNames']) ?? {};
    const instanceRoleNames = strList(p, accessRaw, 'instanceRoleNames', 'nodeAccess.instanceRoleNames') ?? [];
    instanceRoleNames.forEach((name, i) => {
      if (!ROLE_NAME_RE.test(name)) {
        p.add(
          `nodeAccess.instanceRoleNames[${i}]`,
          `"${name}" must be an IAM role name (letters, digits and +=,.@_-, at most 64), not an ARN`,
        );
      }
    });
    if (new Set(instanceRoleNames).size !== instanceRoleNames.length) p.add('nodeAccess.instanceRoleNames', 'lists a role twice');
    return { nodeAccess: { instanceRoleNames } };
  },
});
