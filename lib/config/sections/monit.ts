/**
 * monit (optional): the SSM parameter with the fingerprint monit checks, and the nodes' monit
 * control files whose `certmd5` the deploy document rewrites (with the command that reloads monit).
 */
import { objectAt, str, strList } from '../fields';
import { defineSection } from '../section';

export const monitSection = defineSection({
  keys: ['monit'],
  resolve(raw, p) {
    const monitRaw = objectAt(p, raw, 'monit', false, ['fingerprintParameterName', 'controlFiles', 'reloadCommand']);
    if (!monitRaw) return {};
    const fingerprintParameterName = str(p, monitRaw, 'fingerprintParameterName', 'monit.fingerprintParameterName', true);
    if (fingerprintParameterName !== undefined && !/^\/[\w./-]+$/.test(fingerprintParameterName)) {
      p.add('monit.fingerprintParameterName', `"${fingerprintParameterName}" must be an SSM parameter path like "/monit/cert-md5"`);
    }
    const controlFiles = strList(p, monitRaw, 'controlFiles', 'monit.controlFiles');
    controlFiles?.forEach((f, i) => {
      if (!/^\/[\w./-]+$/.test(f)) p.add(`monit.controlFiles[${i}]`, `"${f}" must be an absolute path of letters, digits, . _ - /`);
    });
    const reloadCommand = str(p, monitRaw, 'reloadCommand', 'monit.reloadCommand', false);
    if (reloadCommand !== undefined && !/^[A-Za-z0-9_ ./:=@%+,-]+$/.test(reloadCommand)) {
      p.add('monit.reloadCommand', `"${reloadCommand}" must be a plain command line (no quotes, $, ;, |, &, <, > or backslashes)`);
    }
    if (!fingerprintParameterName) return {};
    return {
      monit: {
        fingerprintParameterName,
        ...(controlFiles && controlFiles.length > 0 ? { controlFiles } : {}),
        ...(reloadCommand ? { reloadCommand } : {}),
      },
    };
  },
});
