import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  /** Approvers and on-call: approval requests, results and alarms. */
  readonly emails: readonly string[];
}

/**
 * The SNS topic of approval requests, results and alarms: encrypted with a customer key (so
 * CloudWatch alarms may publish to it; the AWS-managed SNS key does not allow that) and TLS-only.
 */
export class RotationNotifications extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the certificate rotation notifications topic',
      enableKeyRotation: true,
    });
    this.key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Certificate rotation',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.emails) this.topic.addSubscription(new subs.EmailSubscription(email));
  }

  /** Lets a function publish (SNS + the topic key). */
  grantPublish(grantee: iam.IGrantable): void {
    this.topic.grantPublish(grantee);
    this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
}
