/** The approval gates: how long they wait, and what a timeout does. */
import { int, objectAt } from '../fields';
import { defineSection } from '../section';

// Only `rollback` for now: stopping without a rollback needs the finish report and the
// rehearsal's judgement to tell "stopped, changes kept" from "rollback incomplete" (not built).
const ON_TIMEOUT = ['rollback'] as const;

export const approvalsSection = defineSection({
  keys: ['approvals'],
  resolve(raw, p) {
    const approvalsRaw = objectAt(p, raw, 'approvals', false, ['timeoutSeconds', 'onTimeout', 'approverRoleArns']) ?? {};
    // Approvers decide on the approval page now; nobody but the page's role reads a task token.
    if (approvalsRaw.approverRoleArns !== undefined) {
      p.add(
        'approvals.approverRoleArns',
        'is no longer used: approvers decide on the approval page linked from the email, and only the page reads the task token; remove it',
      );
    }
    const onTimeout = approvalsRaw.onTimeout ?? 'rollback';
    if (typeof onTimeout !== 'string' || !(ON_TIMEOUT as readonly string[]).includes(onTimeout)) {
      p.add('approvals.onTimeout', `must be one of ${ON_TIMEOUT.map((v) => `"${v}"`).join(', ')}`);
    }
    return {
      approvals: {
        timeoutSeconds: int(p, approvalsRaw, 'timeoutSeconds', 'approvals.timeoutSeconds', 60, 7 * 86400, 86400)!,
        onTimeout: 'rollback' as const,
      },
    };
  },
});
