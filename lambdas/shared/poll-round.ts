/**
 * What a Wait/Choice poll loop's state passes to its handler besides the handler's own fields: the
 * previous round's result (`{ rounds: 0 }` on the first round, as the loop's Pass state seeds it).
 */
export interface PollRoundEvent {
  readonly previous: { readonly rounds: number };
}

/** The rounds polled before this one (0 when the loop did not say: the first round). */
export function roundsBefore(event: PollRoundEvent): number {
  const rounds = (event.previous as { rounds?: unknown } | undefined)?.rounds;
  return typeof rounds === 'number' ? rounds : 0;
}
