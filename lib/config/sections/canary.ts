/** The canary: the one listener switched first, and the endpoint a TLS handshake verifies it at. */
import { int, objectAt, str } from '../fields';
import { defineSection } from '../section';

export const canarySection = defineSection({
  keys: ['canary'],
  resolve(raw, p) {
    const canaryRaw = objectAt(p, raw, 'canary', true, ['loadBalancerName', 'port', 'endpoint']);
    if (!canaryRaw) return undefined;
    const loadBalancerName = str(p, canaryRaw, 'loadBalancerName', 'canary.loadBalancerName', true);
    const port = int(p, canaryRaw, 'port', 'canary.port', 1, 65535);
    const endpoint = str(p, canaryRaw, 'endpoint', 'canary.endpoint', true);
    let host = '';
    let endpointPort = 0;
    if (endpoint !== undefined) {
      const m = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(endpoint);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
        p.add('canary.endpoint', `"${endpoint}" must be host:port, e.g. "irc.gitter.im:6667"`);
      else {
        host = m[1].toLowerCase();
        endpointPort = Number(m[2]);
      }
    }
    if (!loadBalancerName || !port || !endpoint) return undefined;
    return { canary: { loadBalancerName, port, endpoint, host, endpointPort } };
  },
});
