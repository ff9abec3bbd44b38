/**
 * The one problem collector (lib/problems.ts) that the config, the fleet file and the faults file
 * validate into, and the config reader's file form.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configBlockOf, ConfigError, resolveConfig } from '../../lib/config';
import { fieldPath, Problems } from '../../lib/problems';
import { parseFaults, parseFleet, UsageError } from '../../local/sim';

const REPO_ROOT = path.join(__dirname, '..', '..');

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('Problems', () => {
  test('collects problems in order, each naming its path, and throws them together through the given error', () => {
    // Arrange
    const p = new Problems();
    p.add('a.b', 'is wrong');
    p.unknownFields({ keep: 1, extra: 2, other: 3 }, 'a', ['keep']);
    p.object({ top: 1, keep: 2 }, 'b', ['keep']);
    p.object(['not', 'an', 'object'], 'c', ['keep'], 'must be an object with "keep"');
    const terse = new Problems({ unknownField: () => 'unknown field' });
    terse.unknownFields({ top: 1 }, '', []);

    // Act
    const error = thrown(() => p.throwIfAny((problems) => new ConfigError(problems)));

    // Assert
    expect(p.empty).toBe(false);
    expect((error as ConfigError).problems).toEqual([
      'a.b: is wrong',
      'a.extra: unknown field (allowed: keep)',
      'a.other: unknown field (allowed: keep)',
      'b.top: unknown field (allowed: keep)',
      'c: must be an object with "keep"',
    ]);
    expect(terse.list).toEqual(['top: unknown field']);
  });

  test('throws nothing while empty', () => {
    const p = new Problems();
    p.unknownFields({ keep: 1 }, 'a', ['keep']);
    expect(p.empty).toBe(true);
    expect(() => p.throwIfAny(() => new Error('should not be thrown'))).not.toThrow();
  });

  test('fieldPath joins a key to its parent, the top level having none', () => {
    expect([fieldPath('', 'domain'), fieldPath('canary', 'port')]).toEqual(['domain', 'canary.port']);
  });

  test('the config, the fleet file and the faults file report through it, each with its own error', () => {
    // Act
    const config = thrown(() => resolveConfig({ color: 1 }));
    const fleet = thrown(() => parseFleet({ domain: 'gitter.im', color: 1 }, 'fleet.json'));
    const faults = thrown(() => parseFaults([{ state: 'Plan', fault: 'crash-after-side-effects', color: 1 }], 'faults.json'));

    // Assert
    expect(config).toBeInstanceOf(ConfigError);
    expect((config as ConfigError).problems[0]).toBe('color: unknown field');
    expect(fleet).toBeInstanceOf(UsageError);
    expect((fleet as UsageError).message).toBe(
      'fleet.json: fleet.color: unknown field (allowed: ' +
        'domain, currentCertDaysLeft, elbs, albs, distributions, instances, iamPropagationSeconds, apiRates, iamCertificates, iamServerCertificateQuota, hostedZones, acm)',
    );
    expect(faults).toBeInstanceOf(UsageError);
    expect((faults as UsageError).problems).toEqual(['faults[0].color: unknown field (allowed: state, fault, count, afterCalls)']);
  });
});

describe('one DNS name check for the config and the fleet file', () => {
  const config = (domain: string): Record<string, unknown> => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: { certRotation: object } };
    return { ...cdkJson.context.certRotation, domain };
  };
  const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
  const tooLong = `${longest}d`;

  test('a name of 253 characters is a domain for both', () => {
    expect(longest).toHaveLength(253);
    expect(resolveConfig(config(longest)).domain).toBe(longest);
    expect(parseFleet({ domain: longest }, 'fleet.json').domain).toBe(longest);
  });

  test('a name of 254 characters is refused by both, with their messages', () => {
    const configError = thrown(() => resolveConfig(config(tooLong))) as ConfigError;
    const fleetError = thrown(() => parseFleet({ domain: tooLong }, 'fleet.json')) as UsageError;
    expect(configError.problems).toEqual([`domain: "${tooLong}" is not a lower-case DNS name like "gitter.im"`]);
    expect(fleetError.message).toBe('fleet.json: fleet.domain: must be a lower-case DNS name like "gitter.im"');
  });
});

describe('configBlockOf', () => {
  test('a cdk.json gives its certRotation context; anything else is the block itself', () => {
    const block = { domain: 'gitter.im' };
    expect(configBlockOf({ app: 'x', context: { certRotation: block } })).toBe(block);
    expect(configBlockOf(block)).toBe(block);
    expect(configBlockOf({ context: { other: 1 } })).toEqual({ context: { other: 1 } });
    expect(configBlockOf(null)).toBeNull();
  });
});

describe('local/sim stays an oracle', () => {
  /** Every file local/sim reaches through relative imports, transitively. */
  function reachedFrom(dir: string): Set<string> {
    const seen = new Set<string>();
    const queue = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(dir, f));
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)) {
        const base = path.resolve(path.dirname(file), m[1]);
        const target = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
        if (!target) throw new Error(`${file}: cannot resolve ${m[1]}`);
        queue.push(target);
      }
    }
    return seen;
  }

  test('it imports nothing from lambdas/, and from lib/ only the dependency-free problem collector', () => {
    const outside = [...reachedFrom(path.join(REPO_ROOT, 'local', 'sim'))]
      .map((f) => path.relative(REPO_ROOT, f))
      .filter((f) => !f.startsWith(`local${path.sep}sim${path.sep}`));
    expect(outside).toEqual([path.join('lib', 'problems.ts')]);
  });
});
