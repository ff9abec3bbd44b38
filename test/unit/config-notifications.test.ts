/** The configurationManagement section (lib/config/sections/notifications.ts): what the success email names as the follow-up. */
import { ConfigError, resolveConfig } from '../../lib/config';
import { exampleRawConfig } from '../construct/synth-helpers';

function problemsOf(raw: unknown): readonly string[] {
  try {
    resolveConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('configurationManagement', () => {
  test('is optional; when given, role, certificateFile and vaultFile are kept as written', () => {
    const cm = { role: 'nginx', certificateFile: 'roles/nginx/files/STAR.gitter.im.crt', vaultFile: 'group_vars/prod/vault.yml' };
    expect(resolveConfig(exampleRawConfig()).configurationManagement).toBeUndefined();
    expect(resolveConfig({ ...exampleRawConfig(), configurationManagement: cm }).configurationManagement).toEqual(cm);
  });

  test('a missing field or an unknown one is named', () => {
    const problems = problemsOf({
      ...exampleRawConfig(),
      configurationManagement: { role: 'nginx', certificateFile: 'x.crt', vault: 'v.yml' },
    });
    expect(problems.join('\n')).toContain('configurationManagement.vaultFile');
    expect(problems.join('\n')).toContain('configurationManagement.vault');
  });
});
