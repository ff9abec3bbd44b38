/** The daily check that starts a rotation when the certificate in use is close to expiry. */
import { int, objectAt, str } from '../fields';
import { defineSection } from '../section';

// EventBridge: rate(1 unit) singular, rate(n units) plural, n > 0.
const SCHEDULE_RE = /^(cron\(.+\)|rate\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\))$/;

export const scheduleSection = defineSection({
  keys: ['schedule'],
  resolve(raw, p) {
    const scheduleRaw = objectAt(p, raw, 'schedule', false, ['enabled', 'expression', 'daysBeforeExpiry']) ?? {};
    const enabled = scheduleRaw.enabled === undefined ? true : scheduleRaw.enabled;
    if (typeof enabled !== 'boolean') p.add('schedule.enabled', 'must be true or false');
    const expression = str(p, scheduleRaw, 'expression', 'schedule.expression', false) ?? 'cron(0 9 * * ? *)';
    if (!SCHEDULE_RE.test(expression)) {
      p.add('schedule.expression', `"${expression}" must be an EventBridge cron(...) or rate(...) expression`);
    }
    return {
      schedule: {
        enabled: enabled === true,
        expression,
        daysBeforeExpiry: int(p, scheduleRaw, 'daysBeforeExpiry', 'schedule.daysBeforeExpiry', 1, 365, 30)!,
      },
    };
  },
});
