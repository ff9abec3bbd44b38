/** Who gets the approval and result emails, and the configuration-management follow-up the success email lists. */
import { objectAt, str, strList } from '../fields';
import { defineSection } from '../section';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const notificationsSection = defineSection({
  keys: ['notificationEmails', 'configurationManagement'],
  resolve(raw, p) {
    const notificationEmails = strList(p, raw, 'notificationEmails', 'notificationEmails');
    if (notificationEmails === undefined && raw.notificationEmails === undefined)
      p.add('notificationEmails', 'is required (who approves and hears the result)');
    notificationEmails?.forEach((e, i) => {
      if (!EMAIL_RE.test(e)) p.add(`notificationEmails[${i}]`, `"${e}" is not an email address`);
    });
    if (notificationEmails?.length === 0) p.add('notificationEmails', 'must hold at least one address');
    const cmRaw = objectAt(p, raw, 'configurationManagement', false, ['role', 'certificateFile', 'vaultFile']);
    const cm = cmRaw && {
      role: str(p, cmRaw, 'role', 'configurationManagement.role', true),
      certificateFile: str(p, cmRaw, 'certificateFile', 'configurationManagement.certificateFile', true),
      vaultFile: str(p, cmRaw, 'vaultFile', 'configurationManagement.vaultFile', true),
    };
    const configurationManagement =
      cm?.role && cm.certificateFile && cm.vaultFile
        ? { role: cm.role, certificateFile: cm.certificateFile, vaultFile: cm.vaultFile }
        : undefined;
    return notificationEmails ? { notificationEmails, ...(configurationManagement ? { configurationManagement } : {}) } : undefined;
  },
});
