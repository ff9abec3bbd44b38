/**
 * The simulated AWS account of the local rehearsal (see account.ts and REHEARSAL.md).
 */
export {
  isStateChanging,
  SimulatedAccount,
  type RecordedPlace,
  type RecordedText,
  type SimCall,
  type SimCertificate,
  type SimInput,
  type SimOperationName,
  type SimOperationTable,
  type SimOutput,
  type SimTarget,
  type SimulatedAccountOptions,
} from './account';
export { SimClock } from './clock';
export { UsageError, NotSimulatedError, SERVICE_PREFIXES, THROTTLING_CODES, toSdkException, type ServicePrefix } from './errors';
export { ApiRateLimiter, DEFAULT_API_RATES } from './api-rates';
export {
  callKey,
  checkFaultsAgainstFleet,
  FaultInjector,
  fleetTargetKeys,
  isApiFault,
  isNodeFault,
  isRateFault,
  isStateFault,
  isTargetFault,
  operationMatches,
  parseFaults,
  seededFraction,
  type ApiCountFault,
  type ApiFault,
  type ApiRateFault,
  type FaultSpec,
  type NodeFault,
  type StateFault,
  type TargetFault,
} from './faults';
export {
  defaultFleet,
  parseFleet,
  type CertificateRef,
  type ElbProtocol,
  type FleetAlb,
  type FleetAlbListener,
  type FleetDistribution,
  type FleetElb,
  type FleetElbListener,
  type FleetInstance,
  type FleetSpec,
} from './fleet';
export type { IamServerCertificate } from './iam';
export { installedBackend, SIM_MIDDLEWARE_NAME, SIMULATED_CLIENTS, type SimulatedBackend, type TlsRoute } from './install';
export { SIMULATED_OPERATIONS, type SimulatedOperationName } from './operations';
export type { TaskTokenResult } from './sfn';
