import './polyfill';

// The rehearsal runs on the local Node.js (20 is supported here); the Lambda runtime is Node.js 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, configBlockOf, resolveConfig, type ResolvedConfig } from '../lib/config';
import { parseApprove } from './approver';
import { pebbleInstalled } from './pebble';
import { runRehearsal, type RehearsalReport } from './rehearsal';
import { defaultFleet, parseFaults, parseFleet, checkFaultsAgainstFleet, UsageError, type FaultSpec, type FleetSpec } from './sim';

const USAGE = `usage: npm start -- [--config FILE] [--fleet FILE] [--faults FILE] [--input FILE]
                   [--approve auto|prompt|web|reject:GATE|timeout:GATE] [--source staged|acme|acm]
                   [--trigger console|schedule] [--certificate DIR] [--report FILE] [--quiet]`;

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A config file is the certRotation block itself, or a cdk.json that holds it. */
export function loadConfig(file?: string): ResolvedConfig {
  const path = file ?? join(__dirname, '..', 'cdk.json');
  const block = configBlockOf(readJson(path, 'config'));
  try {
    return resolveConfig(block);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`config ${path}: ${e.message}`);
    throw e;
  }
}

/** The report is written at the end: refuse an unwritable path before the run, not after it. */
function checkWritable(file: string): void {
  const dir = dirname(resolve(file));
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--report: cannot write to ${dir}`);
  }
}

/** The fleet must be the estate the config describes: its domain, and the canary listener. */
function checkFleetMatchesConfig(fleet: FleetSpec, config: ResolvedConfig, source = 'the default fleet'): void {
  if (fleet.domain !== config.domain) {
    throw new UsageError(`${source}: fleet.domain "${fleet.domain}" is not the config's domain "${config.domain}"`);
  }
  const { loadBalancerName, port } = config.canary;
  const canary = fleet.elbs.find((e) => e.name === loadBalancerName)?.listeners.find((l) => l.port === port);
  if (!canary) {
    throw new UsageError(`${source}: fleet.elbs has no "${loadBalancerName}" with a listener on port ${port} (the config's canary)`);
  }
}

/**
 * The exit code of a finished rehearsal (REHEARSAL.md): 5 when the secret scan found key material
 * (wins over everything), 4 when the rollback could not be verified, 0 when the execution
 * succeeded, 1 when it failed or was rejected and everything is back.
 */
export function exitCodeFor(report: Pick<RehearsalReport, 'status' | 'secretScan' | 'stopped'>): number {
  if (report.secretScan.findings > 0) return 5;
  if (report.status === 'ROLLBACK_INCOMPLETE') return 4;
  // Stopped at a gate with the changes kept (FAILED, 1) unless some target is on neither certificate.
  if (report.stopped && !report.stopped.consistent) return 4;
  // NOT_STARTED: the scheduled check rightly started nothing.
  return report.status === 'SUCCEEDED' || report.status === 'NOT_STARTED' ? 0 : 1;
}

/** A stop at a gate (onTimeout: stop): where, and what was kept on the new certificate (TLS). */
function stoppedLine(stopped: NonNullable<RehearsalReport['stopped']>): string {
  const kept = stopped.keptOnNew.length ? stopped.keptOnNew.join(', ') : 'nothing had changed';
  const neither = stopped.neitherCertificate.length ? `; ON NEITHER CERTIFICATE: ${stopped.neitherCertificate.join(', ')}` : '';
  return `  stopped at "${stopped.stateName}" after a timeout, changes kept (no rollback); on the new certificate: ${kept}${neither}`;
}

function summaryLine(report: RehearsalReport): string {
  const changed = report.targets.filter((t) => t.changed).length;
  const newSha = report.certificate.new?.sha256 ?? '?';
  const served = report.targets.filter((t) => t.servedAfter === newSha).length;
  return [
    `rehearsal ${report.status}${report.error ? `: ${report.error}` : ''}`,
    ...(report.trigger.kind === 'schedule'
      ? [
          `  schedule: ${report.trigger.daysLeft} days left, threshold ${report.trigger.daysBeforeExpiry}: ${report.trigger.due ? 'due' : 'not due'}; ${report.trigger.decision}${report.trigger.started ? ` (${report.trigger.executions.join(', ')})` : ', nothing started'}`,
          ...(report.trigger.error ? [`  schedule: the expiry check failed, nothing started: ${report.trigger.error}`] : []),
        ]
      : []),
    ...(report.rollbackIncomplete ? [`  NOT BACK on what they served before: ${report.rollbackIncomplete.join(', ')}`] : []),
    ...(report.stopped ? [stoppedLine(report.stopped)] : []),
    `  targets: ${report.targets.length} (${changed} changed, ${served} serving the new certificate, ${report.targets.filter((t) => t.rolledBack).length} rolled back)`,
    `  approvals: ${report.approvals.map((a) => `${a.gate} -> ${a.decision}${a.approver ? ` by ${a.approver}` : ''}`).join('; ') || 'none'}`,
    `  state transitions: ${report.stateTransitions}, largest state payload: ${report.maxStatePayloadBytes} bytes, simulated time: ${report.simulatedSeconds}s`,
    `  secret scan: ${report.secretScan.findings} findings in ${Object.entries(report.secretScan.searched)
      .map(([place, n]) => `${n} ${place} document(s)`)
      .join(', ')}`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        fleet: { type: 'string' },
        faults: { type: 'string' },
        input: { type: 'string' },
        approve: { type: 'string', default: 'auto' },
        source: { type: 'string', default: 'staged' },
        trigger: { type: 'string', default: 'console' },
        certificate: { type: 'string' },
        report: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = values.quiet ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
  try {
    const config = loadConfig(values.config as string | undefined);
    const fleet: FleetSpec = values.fleet ? parseFleet(readJson(values.fleet as string, 'fleet'), values.fleet as string) : defaultFleet();
    const faults: FaultSpec[] = values.faults ? parseFaults(readJson(values.faults as string, 'faults'), values.faults as string) : [];
    if (values.faults) checkFaultsAgainstFleet(faults, fleet, values.faults as string);
    // Handed to the workflow as is: its content is the workflow's to validate, only its shape is ours.
    const input = values.input === undefined ? undefined : readJson(values.input as string, '--input');
    if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
      throw new UsageError(`--input ${String(values.input)} must hold a JSON object (merged over the execution input)`);
    }
    let approve;
    try {
      approve = parseApprove(values.approve as string);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const source = values.source as string;
    if (source !== 'staged' && source !== 'acme' && source !== 'acm') {
      throw new UsageError(`--source must be staged, acme or acm (got "${source}")`);
    }
    if (source === 'acme' && !pebbleInstalled()) {
      throw new UsageError(
        '--source acme needs a local ACME CA: install the Debian package "pebble" (npm run setup), which provides pebble and pebble-challtestsrv',
      );
    }
    if (source !== 'staged' && values.certificate) {
      throw new UsageError(`--certificate DIR stages a certificate; it cannot be combined with --source ${source}`);
    }
    if (values.trigger !== 'console' && values.trigger !== 'schedule') {
      throw new UsageError(`--trigger must be console or schedule (got "${String(values.trigger)}")`);
    }
    if (values.trigger === 'schedule' && input !== undefined) {
      throw new UsageError('--input applies to a console start; with --trigger schedule the expiry check builds the execution input');
    }
    if (typeof values.report === 'string') checkWritable(values.report);
    checkFleetMatchesConfig(fleet, config, values.fleet as string | undefined);

    log(
      `rehearsing a rotation of ${config.domain}: ${fleet.elbs.length} ELBs, ${fleet.albs.length} ALBs, ${fleet.distributions.length} distributions, ${fleet.instances.length} instances`,
    );
    const report = await runRehearsal({
      config,
      fleet,
      faults,
      approve,
      trigger: values.trigger,
      source,
      ...(values.certificate ? { certificateDir: values.certificate as string } : {}),
      ...(input ? { input: input as Record<string, unknown> } : {}),
      progress: log,
      // Shown even with --quiet: a rehearsal that could not run real nginx must say so.
      warn: (line) => process.stderr.write(`${line}\n`),
      // --approve web: the links are shown even with --quiet (someone has to open them).
      announce: (line: string) => process.stderr.write(`${line}\n`),
    });
    if (values.report) writeFileSync(values.report as string, `${JSON.stringify(report, null, 2)}\n`);
    log(summaryLine(report));
    if (report.secretScan.findings > 0) {
      // Always shown, even with --quiet: the run must not look clean.
      process.stderr.write(
        `secret scan: key material found in ${report.secretScan.where.map((w) => `${w.place}: ${w.name} (${w.form})`).join('; ')}\n`,
      );
    }
    return exitCodeFor(report);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`rehearsal crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(3);
    },
  );
}
