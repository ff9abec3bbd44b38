/** The SSM parameter with the fingerprint monit checks on the nodes (optional). */
import { objectAt, str } from '../fields';
import { defineSection } from '../section';

export const monitSection = defineSection({
  keys: ['monit'],
  resolve(raw, p) {
    const monitRaw = objectAt(p, raw, 'monit', false, ['fingerprintParameterName']);
    if (!monitRaw) return {};
    const fingerprintParameterName = str(p, monitRaw, 'fingerprintParameterName', 'monit.fingerprintParameterName', true);
    if (fingerprintParameterName !== undefined && !/^\/[\w./-]+$/.test(fingerprintParameterName)) {
      p.add('monit.fingerprintParameterName', `"${fingerprintParameterName}" must be an SSM parameter path like "/monit/cert-md5"`);
    }
    return fingerprintParameterName ? { monit: { fingerprintParameterName } } : {};
  },
});
