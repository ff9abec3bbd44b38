import type { CommandInvocation } from '@aws-sdk/client-ssm';
import { parseScriptOutput } from '../../lambdas/shared/node-command';
import { loadConfig } from '../../local/cli';
import type { SimulatedAccount } from '../../local/sim';
import { rehearse } from '../support/rehearsal';

/**
 * `monit.controlFiles`: the deploy document's default `monitFiles`, so every node's monit control
 * file gets the new certificate's MD5 in the same run that installs it, and the old one back in a
 * rollback. Seen in what each node's own script reported (the real script on the nginx node).
 */
const CONTROL_FILE = '/etc/monit/conf.d/gitter-certificate';

function configWithControlFiles() {
  const config = loadConfig();
  return { ...config, monit: { ...config.monit!, controlFiles: [CONTROL_FILE] } };
}

/** Each invocation's instance, document action and the monit files its script says it rewrote. */
async function monitUpdates(
  sim: SimulatedAccount,
): Promise<Array<{ instance: string; action?: string; monitUpdated?: readonly string[] }>> {
  const out = (await sim.handle('ssm:ListCommandInvocations', { Details: true, MaxResults: 50 })) as {
    CommandInvocations?: CommandInvocation[];
  };
  return (out.CommandInvocations ?? [])
    .map((i) => {
      const result = parseScriptOutput(i.CommandPlugins?.[0]?.Output);
      return { instance: i.InstanceId ?? '', ...(result?.action ? { action: result.action } : {}), monitUpdated: result?.monitUpdated };
    })
    .sort((a, b) => `${a.action}${a.instance}`.localeCompare(`${b.action}${b.instance}`));
}

describe('monit control files on the nodes (workflow)', () => {
  test('every node reports its monit file rewritten to the new MD5 when it got the certificate', async () => {
    // Arrange
    let sim: SimulatedAccount | undefined;

    // Act
    const report = await rehearse({ config: configWithControlFiles(), beforeStart: (s) => void (sim = s) });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    const updates = await monitUpdates(sim!);
    expect(updates).toHaveLength(5);
    expect(updates.every((u) => u.action === 'install' && u.monitUpdated?.length === 1 && u.monitUpdated[0].endsWith(CONTROL_FILE))).toBe(
      true,
    );
  });

  test('rejected at Approval 5: the rollback puts the previous MD5 back in the changed nodes monit files', async () => {
    // Arrange
    let sim: SimulatedAccount | undefined;

    // Act
    const report = await rehearse({
      config: configWithControlFiles(),
      approve: { mode: 'reject', gate: 'prod-canary nodes' },
      beforeStart: (s) => void (sim = s),
    });

    // Assert
    expect(report.status).toBe('REJECTED');
    const rollbacks = (await monitUpdates(sim!)).filter((u) => u.action === 'rollback');
    expect(rollbacks.map((u) => u.instance).sort()).toEqual(['i-0beta', 'i-0ws01']);
    expect(rollbacks.every((u) => u.monitUpdated?.length === 1 && u.monitUpdated[0].endsWith(CONTROL_FILE))).toBe(true);
  });
});
