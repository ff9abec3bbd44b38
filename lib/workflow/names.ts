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
  gateStart: 'Approval 1: start the rotation?',
  upload: 'Upload: new certificate to IAM',
  canarySwitch: 'Canary: switch IRC ELB listener',
  canaryPrepare: 'Canary: prepare TLS check',
  canaryVerify: 'Canary: verify TLS on the IRC endpoint',
  canaryChoice: 'Canary serves the new certificate?',
  canaryWait: 'Wait before checking the canary again',
  gateCanary: 'Approval 2: canary edge OK, continue?',
  approvalTimedOut: 'No answer before the approval timeout',
  finishSuccess: 'Finish: write the report and notify',
  succeeded: 'Rotation complete',
  rollback: 'Roll back: restore every changed target',
  verifyRollback: 'Roll back: verify every target serves its previous certificate',
  finishFailure: 'Report the failed rotation and notify',
  rollbackVerified: 'Every changed target back on its previous certificate?',
  failed: 'Rotation failed (changes rolled back)',
  rollbackIncomplete: 'Rollback incomplete: targets not back (action needed)',
  rollbackIncompleteUnreported: 'Rollback incomplete and not reported (action needed)',
  reportFailed: 'Rotation finished, but the report could not be sent',
} as const;

/** Error names matched by Retry/Catch; the handler error classes set the same names. */
export const ERR = {
  transient: 'AwsTransient',
  notPropagated: 'CertificateNotPropagated',
  verification: 'VerificationFailed',
  rollbackIncomplete: 'RollbackIncomplete',
} as const;

export const EXECUTION_NAME = sfn.JsonPath.stringAt('$$.Execution.Name');
