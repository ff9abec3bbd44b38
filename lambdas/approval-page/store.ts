/**
 * The approval store (a DynamoDB table): one item per gate request, keyed by the SHA-256 of the
 * approval id that the email's link carries. The id itself is stored nowhere; the task token is
 * stored only here, and only the approval page's role may read it (lib/storage.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/** What the email and the page show about one gate: no key material, no token, no id. */
export interface ApprovalSummary {
  readonly domain: string;
  /** The gate's state name ("Approval 2: canary edge OK, continue?"). */
  readonly title: string;
  readonly executionName: string;
  readonly certificates: {
    readonly new?: CertificateLine;
    readonly previous?: CertificateLine;
  };
  /** What was just done and verified, one line each. */
  readonly done: readonly string[];
  /** What the next phase will touch. */
  readonly next: {
    readonly description: string;
    /** Counts by kind ("ELB listeners": 3). */
    readonly counts: Readonly<Record<string, number>>;
    /** The first names (at most {@link MAX_NAMES}), and how many more there are. */
    readonly names: readonly string[];
    readonly more: number;
  };
  /** What happens when nobody answers in time. */
  readonly onTimeout: 'rollback' | 'stop';
}

export interface CertificateLine {
  readonly serial: string;
  readonly sha256: string;
  readonly notAfter: string;
}

/** Names listed per gate; the rest is "and N more". */
export const MAX_NAMES = 20;

export type Decision = 'approved' | 'rejected';

/** One stored gate request. */
export interface ApprovalRecord {
  /** Hex SHA-256 of the approval id (the partition key). */
  readonly idHash: string;
  readonly taskToken: string;
  readonly executionArn: string;
  readonly executionName: string;
  readonly gate: string;
  /** The gate's state name: the execution must be waiting there. */
  readonly stateName: string;
  readonly summary: ApprovalSummary;
  readonly requestedAt: string;
  /** Epoch seconds: the gate's timeout; the table's TTL attribute. */
  readonly expiresAt: number;
  readonly decision?: Decision;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly comment?: string;
}

/** The approval id: 32 random bytes (256 bits), base64url, 43 characters. */
export function newApprovalId(): string {
  return randomBytes(32).toString('base64url');
}

/** What an id looks like; anything else is refused before a lookup. */
export const APPROVAL_ID_RE = /^[A-Za-z0-9_-]{43}$/;

/** The stored key of an id. */
export function hashApprovalId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

const s = (v: string): AttributeValue => ({ S: v });

function toItem(r: ApprovalRecord): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    idHash: s(r.idHash),
    taskToken: s(r.taskToken),
    executionArn: s(r.executionArn),
    executionName: s(r.executionName),
    gate: s(r.gate),
    stateName: s(r.stateName),
    summary: s(JSON.stringify(r.summary)),
    requestedAt: s(r.requestedAt),
    expiresAt: { N: String(r.expiresAt) },
  };
  if (r.decision) item.decision = s(r.decision);
  if (r.decidedBy) item.decidedBy = s(r.decidedBy);
  if (r.decidedAt) item.decidedAt = s(r.decidedAt);
  if (r.comment) item.comment = s(r.comment);
  return item;
}

function fromItem(item: Record<string, AttributeValue>): ApprovalRecord {
  const str = (k: string) => item[k]?.S;
  const req = (k: string) => {
    const v = str(k);
    if (v === undefined) throw new Error(`approval store item without ${k}`);
    return v;
  };
  const decision = str('decision');
  return {
    idHash: req('idHash'),
    taskToken: req('taskToken'),
    executionArn: req('executionArn'),
    executionName: req('executionName'),
    gate: req('gate'),
    stateName: req('stateName'),
    summary: JSON.parse(req('summary')) as ApprovalSummary,
    requestedAt: req('requestedAt'),
    expiresAt: Number(item.expiresAt?.N ?? '0'),
    ...(decision === 'approved' || decision === 'rejected' ? { decision } : {}),
    ...(str('decidedBy') !== undefined ? { decidedBy: str('decidedBy') } : {}),
    ...(str('decidedAt') !== undefined ? { decidedAt: str('decidedAt') } : {}),
    ...(str('comment') !== undefined ? { comment: str('comment') } : {}),
  };
}

/** The table's operations, each a single request. */
export class ApprovalStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** Stores a new request; an existing item with the same key is never overwritten. */
  async create(record: ApprovalRecord): Promise<void> {
    await this.db.send(
      new PutItemCommand({
        TableName: this.table,
        Item: toItem(record),
        ConditionExpression: 'attribute_not_exists(idHash)',
      }),
    );
  }

  /** The request of an id's hash (strongly consistent), or undefined. */
  async get(idHash: string): Promise<ApprovalRecord | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: { idHash: s(idHash) }, ConsistentRead: true }));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /**
   * Marks the decision, once: only an existing, undecided, unexpired request takes it. Returns
   * false when the condition failed (decided meanwhile, expired or gone).
   */
  async markDecision(
    idHash: string,
    d: { readonly decision: Decision; readonly by: string; readonly at: Date; readonly comment?: string },
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { idHash: s(idHash) },
          // Every attribute by placeholder: COMMENT (and others) are DynamoDB reserved words.
          UpdateExpression: `SET #d = :d, #by = :by, #at = :at${d.comment ? ', #c = :c' : ''}`,
          ConditionExpression: 'attribute_exists(#k) AND attribute_not_exists(#d) AND #exp > :now',
          ExpressionAttributeNames: {
            '#k': 'idHash',
            '#d': 'decision',
            '#by': 'decidedBy',
            '#at': 'decidedAt',
            '#exp': 'expiresAt',
            ...(d.comment ? { '#c': 'comment' } : {}),
          },
          ExpressionAttributeValues: {
            ':d': s(d.decision),
            ':by': s(d.by),
            ':at': s(d.at.toISOString()),
            ':now': { N: String(Math.floor(d.at.getTime() / 1000)) },
            ...(d.comment ? { ':c': s(d.comment) } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException')
        return false;
      throw error;
    }
  }
}
