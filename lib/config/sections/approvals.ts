/** The approval gates: how long they wait, and who may read their tokens. */
import { int, objectAt, strList } from '../fields';
import { defineSection } from '../section';

// An IAM role ARN, with an optional path (SSO roles have one), never a wildcard.
const ROLE_ARN_RE = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\x21-\x29\x2b-\x7e]+\/)?[\w+=,.@-]{1,64}$/;

export const approvalsSection = defineSection({
  keys: ['approvals'],
  resolve(raw, p) {
    const approvalsRaw = objectAt(p, raw, 'approvals', false, ['timeoutSeconds', 'approverRoleArns']) ?? {};
    const approverRoleArns = strList(p, approvalsRaw, 'approverRoleArns', 'approvals.approverRoleArns') ?? [];
    approverRoleArns.forEach((arn, i) => {
      if (!ROLE_ARN_RE.test(arn)) {
        p.add(
          `approvals.approverRoleArns[${i}]`,
          `"${arn}" must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), without wildcards`,
        );
      }
    });
    if (new Set(approverRoleArns).size !== approverRoleArns.length) p.add('approvals.approverRoleArns', 'lists a role twice');
    return {
      approvals: {
        timeoutSeconds: int(p, approvalsRaw, 'timeoutSeconds', 'approvals.timeoutSeconds', 60, 7 * 86400, 86400)!,
        approverRoleArns,
      },
    };
  },
});
