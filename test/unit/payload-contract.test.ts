/**
 * payloadFor<E>() ties a state's payload to its handler's event type. What it rejects is rejected
 * at `npm run typecheck` (this file is part of it): each `@ts-expect-error` below fails the
 * typecheck as "unused" the day payloadFor stops rejecting that mistake.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { payloadFor } from '../../lib/workflow';

interface ExampleEvent {
  readonly executionName: string;
  readonly attempts: number;
  readonly succeeded: boolean;
  readonly names: string[];
  readonly current: { readonly arn: string; readonly sha256?: string };
  readonly servername?: string;
  readonly input: unknown;
}

const valid = {
  executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
  attempts: sfn.JsonPath.numberAt('$.attempts'),
  succeeded: true,
  names: sfn.JsonPath.listAt('$.names'),
  current: { arn: sfn.JsonPath.stringAt('$.current.arn') },
  input: sfn.JsonPath.objectAt('$.input'),
};

describe('payloadFor', () => {
  it('returns the payload it was given, with JSONPath stand-ins for values and optional fields left out', () => {
    const payload = payloadFor<ExampleEvent>(valid);
    expect(payload).toBe(valid);
    expect(Object.keys(payload)).toEqual(['executionName', 'attempts', 'succeeded', 'names', 'current', 'input']);
  });

  it('takes a whole object from a path (objectAt, entirePayload) where the event has an object', () => {
    const render = (current: unknown) => sfn.FieldUtils.renderObject({ current });
    expect(render(payloadFor<ExampleEvent>({ ...valid, current: sfn.JsonPath.objectAt('$.current') }).current)).toEqual({
      'current.$': '$.current',
    });
    expect(render(payloadFor<ExampleEvent>({ ...valid, current: sfn.JsonPath.entirePayload }).current)).toEqual({ 'current.$': '$' });
  });

  it('rejects, at typecheck, a payload that does not match the event', () => {
    // The calls below are type errors on purpose; at run time they only hand the object back.
    const wrong: unknown[] = [
      // @ts-expect-error a field the event does not have (an event field renamed)
      payloadFor<ExampleEvent>({ ...valid, executionNam: 'x' }),
      // @ts-expect-error a required field missing
      payloadFor<ExampleEvent>({ attempts: 1, succeeded: true, names: [], current: { arn: 'a' }, input: null }),
      // @ts-expect-error a nested field the event does not have
      payloadFor<ExampleEvent>({ ...valid, current: { arn: 'a', sha: 'b' } }),
      // @ts-expect-error a string where the event has a number
      payloadFor<ExampleEvent>({ ...valid, attempts: '3' }),
      // @ts-expect-error a number where the event has a string
      payloadFor<ExampleEvent>({ ...valid, executionName: 3 }),
    ];
    expect(wrong).toHaveLength(5);
  });
});
