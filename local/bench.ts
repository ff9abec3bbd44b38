import './polyfill';

import { loadConfig } from './cli';
import { edgeFleet, MIXED_FLEET, ONE_OF_EACH, SCALE_FLEET, type EdgeFleetSize } from './edge-fleets';
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

/**
 * `npm run bench -- edge [one,mixed,scale]`: the edge rollout at a fleet's size. The claims it
 * backs: the whole rotation's state transitions stay within 2x of a one-of-each fleet's, the
 * largest state payload below 64 KiB, and the edge phase's simulated time near the slowest
 * distribution's deploySeconds (not their sum).
 */
async function edgeBench(which: string[]): Promise<void> {
  const config = loadConfig();
  const sizes: Record<string, EdgeFleetSize> = { one: ONE_OF_EACH, mixed: MIXED_FLEET, scale: SCALE_FLEET };
  const rows: string[][] = [
    [
      'fleet',
      'classic/v2/cf/nodes',
      'wall s',
      'edge sim s',
      'slowest deploy s',
      'state transitions',
      'max payload B',
      'API calls',
      'status',
    ],
  ];
  for (const name of which) {
    const size = sizes[name];
    if (!size) throw new Error(`unknown edge fleet "${name}" (one, mixed, scale)`);
    const fleet = edgeFleet(size);
    const started = process.hrtime.bigint();
    const report = await runRehearsal({ config, fleet, approve: { mode: 'auto' } });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rows.push([
      name,
      `${size.classicListeners}/${size.v2Listeners}/${size.distributions}/${size.nodes}`,
      seconds.toFixed(1),
      String(report.phases.find((p) => p.name === 'edge')?.simulatedSeconds ?? 0),
      String(Math.max(0, ...fleet.distributions.map((d) => d.deploySeconds))),
      String(report.stateTransitions),
      String(report.maxStatePayloadBytes),
      String(Object.values(report.apiCalls).reduce((a, b) => a + b, 0)),
      report.status,
    ]);
    process.stderr.write(`${rows.at(-1)?.join(' | ')}\n`);
  }
  printTable(rows);
}

/**
 * `npm run bench -- nodes [5000]`: the node phases at a fleet's size (one edge target of each kind,
 * the default beta and ws-01, and N more in-memory prod nodes). The claims it backs: the largest
 * state payload stays below 64 KiB (node lists and per-node results live in S3), and the state
 * transitions do not grow with the node count (one poll per round covers the whole phase).
 */
async function nodesBench(counts: number[]): Promise<void> {
  const config = loadConfig();
  const rows: string[][] = [
    ['nodes', 'wall s', 'node phases sim s', 'state transitions', 'max payload B', 'SSM calls', 'API calls', 'status'],
  ];
  for (const n of counts) {
    const fleet = edgeFleet({ ...ONE_OF_EACH, nodes: n });
    const started = process.hrtime.bigint();
    const report = await runRehearsal({ config, fleet, approve: { mode: 'auto' } });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const calls = Object.entries(report.apiCalls);
    rows.push([
      String(fleet.instances.length),
      seconds.toFixed(1),
      String(Math.round(report.phases.filter((p) => p.name.startsWith('nodes: ')).reduce((a, p) => a + p.simulatedSeconds, 0))),
      String(report.stateTransitions),
      String(report.maxStatePayloadBytes),
      String(calls.filter(([op]) => op.startsWith('ssm:')).reduce((a, [, c]) => a + c, 0)),
      String(calls.reduce((a, [, c]) => a + c, 0)),
      report.status,
    ]);
    process.stderr.write(`${rows.at(-1)?.join(' | ')}\n`);
    if (report.maxStatePayloadBytes >= 64 * 1024)
      throw new Error(`largest state payload ${report.maxStatePayloadBytes} B at ${n} nodes: not below 64 KiB`);
  }
  printTable(rows);
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padStart(widths[c])).join(' | ')} |`;
  process.stdout.write(`${line(rows[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n`);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'edge') return edgeBench((process.argv[3] ?? 'one,mixed').split(','));
  if (process.argv[2] === 'nodes') return nodesBench((process.argv[3] ?? '5000').split(',').map(Number));
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
  printTable(rows);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
