import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { SimDynamoDb } from '../../local/sim/dynamodb';
import { SimServiceError } from '../../local/sim/errors';
import { settle } from './handler-support';

/**
 * An in-memory DynamoDB behind a mocked DynamoDBClient, for handler unit tests of the approval
 * store: the simulated DynamoDB of the rehearsal (local/sim/dynamodb.ts) answers, so condition
 * expressions fail as AWS's do, with the SDK's own `ConditionalCheckFailedException`.
 */
export interface InMemoryDynamoDb {
  readonly client: DynamoDBClient;
  readonly mock: AwsClientStub<DynamoDBClient>;
  readonly table: string;
  items(): Array<Record<string, AttributeValue>>;
  reset(): void;
}

function sdkError(e: unknown): unknown {
  if (!(e instanceof SimServiceError)) return e;
  if (e.code === 'ConditionalCheckFailedException')
    return new ConditionalCheckFailedException({ message: e.message, $metadata: { httpStatusCode: 400 } });
  return new DynamoDBServiceException({ name: e.code, message: e.message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

export function createInMemoryDynamoDb(table = 'approvals-test'): InMemoryDynamoDb {
  const mock = mockClient(DynamoDBClient);
  let db = new SimDynamoDb();
  const run =
    <I>(op: (input: I) => unknown) =>
    (input: I) => {
      try {
        return op(input);
      } catch (e) {
        throw sdkError(e);
      }
    };
  const install = () => {
    db = new SimDynamoDb();
    db.createTable(table, 'idHash');
    mock.on(PutItemCommand).callsFake(settle(run((i) => db.operations.PutItem(i as never))));
    mock.on(GetItemCommand).callsFake(settle(run((i) => db.operations.GetItem(i as never))));
    mock.on(UpdateItemCommand).callsFake(settle(run((i) => db.operations.UpdateItem(i as never))));
    mock.on(DeleteItemCommand).callsFake(settle(run((i) => db.operations.DeleteItem(i as never))));
  };
  install();
  return {
    client: new DynamoDBClient({ region: 'eu-west-1' }),
    mock,
    table,
    items: () => db.items(table),
    reset: () => {
      mock.reset();
      install();
    },
  };
}
