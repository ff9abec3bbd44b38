import type { IResolvable } from 'aws-cdk-lib';

/**
 * What a state's payload may hold where the handler's event has a value of type V: the value
 * itself, or the JSONPath stand-in that `sfn.JsonPath` returns for it (`stringAt`/`entirePayload`
 * are strings, `numberAt` a number, `listAt` a string array, `objectAt` an IResolvable).
 */
export type PayloadField<V> = unknown extends V
  ? unknown
  : [NonNullable<V>] extends [string]
    ? string
    : [NonNullable<V>] extends [number]
      ? number
      : [NonNullable<V>] extends [boolean]
        ? boolean
        : NonNullable<V> extends readonly unknown[]
          ? string[] | NonNullable<V>
          : NonNullable<V> extends object
            ? Payload<NonNullable<V>> | IResolvable | string
            : V;

/** A payload shaped like the event E: the same keys (optional stays optional), no others. */
export type Payload<E> = { readonly [K in keyof E]: PayloadField<E[K]> };

/**
 * A state's payload checked against its handler's event type, so that the phase that builds it
 * and the handler that reads it cannot drift apart: a field renamed or added in the event fails
 * `npm run typecheck` here. Returns the payload unchanged.
 */
export function payloadFor<E>(payload: Payload<E>): Record<string, unknown> {
  return payload;
}
