import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** State names an operator reads in the console graph; tests and the rehearsal refer to them. */
export const STATE = {
  receiveInput: 'Receive the execution input',
  checkInput: 'Check the execution input',
  inputRefused: 'Input refused: keep only the error',
  guard: 'Guard: refuse if another rotation is running',
  obtain: 'Obtain: read the staged certificate',
  current: 'Find the certificate in use on the canary listener',
  validate: 'Validate the new certificate',
  plan: 'Plan: find every target serving the current certificate',
  notifyStart: 'Notify: the rotation started, with its plan',
  gateStart: 'Approval 1: start the rotation?',
  upload: 'Upload: new certificate to IAM',
  canarySwitch: 'Canary: switch IRC ELB listener',
  canaryPrepare: 'Canary: prepare TLS check',
  canaryVerify: 'Canary: verify TLS on the IRC endpoint',
  canaryChoice: 'Canary serves the new certificate?',
  canaryWait: 'Wait before checking the canary again',
  gateCanary: 'Approval 2: canary edge OK, continue?',
  edgePrepare: 'Edge: split the targets into batches',
  edgeSwitch: 'Edge: switch every other listener and distribution',
  edgeSwitchElb: 'Edge: classic ELB listeners, batch by batch',
  edgeSwitchElbBatch: 'Edge: switch a batch of classic ELB listeners',
  edgeSwitchElbChoice: 'Edge: classic ELB batch done?',
  edgeSwitchElbDone: 'Edge: classic ELB batch switched',
  edgeSwitchElbv2: 'Edge: ELBv2 listeners, batch by batch',
  edgeSwitchElbv2Batch: 'Edge: switch a batch of ELBv2 listeners',
  edgeSwitchElbv2Choice: 'Edge: ELBv2 batch done?',
  edgeSwitchElbv2Done: 'Edge: ELBv2 batch switched',
  edgeSwitchCloudfront: 'Edge: CloudFront distributions, batch by batch',
  edgeSwitchCloudfrontBatch: 'Edge: switch a batch of CloudFront distributions',
  edgeSwitchCloudfrontChoice: 'Edge: CloudFront batch done?',
  edgeSwitchCloudfrontDone: 'Edge: CloudFront batch switched',
  edgeDeployStart: 'Edge: start waiting for CloudFront',
  edgePoll: 'Edge: poll CloudFront deployment status',
  edgeDeployChoice: 'Every changed distribution Deployed?',
  edgeDeployWait: 'Wait for CloudFront deployment',
  edgeVerify: 'Edge: verify every target over the API and TLS',
  edgeVerifyBatch: 'Edge: verify a batch (API read-back and TLS)',
  gateEdge: 'Approval 3: edge rollout OK, continue?',
  prune: 'Prune: delete old IAM certificates of this domain',
  finishSuccess: 'Finish: write the report and notify',
  succeeded: 'Rotation complete',
  nodeRollback: 'Roll back: send the rollback command to the changed nodes',
  nodeRollbackAny: 'Roll back: any node to wait for?',
  nodeRollbackStart: 'Roll back: start polling the nodes',
  nodeRollbackWait: 'Wait for the nodes to roll back',
  nodeRollbackPoll: "Roll back: read every node's result",
  nodeRollbackDone: 'Roll back: every node finished?',
  rollback: 'Roll back: restore every changed target',
  rollbackChoice: 'Roll back: every proven entry handled?',
  rollbackDeployStart: 'Roll back: start waiting for CloudFront',
  rollbackPoll: 'Roll back: poll CloudFront deployment status',
  rollbackDeployChoice: 'Every restored distribution Deployed?',
  rollbackDeployWait: 'Wait for CloudFront to deploy the rollback',
  verifyRollback: 'Roll back: verify every target serves its previous certificate',
  finishFailure: 'Report the failed rotation and notify',
  rollbackVerified: 'Every changed target back on its previous certificate?',
  failed: 'Rotation failed (changes rolled back)',
  rollbackIncomplete: 'Rollback incomplete: targets not back (action needed)',
  rollbackIncompleteUnreported: 'Rollback incomplete and not reported (action needed)',
  reportFailed: 'Rotation finished, but the report could not be sent',
} as const;

/** The states of a gate timeout's stop path: only with `approvals.onTimeout: stop` (lib/workflow/gate.ts). */
export const STOP_STATE = {
  finishStopped: 'Report the stop at the gate and notify (changes kept)',
  stoppedAtGate: 'Rotation stopped at a gate after a timeout (changes kept)',
  stoppedAtGateUnreported: 'Stopped at a gate after a timeout, not reported (changes kept)',
} as const;

/** Error names matched by Retry/Catch; the handler error classes set the same names. */
export const ERR = {
  transient: 'AwsTransient',
  notPropagated: 'CertificateNotPropagated',
  verification: 'VerificationFailed',
  rollbackIncomplete: 'RollbackIncomplete',
  /** A gate timed out with `approvals.onTimeout: stop`: the rotation stopped there, every change kept. */
  gateTimedOut: 'GateTimedOut',
  cloudFrontNotDeployed: 'CloudFrontNotDeployed',
  nodeDeploymentFailed: 'NodeDeploymentFailed',
  nodesUnavailable: 'NodesUnavailable',
} as const;

/** Errors of the automatic sources that the obtain state retries (lambdas/shared/errors.ts). */
export const ERR_ACME = {
  unavailable: 'AcmeUnavailable',
  dnsTimeout: 'DnsChangeTimeout',
} as const;

export const EXECUTION_NAME = sfn.JsonPath.stringAt('$$.Execution.Name');
