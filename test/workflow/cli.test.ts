import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../local/cli';

/** `npm start -- ...` as the contract in REHEARSAL.md describes it: flags, files, report, exit codes. */
describe('rehearsal command line', () => {
  let dir: string;
  let stderr: string[];
  let spy: jest.SpyInstance;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rehearsal-cli-'));
    stderr = [];
    spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => spy.mockRestore());

  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };

  test('--approve auto --report FILE exits 0 and writes the contract fields', async () => {
    // Arrange
    const report = join(dir, 'r.json');

    // Act
    const code = await main(['--approve', 'auto', '--report', report, '--quiet']);

    // Assert
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>;
    for (const field of [
      'status',
      'certificate',
      'phases',
      'targets',
      'approvals',
      'stateTransitions',
      'maxStatePayloadBytes',
      'apiCalls',
      'notifications',
      'secretScan',
    ]) {
      expect(r).toHaveProperty(field);
    }
    expect(r.status).toBe('SUCCEEDED');
    expect(stderr.join('')).toBe('');
  });

  test('a rejection exits 1 and progress is shown live without --quiet', async () => {
    const code = await main(['--approve', 'reject:canary']);

    expect(code).toBe(1);
    const out = stderr.join('');
    expect(out).toContain('Canary: switch IRC ELB listener');
    expect(out).toContain('rejected: Approval 2');
    expect(out).toContain('rehearsal REJECTED');
  });

  test('--approve timeout:edge lets Approval 3 time out (the gate named edge, not "canary edge"); with onTimeout: stop it exits 1 and the report says what was kept', async () => {
    // Arrange
    const base = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: { certRotation: Record<string, unknown> } };
    const config = file('stop.json', { ...base.context.certRotation, approvals: { timeoutSeconds: 3600, onTimeout: 'stop' } });
    const report = join(dir, 'r.json');

    // Act
    const code = await main(['--config', config, '--approve', 'timeout:edge', '--report', report]);

    // Assert
    expect(code).toBe(1);
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      status: string;
      error: string;
      approvals: Array<{ gate: string; decision: string }>;
      stopped: { gate: string; changesKept: boolean; consistent: boolean; keptOnNew: string[] };
    };
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/^GateTimedOut: /);
    expect(r.approvals.map((a) => a.decision)).toEqual(['approved', 'approved', 'timeout']);
    expect(r.approvals[2].gate).toBe('Approval 3: edge rollout OK, continue?');
    expect(r.stopped).toMatchObject({ gate: 'edge', changesKept: true, consistent: true });
    const out = stderr.join('');
    expect(out).toContain('not answering "Approval 3: edge rollout OK, continue?" (--approve timeout:edge): it times out');
    expect(out).toContain('stopped at "Approval 3: edge rollout OK, continue?" after a timeout, changes kept (no rollback)');
  });

  test('--help shows the approve modes, timeout:GATE included', async () => {
    const out: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      expect(await main(['--help'])).toBe(0);
    } finally {
      stdout.mockRestore();
    }
    expect(out.join('')).toContain('[--approve auto|prompt|web|reject:GATE|timeout:GATE]');
  });

  test('--approve prompt reads the answers from the terminal (here: piped), one line per gate', () => {
    // Act: a separate process, as `npm start` runs it.
    const run = spawnSync(
      process.execPath,
      [require.resolve('tsx/cli'), 'local/cli.ts', '--approve', 'prompt', '--report', join(dir, 'p.json')],
      {
        input: 'approve\nreject\n',
        encoding: 'utf8',
        timeout: 120_000,
      },
    );

    // Assert
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Approval 2: canary edge OK, continue? [approve/reject]:');
    const r = JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')) as { status: string; approvals: Array<{ decision: string }> };
    expect(r.status).toBe('REJECTED');
    expect(r.approvals.map((a) => a.decision)).toEqual(['approved', 'rejected']);
  });

  test('--input FILE is handed to the workflow unvalidated: a forged "uploaded" exits 1 with InputInvalid naming it, nothing deleted', async () => {
    // Arrange: finding 1's input; the simulated current certificate is STAR.gitter.im_<its notBefore>.
    const report = join(dir, 'r.json');
    const input = file('input.json', {
      source: { secretId: 'prod/not-under-prefix' },
      uploaded: { name: `STAR.gitter.im_${new Date(Date.now() - 70 * 86_400_000).toISOString().slice(0, 10)}`, reused: false },
    });

    // Act
    const code = await main(['--input', input, '--report', report, '--quiet']);

    // Assert
    expect(code).toBe(1);
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      error: string;
      apiCalls: Record<string, number>;
      targets: Array<{ before: string | null; servedAfter: string | null }>;
    };
    expect(r.error).toBe('InputInvalid: execution input field "uploaded" is not allowed; allowed: source');
    expect(r.apiCalls).not.toHaveProperty('iam:DeleteServerCertificate');
    for (const t of r.targets) expect(t.servedAfter).toBe(t.before);
  });

  test.each([
    [
      'a fleet file with a bad field',
      () => ['--fleet', file('fleet.json', { domain: 'gitter.im', elbs: [{ name: 'x', listeners: [{ port: 99999, protocol: 'SSL' }] }] })],
      /elbs\[0\]\.listeners\[0\]\.port/,
    ],
    [
      'a faults file with an unknown field',
      () => ['--faults', file('faults.json', [{ operation: '*', error: 'Throttling', count: 1, bogus: 1 }])],
      /faults\[0\]\.bogus/,
    ],
    [
      'a faults file naming a target that is not in the fleet',
      () => ['--faults', file('faults.json', [{ target: 'cloudfront/E2EXAMPLE', fault: 'stuck-after-change' }])],
      /faults\[0\]\.target: "cloudfront\/E2EXAMPLE" is not a TLS target of the fleet \(cloudfront\/E1GITTERCDN/,
    ],
    [
      'a target fault with an unknown field',
      () => ['--faults', file('faults.json', [{ target: 'elb/apps-servers-elb-prod/6667', fault: 'serves-stale', rate: 1 }])],
      /faults\[0\]\.rate: unknown field/,
    ],
    [
      'a config file with a bad iamPath',
      () => [
        '--config',
        file('config.json', {
          context: { certRotation: { ...JSON.parse(readFileSync('cdk.json', 'utf8')).context.certRotation, iamPath: '/' } },
        }),
      ],
      /iamPath/,
    ],
    ['a fleet file that is not JSON', () => ['--fleet', file('fleet.json', '{nope')], /not valid JSON/],
    ['an --input file that is not JSON', () => ['--input', file('input.json', '{nope')], /--input .*input\.json is not valid JSON/],
    ['an --input file that holds an array', () => ['--input', file('input.json', [{ source: {} }])], /--input .*must hold a JSON object/],
    ['an --input file that holds a string', () => ['--input', file('input.json', '"uploaded"')], /--input .*must hold a JSON object/],
    ['an --input file that does not exist', () => ['--input', join(dir, 'missing.json')], /--input .*missing\.json/],
    ['an unknown flag', () => ['--bogus'], /bogus/],
    ['a gate that does not exist', () => ['--approve', 'reject:no-such-gate'], /matches no approval gate/],
    [
      'a gate to time out that does not exist',
      () => ['--approve', 'timeout:no-such-gate'],
      /--approve timeout:no-such-gate matches no approval gate; gates: "Approval 1: start the rotation\?" \(start\)/,
    ],
    ['an --approve mode that does not exist', () => ['--approve', 'later:edge'], /auto, prompt, web, reject:GATE or timeout:GATE/],
    ['a certificate directory that does not exist', () => ['--certificate', join(dir, 'missing')], /not a directory/],
    ['a report path that cannot be written', () => ['--report', join(dir, 'no-such-dir', 'r.json')], /--report: cannot write/],
    [
      "a fleet without the config's canary listener",
      () => [
        '--fleet',
        file('fleet.json', { domain: 'gitter.im', elbs: [{ name: 'other-elb', listeners: [{ port: 443, protocol: 'HTTPS' }] }] }),
      ],
      /no "apps-servers-elb-prod" with a listener on port 6667/,
    ],
    [
      'a fleet of another domain',
      () => [
        '--fleet',
        file('fleet.json', {
          domain: 'example.org',
          elbs: [{ name: 'apps-servers-elb-prod', listeners: [{ port: 6667, protocol: 'SSL' }] }],
        }),
      ],
      /fleet\.domain "example\.org" is not the config's domain "gitter\.im"/,
    ],
  ])('%s is a usage error (exit 2) naming the problem', async (_name, args, message) => {
    const code = await main(args());

    expect(code).toBe(2);
    expect(stderr.join('')).toMatch(message);
  });
});
