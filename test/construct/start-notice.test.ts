/**
 * The start email (issue 9 item 7, "On start: the plan"): one task between the plan and Approval
 * 1 that reads this execution's plan and publishes; its role may do exactly that.
 */
import { STATE } from '../../lib/workflow';
import {
  definitionOf,
  exampleConfig,
  isXRay,
  logicalIdOf,
  policyStatements,
  stateNamed,
  synthesize,
  type Synthesized,
} from './synth-helpers';

let s: Synthesized;
beforeAll(() => {
  s = synthesize(exampleConfig());
});

describe('the start notice', () => {
  test('runs right after the plan and before Approval 1, with the certificates, the gate that follows and the warnings', () => {
    const definition = definitionOf(s.json);
    expect(stateNamed(definition, STATE.plan).Next).toBe(STATE.notifyStart);
    const notice = stateNamed(definition, STATE.notifyStart);
    expect(notice.Next).toBe(STATE.gateStart);
    expect(notice.Parameters).toEqual({
      'executionName.$': '$$.Execution.Name',
      certificates: { 'new.$': '$.validation.summary', 'previous.$': '$.current' },
      approvalFollows: STATE.gateStart,
      'warnings.$': '$.validation.warnings',
    });
    expect(notice.ResultPath).toBe('$.startNotice');
    // Its failure is the rotation's (nothing has changed yet): the rollback path, which finds an empty ledger.
    expect(notice.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.rollback }]);
  });

  test('its role reads only the plan and publishes only to the notifications topic', () => {
    const fn = s.stack.rotation.functions['notify-start'];
    const statements = policyStatements(s.json, logicalIdOf(fn.function.role!)).filter((st) => !isXRay(st));
    const actions = statements.flatMap((st) => st.actions).sort();
    expect(actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*', 's3:GetObject', 'sns:Publish']);
    const s3 = statements.find((st) => st.actions.includes('s3:GetObject'))!;
    expect(s3.resources).toEqual([expect.stringMatching(/\/executions\/\*\/plan\.json$/)]);
    const sns = statements.find((st) => st.actions.includes('sns:Publish'))!;
    expect(sns.resources).toEqual([expect.stringMatching(/^\$\{NotificationsTopic[0-9A-F]{8}\}$/)]);
  });
});
