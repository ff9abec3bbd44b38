/**
 * A phase the rehearsal has never heard of: a test adds it (`extraPhases`, which the deployed
 * app never sets), with a Map whose iterator holds a Lambda task backed by a test handler. The
 * rehearsal runs the nested task with its local handler (the real handler code, in-process, against
 * the simulated account) and reports the phase, learnt from what the phase declares: no list names it.
 */
import { loadConfig } from '../../local/cli';
import { synthesizeWorkflow } from '../../local/template';
import { dummySubject } from '../fixtures/dummy-phase/handler';
import { DUMMY_ITEMS, DUMMY_STATE, dummyPhase } from '../fixtures/dummy-phase/phase';
import { rehearse } from '../support/rehearsal';

describe('a phase added by a test (workflow)', () => {
  test('its nested task runs with the local handler once per item, and the report lists the phase', async () => {
    // Arrange: record each handler invocation the engine makes (state, handler, event), then let it run.
    const calls: Array<{ state: string; handler: string; event: unknown }> = [];

    // Act
    const report = await rehearse({
      extraPhases: [dummyPhase()],
      aroundHandlerForTests: (call, invoke) => {
        calls.push({ state: call.state, handler: call.handler, event: call.event });
        return invoke();
      },
    });

    // Assert: the rotation still succeeds, with the dummy phase after the last node phase, before prune.
    expect(report.status).toBe('SUCCEEDED');
    const names = report.phases.map((p) => p.name);
    expect(names).toEqual([
      'input',
      'guard',
      'obtain',
      'validate',
      'plan',
      'approval: start',
      'upload',
      'canary edge',
      'approval: canary',
      'edge',
      'approval: edge',
      'nodes: beta',
      'approval: nodes beta',
      'nodes: prod-canary',
      'approval: nodes prod-canary',
      'nodes: prod',
      'dummy',
      'prune',
      'rollback',
      'finish',
    ]);
    expect(report.phases.find((p) => p.name === 'dummy')).toMatchObject({ status: 'SUCCEEDED', retries: 0 });
    // The nested task ran its handler once per item, in-process...
    const nested = calls.filter((c) => c.state === DUMMY_STATE.handle);
    expect(nested.map((c) => c.handler)).toEqual(['dummy-item', 'dummy-item', 'dummy-item']);
    expect(nested.map((c) => (c.event as { item: string }).item).sort()).toEqual(DUMMY_ITEMS);
    // ...and its effect is in the simulated account: one notification per item.
    const subjects = report.notifications.map((n) => n.subject);
    for (const item of DUMMY_ITEMS) expect(subjects).toContain(dummySubject(item));
    expect(report.apiCalls['sns:Publish']).toBeGreaterThanOrEqual(DUMMY_ITEMS.length + 1);
    // The execution entered the Pass, the Map and the nested task once per item.
    expect(report.secretScan.findings).toBe(0);
  }, 120_000);

  test('the phase declares its states, the nested task included, and nothing else does', () => {
    // Act
    const workflow = synthesizeWorkflow(loadConfig(), { extraPhases: [dummyPhase()] });

    // Assert
    expect(workflow.phases.find((p) => p.name === 'dummy')?.states).toEqual([DUMMY_STATE.items, DUMMY_STATE.each, DUMMY_STATE.handle]);
    expect(workflow.phases.filter((p) => p.name !== 'dummy').flatMap((p) => p.states)).not.toEqual(
      expect.arrayContaining([DUMMY_STATE.handle]),
    );
    expect([...workflow.functions.values()].map((f) => f.handler)).toContain('dummy-item');
  });

  test('a phase that does not declare its Map and nested task stops the rehearsal before it starts, naming them', async () => {
    await expect(rehearse({ extraPhases: [dummyPhase({ declareNested: false })] })).rejects.toThrow(
      `state "${DUMMY_STATE.each}" (States.${DUMMY_STATE.each}) belongs to no report phase; state "${DUMMY_STATE.handle}"`,
    );
  }, 60_000);
});
