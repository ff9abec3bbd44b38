/**
 * Simulated SNS: Publish, recorded for the report and the secret scan. Enforces the real limits
 * that bite notification code: Subject is ASCII, no line breaks, under 100 characters; Message is
 * non-empty and at most 256 KiB.
 */
import { randomUUID } from 'node:crypto';
import type { PublishCommandInput, PublishCommandOutput } from '@aws-sdk/client-sns';
import * as snsSdk from '@aws-sdk/client-sns';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';

/** A published message. */
export interface SimSnsMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageId: string;
  /** Simulated epoch ms. */
  readonly at: number;
}

const TOPIC_ARN_RE = /^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/;

/** The operations of sns the simulator answers (the SDK command names without `Command`). */
export const SNS_OPERATIONS = ['Publish'] as const;

/** Simulated SNS. */
export class SimSns {
  readonly messages: SimSnsMessage[] = [];

  constructor(private readonly clock: SimClock) {}

  /** The SDK operations, by name (exactly SNS_OPERATIONS). */
  readonly operations = {
    Publish: (input: PublishCommandInput): Out<PublishCommandOutput> => {
      const topicArn = input.TopicArn ?? input.TargetArn;
      if (!topicArn || !TOPIC_ARN_RE.test(topicArn)) {
        throw awsError('InvalidParameter', `Invalid parameter: TopicArn (${String(topicArn)})`);
      }
      if (input.Subject !== undefined) {
        if (input.Subject.length === 0 || input.Subject.length >= 100 || !/^[\x20-\x7e]+$/.test(input.Subject)) {
          throw awsError('InvalidParameter', 'Invalid parameter: Subject');
        }
      }
      const message = input.Message ?? '';
      if (message.length === 0) throw awsError('InvalidParameter', 'Invalid parameter: Empty message');
      if (Buffer.byteLength(message, 'utf8') > 256 * 1024) throw awsError('InvalidParameter', 'Invalid parameter: Message too long');
      const messageId = randomUUID();
      this.messages.push({ topicArn, subject: input.Subject, message, messageId, at: this.clock.nowMs() });
      return { MessageId: messageId };
    },
  } satisfies OperationsOf<typeof SNS_OPERATIONS>;
}

/** sns in the registry (registry.ts). */
export const snsService = defineService({
  prefix: 'sns',
  property: 'sns',
  operations: SNS_OPERATIONS,
  client: snsSdk.SNSClient,
  sdk: { exports: snsSdk, baseException: 'SNSServiceException' },
  throttlingCode: 'ThrottledException',
  // Published: Publish 30,000/s in us-east-1.
  defaultRates: { 'sns:*': 30000 },
  create: (ctx) => new SimSns(ctx.clock),
  recorded: (sns) => sns.messages.map((m) => ({ place: 'notifications', name: m.topicArn, text: `${m.subject ?? ''}\n${m.message}` })),
});
