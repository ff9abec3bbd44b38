/** The PagerDuty services put in maintenance while a rotation changes what monit watches (optional). */
import { objectAt, str, strList } from '../fields';
import { defineSection } from '../section';

const SERVICE_ID_RE = /^[A-Z0-9]{5,20}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const pagerDutySection = defineSection({
  keys: ['pagerDuty'],
  resolve(raw, p) {
    const pdRaw = objectAt(p, raw, 'pagerDuty', false, ['serviceName', 'serviceIds', 'apiTokenSecretName', 'fromEmail', 'apiUrl']);
    if (!pdRaw) return {};
    const serviceName = str(p, pdRaw, 'serviceName', 'pagerDuty.serviceName', true);
    const apiTokenSecretName = str(p, pdRaw, 'apiTokenSecretName', 'pagerDuty.apiTokenSecretName', true);
    // The rotation's own secrets (cert-rotation/<domain>/*) are readable by obtain, validate and
    // upload: the token must live elsewhere, so that only the maintenance-window function reads it.
    if (apiTokenSecretName?.startsWith('cert-rotation/'))
      p.add(
        'pagerDuty.apiTokenSecretName',
        `"${apiTokenSecretName}" must not be under cert-rotation/ (other functions read the rotation's secrets there)`,
      );
    const serviceIds = strList(p, pdRaw, 'serviceIds', 'pagerDuty.serviceIds');
    if (pdRaw.serviceIds === undefined) p.add('pagerDuty.serviceIds', 'is required (the PagerDuty service ids, e.g. ["PQ8QK9U"])');
    else if (serviceIds?.length === 0) p.add('pagerDuty.serviceIds', 'must hold at least one service id');
    serviceIds?.forEach((id, i) => {
      if (!SERVICE_ID_RE.test(id)) p.add(`pagerDuty.serviceIds[${i}]`, `"${id}" is not a PagerDuty service id (like "PQ8QK9U")`);
    });
    const fromEmail = str(p, pdRaw, 'fromEmail', 'pagerDuty.fromEmail', false);
    if (fromEmail !== undefined && !EMAIL_RE.test(fromEmail)) p.add('pagerDuty.fromEmail', `"${fromEmail}" is not an email address`);
    const apiUrl = str(p, pdRaw, 'apiUrl', 'pagerDuty.apiUrl', false) ?? 'https://api.pagerduty.com';
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(apiUrl))
      p.add('pagerDuty.apiUrl', `"${apiUrl}" must be an https:// origin such as https://api.eu.pagerduty.com`);
    return serviceName && apiTokenSecretName && serviceIds && serviceIds.length > 0
      ? { pagerDuty: { serviceName, serviceIds, apiTokenSecretName, apiUrl, ...(fromEmail ? { fromEmail } : {}) } }
      : {};
  },
});
