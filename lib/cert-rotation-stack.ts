import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AcmRenewalTrigger } from './acm-renewal';
import { RotationAlarms } from './alarms';
import { CertRotation } from './cert-rotation';
import { NodeDeployment } from './node-deployment';
import type { ResolvedConfig } from './config';
import type { PhaseFactory } from './workflow';
import { RotationNotifications } from './notifications';
import { ExpirySchedule } from './schedule';
import { automaticSourceOf } from './schedule-source';
import { RotationStorage } from './storage';

export interface CertRotationStackProps extends StackProps {
  readonly config: ResolvedConfig;
  /** Tests only: phases inserted before finish (`CertRotationProps.extraPhases`). @default none */
  readonly extraPhases?: readonly PhaseFactory[];
}

/** The deployable unit: storage, notifications, the node deploy document and policy, the rotation workflow and its alarms, the expiry schedule. */
export class CertRotationStack extends Stack {
  public readonly rotation: CertRotation;
  public readonly nodeDeployment: NodeDeployment;
  public readonly schedule: ExpirySchedule;

  constructor(scope: Construct, id: string, props: CertRotationStackProps) {
    super(scope, id, props);
    const storage = new RotationStorage(this, 'Storage');
    const notifications = new RotationNotifications(this, 'Notifications', { emails: props.config.notificationEmails });
    this.nodeDeployment = new NodeDeployment(this, 'NodeDeployment', { config: props.config });
    this.rotation = new CertRotation(this, 'Rotation', {
      config: props.config,
      storage,
      notifications,
      ...(props.extraPhases ? { extraPhases: props.extraPhases } : {}),
    });
    new RotationAlarms(this, 'Alarms', { stateMachine: this.rotation.stateMachine, topic: notifications.topic });
    const automaticSource = automaticSourceOf(props.config);
    this.schedule = new ExpirySchedule(this, 'Schedule', {
      config: props.config,
      stateMachine: this.rotation.stateMachine,
      notifications,
      storage,
      ...(automaticSource ? { automaticSource } : {}),
    });
    const acm = props.config.certificateSource.acm;
    if (acm?.startOnRenewal) new AcmRenewalTrigger(this, 'AcmRenewal', { acm, stateMachine: this.rotation.stateMachine });

    new CfnOutput(this, 'StateMachineArn', { value: this.rotation.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StagingBucket', {
      value: storage.stagingBucket.bucketName,
      description: 'Stage cert.pem, key.pem, chain.pem under a prefix here',
    });
    new CfnOutput(this, 'ArtifactBucket', {
      value: storage.artifactBucket.bucketName,
      description: 'Plans, change ledgers and reports',
    });
    new CfnOutput(this, 'SecretPrefix', {
      value: this.rotation.secretPrefix,
      description: 'Or stage the certificate as a secret under this name prefix',
    });
    new CfnOutput(this, 'NodeDeployDocument', {
      value: this.nodeDeployment.document.ref,
      description: 'SSM Command document the nodes deploy (action=install) or roll back (action=rollback) the certificate with',
    });
    new CfnOutput(this, 'NodeCertificatePolicyArn', {
      value: this.nodeDeployment.policy.managedPolicyArn,
      description:
        "Attach to the nodes' instance roles (nodeAccess.instanceRoleNames does it for the ones it names): reads only this domain's certificate secrets",
    });
  }
}
