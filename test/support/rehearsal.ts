import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../local/cli';
import { runRehearsal, type RehearsalOptions, type RehearsalReport } from '../../local/rehearsal';
import { defaultFleet } from '../../local/sim';

/** Runs the rehearsal with the example config (cdk.json) and the default fleet unless overridden. */
export function rehearse(overrides: Partial<RehearsalOptions> = {}): Promise<RehearsalReport> {
  return runRehearsal({ config: loadConfig(), fleet: defaultFleet(), approve: { mode: 'auto' }, ...overrides });
}

/** Writes PEM files into a fresh directory, as an SRE would for `--certificate DIR`. */
export function certificateDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-cert-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Calls that change something in the account (as opposed to reads). */
export function mutatingCalls(report: RehearsalReport): string[] {
  return Object.keys(report.apiCalls).filter(
    (op) =>
      /:(Upload|Set|Modify|Add|Remove|Update|Delete|Create|Put)/.test(op) &&
      !op.startsWith('s3:') &&
      !op.startsWith('secretsmanager:') &&
      // The approval store records the gates' requests and decisions: no target of the rotation.
      !op.startsWith('dynamodb:'),
  );
}

export function canaryOf(report: RehearsalReport) {
  const canary = report.targets.find((t) => t.kind === 'elb' && t.id === 'apps-servers-elb-prod' && t.port === 6667);
  if (!canary) throw new Error('no canary target in the report');
  return canary;
}
