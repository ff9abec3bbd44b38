import './polyfill';

import { loadConfig } from './cli';
import { runRehearsal } from './rehearsal';
import { defaultFleet, type FleetElb, type FleetSpec } from './sim';

/**
 * `npm run bench`: how a rehearsed rotation scales with the fleet. The claim it backs: the state
 * payload stays far below the 256 KiB limit whatever the fleet size (target lists live in S3),
 * and discovery cost grows with the fleet, not faster. Wall times are this machine's, for
 * comparison between runs only.
 */
function fleetOfSize(n: number): FleetSpec {
  const base = defaultFleet();
  const extraElbs: FleetElb[] = Array.from({ length: n }, (_, i) => ({
    name: `bench-elb-${i}`,
    listeners: [{ port: 443, protocol: 'HTTPS' as const, certificate: i % 5 === 0 ? 'other' : 'current' }],
  }));
  const extraDistributions = Array.from({ length: Math.ceil(n / 4) }, (_, i) => ({
    id: `EBENCH${i}`,
    aliases: [`bench${i}.${base.domain}`],
    deploySeconds: 60,
    certificate: 'current' as const,
  }));
  const extraInstances = Array.from({ length: n }, (_, i) => ({
    id: `i-0bench${i}`,
    tags: { Name: `bench-${i}`, Env: 'prod' },
    nginx: false,
  }));
  return {
    ...base,
    elbs: [...base.elbs, ...extraElbs],
    distributions: [...base.distributions, ...extraDistributions],
    instances: [...base.instances, ...extraInstances],
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const sizes = (process.argv[2] ?? '0,25,100,250').split(',').map(Number);
  const rows: string[][] = [['extra ELBs', 'targets', 'wall s', 'state transitions', 'max payload B', 'API calls', 'status']];
  for (const n of sizes) {
    const fleet = fleetOfSize(n);
    const started = process.hrtime.bigint();
    const report = await runRehearsal({ config, fleet, approve: { mode: 'auto' } });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const calls = Object.values(report.apiCalls).reduce((a, b) => a + b, 0);
    rows.push([
      String(n),
      String(report.targets.length),
      seconds.toFixed(1),
      String(report.stateTransitions),
      String(report.maxStatePayloadBytes),
      String(calls),
      report.status,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padStart(widths[c])).join(' | ')} |`;
  process.stdout.write(`${line(rows[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
