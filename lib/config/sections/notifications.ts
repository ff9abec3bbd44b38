/** Who gets the approval and result emails. */
import { strList } from '../fields';
import { defineSection } from '../section';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const notificationsSection = defineSection({
  keys: ['notificationEmails'],
  resolve(raw, p) {
    const notificationEmails = strList(p, raw, 'notificationEmails', 'notificationEmails');
    if (notificationEmails === undefined && raw.notificationEmails === undefined)
      p.add('notificationEmails', 'is required (who approves and hears the result)');
    notificationEmails?.forEach((e, i) => {
      if (!EMAIL_RE.test(e)) p.add(`notificationEmails[${i}]`, `"${e}" is not an email address`);
    });
    if (notificationEmails?.length === 0) p.add('notificationEmails', 'must hold at least one address');
    return notificationEmails ? { notificationEmails } : undefined;
  },
});
