/**
 * Every operation the simulated account answers, as `service:Operation` (the SDK command class name
 * minus `Command`), derived from the services of the registry (registry.ts). The faults file and the
 * fleet's `apiRates` may only name these (or `*`, or `service:*`). The account checks at
 * construction that its dispatch table holds exactly this list.
 */
export { SIMULATED_OPERATIONS, type SimOperationName as SimulatedOperationName } from './registry';
