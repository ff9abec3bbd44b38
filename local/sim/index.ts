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
export { UsageError, NotSimulatedError, THROTTLING_CODES } from './errors';
export { ApiRateLimiter } from './api-rates';
export {
  DEFAULT_API_RATES,
  SERVICE_PREFIXES,
  SIMULATED_CLIENTS,
  SIMULATED_OPERATIONS,
  SIMULATED_SERVICES,
  toSdkException,
  type ServicePrefix,
  type SimulatedServices,
} from './registry';
export { defineService, type SimServiceDefinition } from './service';
export { SimDns, type DnsRecord, type DnsResolution } from './dns';
export {
  cloudfrontTargetKey,
  elbTargetKey,
  elbv2TargetKey,
  isTargetKey,
  nodeTargetKey,
  parseTargetKey,
  reportKeyOfLedgerKey,
  TARGET_KEY_FORMS,
  type ParsedTargetKey,
  type TargetKind,
} from './target-keys';
export {
  MemoryNodeRuntime,
  NodeFleet,
  type NodeFile,
  type NodeRuntime,
  type NodeRuntimeName,
  type NodeServices,
  type NodeServing,
  type NodeSpec,
} from './nodes';
export { NginxNodeRuntime, type NginxNodeLayout } from './nginx-nodes';
export {
  INVOCATION_DELAY_SECONDS,
  PLUGIN_OUTPUT_LIMIT,
  RUN_SECONDS,
  STDERR_LIMIT,
  STDOUT_LIMIT,
  type CommandExecution,
  type ExecutionResult,
} from './ssm-run-command';
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
export { installedBackend, SIM_MIDDLEWARE_NAME, type SimulatedBackend, type TlsRoute } from './install';
export type { SimulatedOperationName } from './operations';
export type { TaskTokenResult } from './sfn';
export { SimRoute53, simHostedZoneId, type FleetHostedZone } from './route53';
export { SimAcm, simAcmCertificateArn, type FleetAcmCertificate } from './acm';
