/** Where nginx keeps the certificate and key on a node, and how it is tested and reloaded. */
import { objectAt, str } from '../fields';
import { defineSection } from '../section';

export const nginxSection = defineSection({
  keys: ['nginx'],
  resolve(raw, p) {
    const nginxRaw = objectAt(p, raw, 'nginx', true, ['certificatePath', 'keyPath', 'testCommand', 'reloadCommand']);
    if (!nginxRaw) return undefined;
    const certificatePath = str(p, nginxRaw, 'certificatePath', 'nginx.certificatePath', true);
    const keyPath = str(p, nginxRaw, 'keyPath', 'nginx.keyPath', true);
    for (const [k, v] of [
      ['certificatePath', certificatePath],
      ['keyPath', keyPath],
    ] as const) {
      if (v !== undefined && !/^\/[\w./-]+$/.test(v)) p.add(`nginx.${k}`, `"${v}" must be an absolute path of letters, digits, . _ - /`);
    }
    const testCommand = str(p, nginxRaw, 'testCommand', 'nginx.testCommand', false) ?? 'nginx -t';
    const reloadCommand = str(p, nginxRaw, 'reloadCommand', 'nginx.reloadCommand', false) ?? 'systemctl reload nginx';
    if (!certificatePath || !keyPath) return undefined;
    return { nginx: { certificatePath, keyPath, testCommand, reloadCommand } };
  },
});
