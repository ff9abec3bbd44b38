import { SimDynamoDb } from '../../local/sim/dynamodb';
import { SimServiceError } from '../../local/sim/errors';

const TABLE = 'approvals';
let db: SimDynamoDb;

beforeEach(() => {
  db = new SimDynamoDb();
  db.createTable(TABLE, 'idHash');
  db.operations.PutItem({ TableName: TABLE, Item: { idHash: { S: 'a' }, expiresAt: { N: '100' } } });
});

/** The AWS error code a call fails with, or 'ok'. */
function outcome(call: () => unknown): string {
  try {
    call();
    return 'ok';
  } catch (e) {
    if (e instanceof SimServiceError) return e.code;
    throw e;
  }
}

describe('simulated DynamoDB: conditions as AWS evaluates them', () => {
  test.each([
    ['attribute_not_exists(idHash) on an existing item', 'attribute_not_exists(idHash)', {}, 'ConditionalCheckFailedException'],
    ['attribute_exists(idHash)', 'attribute_exists(idHash)', {}, 'ok'],
    ['a number comparison that holds', 'expiresAt > :now', { ':now': { N: '99' } }, 'ok'],
    [
      'a number comparison that fails (numbers, not strings: 100 > 99)',
      'expiresAt < :now',
      { ':now': { N: '99' } },
      'ConditionalCheckFailedException',
    ],
    ['AND of a true and a false', 'attribute_exists(idHash) AND attribute_exists(decision)', {}, 'ConditionalCheckFailedException'],
    ['OR with parentheses and NOT', 'NOT (attribute_exists(decision) OR expiresAt = :x)', { ':x': { N: '1' } }, 'ok'],
    ['a comparison with a missing attribute is false', 'decision = :d', { ':d': { S: 'approved' } }, 'ConditionalCheckFailedException'],
    ['<> with a missing attribute is true', 'decision <> :d', { ':d': { S: 'approved' } }, 'ok'],
  ])('%s', (_name, condition, values, expected) => {
    expect(
      outcome(() =>
        db.operations.UpdateItem({
          TableName: TABLE,
          Key: { idHash: { S: 'a' } },
          UpdateExpression: 'SET touched = :t',
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':t': { BOOL: true }, ...values },
        }),
      ),
    ).toBe(expected);
  });

  test('a failed condition changes nothing; a passing one applies SET and REMOVE with #names', () => {
    // Act
    const failed = outcome(() =>
      db.operations.UpdateItem({
        TableName: TABLE,
        Key: { idHash: { S: 'a' } },
        UpdateExpression: 'SET #d = :d',
        ConditionExpression: 'attribute_exists(#d)',
        ExpressionAttributeNames: { '#d': 'decision' },
        ExpressionAttributeValues: { ':d': { S: 'approved' } },
      }),
    );
    const before = db.items(TABLE);
    db.operations.UpdateItem({
      TableName: TABLE,
      Key: { idHash: { S: 'a' } },
      UpdateExpression: 'SET #d = :d, #c = :c REMOVE expiresAt',
      ConditionExpression: 'attribute_not_exists(#d)',
      ExpressionAttributeNames: { '#d': 'decision', '#c': 'comment' },
      ExpressionAttributeValues: { ':d': { S: 'approved' }, ':c': { S: 'ok' } },
    });

    // Assert
    expect(failed).toBe('ConditionalCheckFailedException');
    expect(before).toEqual([{ idHash: { S: 'a' }, expiresAt: { N: '100' } }]);
    expect(db.items(TABLE)).toEqual([{ idHash: { S: 'a' }, decision: { S: 'approved' }, comment: { S: 'ok' } }]);
  });

  test('PutItem with attribute_not_exists: the first wins, the second is refused and changes nothing', () => {
    // Act
    const first = outcome(() =>
      db.operations.PutItem({
        TableName: TABLE,
        Item: { idHash: { S: 'b' }, v: { S: '1' } },
        ConditionExpression: 'attribute_not_exists(idHash)',
      }),
    );
    const second = outcome(() =>
      db.operations.PutItem({
        TableName: TABLE,
        Item: { idHash: { S: 'b' }, v: { S: '2' } },
        ConditionExpression: 'attribute_not_exists(idHash)',
      }),
    );

    // Assert
    expect([first, second]).toEqual(['ok', 'ConditionalCheckFailedException']);
    expect(db.operations.GetItem({ TableName: TABLE, Key: { idHash: { S: 'b' } } }).Item).toEqual({ idHash: { S: 'b' }, v: { S: '1' } });
  });

  test.each([
    ['an undefined :value', { UpdateExpression: 'SET x = :missing' }, 'ValidationException'],
    [
      'an unused :value',
      { UpdateExpression: 'SET x = :a', ExpressionAttributeValues: { ':a': { S: '1' }, ':b': { S: '2' } } },
      'ValidationException',
    ],
    ['an undefined #name', { UpdateExpression: 'SET #n = :a', ExpressionAttributeValues: { ':a': { S: '1' } } }, 'ValidationException'],
    ['a syntax error', { UpdateExpression: 'SET = :a', ExpressionAttributeValues: { ':a': { S: '1' } } }, 'ValidationException'],
    [
      'a key attribute updated',
      { UpdateExpression: 'SET idHash = :a', ExpressionAttributeValues: { ':a': { S: 'z' } } },
      'ValidationException',
    ],
  ])('%s is refused as AWS refuses it', (_n, input, code) => {
    expect(outcome(() => db.operations.UpdateItem({ TableName: TABLE, Key: { idHash: { S: 'a' } }, ...input }))).toBe(code);
  });

  test('unknown table: ResourceNotFoundException; a key without the partition key: ValidationException; a missing item: no Item', () => {
    expect(outcome(() => db.operations.GetItem({ TableName: 'nope', Key: { idHash: { S: 'a' } } }))).toBe('ResourceNotFoundException');
    expect(outcome(() => db.operations.GetItem({ TableName: TABLE, Key: { other: { S: 'a' } } }))).toBe('ValidationException');
    expect(db.operations.GetItem({ TableName: TABLE, Key: { idHash: { S: 'zz' } } })).toEqual({});
  });
});
