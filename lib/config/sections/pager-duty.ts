/** The PagerDuty service put in maintenance during the node phases (optional). */
import { objectAt, str } from '../fields';
import { defineSection } from '../section';

export const pagerDutySection = defineSection({
  keys: ['pagerDuty'],
  resolve(raw, p) {
    const pdRaw = objectAt(p, raw, 'pagerDuty', false, ['serviceName', 'apiTokenSecretName']);
    if (!pdRaw) return {};
    const serviceName = str(p, pdRaw, 'serviceName', 'pagerDuty.serviceName', true);
    const apiTokenSecretName = str(p, pdRaw, 'apiTokenSecretName', 'pagerDuty.apiTokenSecretName', true);
    return serviceName && apiTokenSecretName ? { pagerDuty: { serviceName, apiTokenSecretName } } : {};
  },
});
