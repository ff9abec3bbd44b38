/**
 * Errors that the state machine's Retry/Catch match by name. Each class sets `this.name` to the
 * exact `ErrorEquals` string used in lib/; keep the two in step (test/construct checks them).
 */

/** Base class: `name` is what Step Functions sees as the error. */
export abstract class RotationError extends Error {
  abstract override readonly name: string;
}

/** The new certificate failed validation. `problem` is a stable code; the message says what is wrong. */
export class CertificateInvalid extends RotationError {
  override readonly name = 'CertificateInvalid';
  constructor(
    readonly problem: string,
    message: string,
  ) {
    super(message);
  }
}

/** The execution input or a staged source is unusable (missing secret, bad S3 key...). Nothing changed. */
export class InputInvalid extends RotationError {
  override readonly name = 'InputInvalid';
}

/** Another rotation for the same domain is running. */
export class ConcurrentRotation extends RotationError {
  override readonly name = 'ConcurrentRotation';
}

/** A configured target (canary ELB, listener) does not exist or does not serve the current certificate. */
export class TargetNotFound extends RotationError {
  override readonly name = 'TargetNotFound';
}

/** IAM already holds a certificate with the dated name but a different body. */
export class CertificateNameConflict extends RotationError {
  override readonly name = 'CertificateNameConflict';
}

/** A load balancer does not see a just-uploaded IAM certificate yet (propagation delay): retry. */
export class CertificateNotPropagated extends RotationError {
  override readonly name = 'CertificateNotPropagated';
}

/** A throttling or transient AWS error that survived the SDK's own retries: retry the state. */
export class AwsTransient extends RotationError {
  override readonly name = 'AwsTransient';
}

/** A TLS check kept seeing the wrong certificate until its deadline. */
export class VerificationFailed extends RotationError {
  override readonly name = 'VerificationFailed';
}

/** The ledger already holds an entry for a target that records another change than this one: not ours, stop before changing it. */
export class LedgerConflict extends RotationError {
  override readonly name = 'LedgerConflict';
}

/** Rollback could not restore every change; the report lists what is left. */
export class RollbackIncomplete extends RotationError {
  override readonly name = 'RollbackIncomplete';
}

/** Error names sent by approvers through SendTaskFailure. */
export const APPROVAL_REJECTED = 'ApprovalRejected';

/**
 * The account holds as many IAM server certificates as its quota allows (GetAccountSummary), so the
 * upload would be refused. Thrown before uploading, so nothing has changed; the message names the
 * certificates of this domain that pruning could delete to make room.
 */
export class ServerCertificateQuotaExceeded extends RotationError {
  override readonly name = 'ServerCertificateQuotaExceeded';
}

/** CloudFront still shows a changed distribution InProgress when the configured deadline has passed. */
export class CloudFrontNotDeployed extends RotationError {
  override readonly name = 'CloudFrontNotDeployed';
}

/**
 * Instances of a node phase that SSM does not manage or that are not Online (DescribeInstanceInformation),
 * with `nodeRollout.unavailableNodes` = `refuse` (the default): thrown by the plan, before anything changed.
 * The message names every one of them.
 */
export class NodesUnavailable extends RotationError {
  override readonly name = 'NodesUnavailable';
}

/**
 * A node phase's command failed on a node (or did not finish before `nodeRollout.timeoutSeconds`): the
 * phase stops (SSM stops sending on the first error by default) and the rotation rolls back. The message
 * names the failed nodes.
 */
export class NodeDeploymentFailed extends RotationError {
  override readonly name = 'NodeDeploymentFailed';
}

/**
 * The ACME CA refused for a rate limit (`urn:ietf:params:acme:error:rateLimited`, HTTP 429 after
 * acme-client's own retries). Not retried by the workflow: such limits last hours (Let's Encrypt:
 * per registered domain, per exact set of names, per account). The message says when to retry.
 */
export class AcmeRateLimited extends RotationError {
  override readonly name = 'AcmeRateLimited';
}

/**
 * The ACME CA could not validate a DNS-01 challenge (the TXT record was not seen, or held the
 * wrong value). The record this rotation published has been removed; nothing else changed.
 */
export class AcmeChallengeInvalid extends RotationError {
  override readonly name = 'AcmeChallengeInvalid';
}

/** The ACME CA refused the account: EAB required or wrong, account key revoked or unknown, terms not agreed. */
export class AcmeAccountRefused extends RotationError {
  override readonly name = 'AcmeAccountRefused';
}

/** The ACME CA refused the order or the CSR (names not allowed by its policy, CAA, bad key). Not retried. */
export class AcmeOrderRefused extends RotationError {
  override readonly name = 'AcmeOrderRefused';
}

/** The ACME CA did not answer, or answered with a server error or a bad nonce: retried with backoff. */
export class AcmeUnavailable extends RotationError {
  override readonly name = 'AcmeUnavailable';
}

/**
 * No public Route53 hosted zone owns a challenge record's name, several do (same name), or the one
 * that does is not among the zones the stack grants (`certificateSource.acme.hostedZoneIds`).
 */
export class HostedZoneNotFound extends RotationError {
  override readonly name = 'HostedZoneNotFound';
}

/** A Route53 change was not INSYNC before the configured deadline (the record has been removed). Retried once. */
export class DnsChangeTimeout extends RotationError {
  override readonly name = 'DnsChangeTimeout';
}

/**
 * The configured ACM certificate cannot be exported: not issued yet, not an ACM-issued exportable
 * certificate (imported, private without export, or requested without export enabled), or in
 * another account or region. Not retried.
 */
export class AcmCertificateNotExportable extends RotationError {
  override readonly name = 'AcmCertificateNotExportable';
}

/**
 * The PagerDuty maintenance window (config `pagerDuty`) could not be opened after Approval 1: the
 * rotation stops before the upload, so nothing has changed (changes monit sees would page on-call).
 * The message names the services and the cause, never the token.
 */
export class MaintenanceWindowNotOpened extends RotationError {
  override readonly name = 'MaintenanceWindowNotOpened';
}

/**
 * The PagerDuty maintenance window could not be closed at the end. Caught into
 * `$.maintenanceCloseError`: a warning in the report and the email, never a change of outcome.
 */
export class MaintenanceWindowNotClosed extends RotationError {
  override readonly name = 'MaintenanceWindowNotClosed';
}
