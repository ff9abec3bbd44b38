/**
 * The deployment config (see reader.ts): its shape (types.ts), the reader, and one section per
 * top-level part (sections/). Importers use `lib/config`.
 */
export * from './types';
export { CONFIG_CONTEXT_KEY, ConfigError, configBlockOf, configFromContext, resolveConfig } from './reader';
export { gateNamesOf, gateTimeoutSeconds } from './sections/approvals';
