/** Retry and verification timing. */
import { int, objectAt } from '../fields';
import { defineSection } from '../section';

export const timingSection = defineSection({
  keys: ['timing'],
  resolve(raw, p) {
    const timingRaw =
      objectAt(p, raw, 'timing', false, ['retryIntervalSeconds', 'retryMaxAttempts', 'verifyIntervalSeconds', 'verifyTimeoutSeconds']) ??
      {};
    const timing = {
      retryIntervalSeconds: int(p, timingRaw, 'retryIntervalSeconds', 'timing.retryIntervalSeconds', 1, 300, 5)!,
      retryMaxAttempts: int(p, timingRaw, 'retryMaxAttempts', 'timing.retryMaxAttempts', 1, 20, 6)!,
      verifyIntervalSeconds: int(p, timingRaw, 'verifyIntervalSeconds', 'timing.verifyIntervalSeconds', 1, 600, 15)!,
      verifyTimeoutSeconds: int(p, timingRaw, 'verifyTimeoutSeconds', 'timing.verifyTimeoutSeconds', 1, 3600, 300)!,
    };
    if (timing.verifyTimeoutSeconds < timing.verifyIntervalSeconds) {
      p.add('timing.verifyTimeoutSeconds', 'must be at least timing.verifyIntervalSeconds');
    }
    return { timing };
  },
});
