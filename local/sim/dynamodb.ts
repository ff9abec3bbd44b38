/**
 * Simulated DynamoDB: the item operations the approval store uses (PutItem, GetItem, UpdateItem,
 * DeleteItem) on tables the rehearsal creates, with the expression semantics of AWS:
 * ConditionExpression (`attribute_exists`, `attribute_not_exists`, comparisons, AND/OR/NOT,
 * parentheses) and a failed condition as `ConditionalCheckFailedException`; UpdateExpression
 * `SET` and `REMOVE`; `#name` / `:value` placeholders, where an undefined or unused one is a
 * `ValidationException` as in AWS. TTL never deletes here (AWS deletes expired items only within
 * days): callers must check expiry themselves, as they must in AWS.
 */
import type {
  AttributeValue,
  DeleteItemCommandInput,
  DeleteItemCommandOutput,
  GetItemCommandInput,
  GetItemCommandOutput,
  PutItemCommandInput,
  PutItemCommandOutput,
  UpdateItemCommandInput,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import * as dynamodbSdk from '@aws-sdk/client-dynamodb';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';

type Item = Record<string, AttributeValue>;

/** The operations of dynamodb the simulator answers (the SDK command names without `Command`). */
export const DYNAMODB_OPERATIONS = ['PutItem', 'GetItem', 'UpdateItem', 'DeleteItem'] as const;

interface Table {
  readonly partitionKey: string;
  readonly items: Map<string, Item>;
}

/** Placeholders of one request: which were used, so that unused ones are refused as AWS does. */
class Placeholders {
  private readonly usedNames = new Set<string>();
  private readonly usedValues = new Set<string>();
  constructor(
    private readonly names: Record<string, string> = {},
    private readonly values: Item = {},
  ) {}

  name(token: string): string {
    const n = this.names[token];
    if (n === undefined) throw awsError('ValidationException', `Value provided in ExpressionAttributeNames unused or undefined: ${token}`);
    this.usedNames.add(token);
    return n;
  }

  value(token: string): AttributeValue {
    const v = this.values[token];
    if (v === undefined) {
      throw awsError('ValidationException', `An expression attribute value used in expression is not defined; attribute value: ${token}`);
    }
    this.usedValues.add(token);
    return v;
  }

  checkAllUsed(): void {
    const unusedValues = Object.keys(this.values).filter((k) => !this.usedValues.has(k));
    if (unusedValues.length > 0) {
      throw awsError(
        'ValidationException',
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
      );
    }
    const unusedNames = Object.keys(this.names).filter((k) => !this.usedNames.has(k));
    if (unusedNames.length > 0) {
      throw awsError(
        'ValidationException',
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
      );
    }
  }
}

type Operand = { path: string } | { value: AttributeValue };

const TOKEN_RE =
  /\s*(attribute_not_exists|attribute_exists|AND|OR|NOT|SET|REMOVE|<>|<=|>=|[=<>(),]|#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)/y;

function tokenize(expression: string, what: string): string[] {
  const tokens: string[] = [];
  TOKEN_RE.lastIndex = 0;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    TOKEN_RE.lastIndex = at;
    const m = TOKEN_RE.exec(expression);
    if (!m) throw awsError('ValidationException', `Invalid ${what}: Syntax error; token: "${expression.slice(at, at + 10)}"`);
    tokens.push(m[1]);
    at = TOKEN_RE.lastIndex;
  }
  return tokens;
}

/** Compares two attribute values of the same type (S and N only; other types compare equal only when identical). */
function compare(a: AttributeValue | undefined, b: AttributeValue | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a.S !== undefined && b.S !== undefined) return a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  if (a.N !== undefined && b.N !== undefined) return Math.sign(Number(a.N) - Number(b.N));
  return JSON.stringify(a) === JSON.stringify(b) ? 0 : undefined;
}

/** A recursive-descent evaluator of one ConditionExpression against one item (or none). */
class Condition {
  private i = 0;
  constructor(
    private readonly tokens: string[],
    private readonly ph: Placeholders,
    private readonly item: Item | undefined,
  ) {}

  evaluate(): boolean {
    const r = this.or();
    if (this.i < this.tokens.length) this.syntax();
    return r;
  }

  private peek(): string | undefined {
    return this.tokens[this.i];
  }

  private take(expected?: string): string {
    const t = this.tokens[this.i];
    if (t === undefined || (expected !== undefined && t !== expected)) this.syntax();
    this.i += 1;
    return t;
  }

  private syntax(): never {
    throw awsError('ValidationException', `Invalid ConditionExpression: Syntax error; token: "${this.peek() ?? '<EOF>'}"`);
  }

  private or(): boolean {
    let r = this.and();
    while (this.peek() === 'OR') {
      this.take();
      const right = this.and();
      r = r || right;
    }
    return r;
  }

  private and(): boolean {
    let r = this.not();
    while (this.peek() === 'AND') {
      this.take();
      const right = this.not();
      r = r && right;
    }
    return r;
  }

  private not(): boolean {
    if (this.peek() === 'NOT') {
      this.take();
      return !this.not();
    }
    return this.primary();
  }

  private primary(): boolean {
    const t = this.peek();
    if (t === '(') {
      this.take();
      const r = this.or();
      this.take(')');
      return r;
    }
    if (t === 'attribute_exists' || t === 'attribute_not_exists') {
      this.take();
      this.take('(');
      const path = this.path();
      this.take(')');
      const exists = this.item?.[path] !== undefined;
      return t === 'attribute_exists' ? exists : !exists;
    }
    const left = this.operand();
    const op = this.take();
    if (!['=', '<>', '<', '<=', '>', '>='].includes(op)) this.syntax();
    const right = this.operand();
    const c = compare(this.resolve(left), this.resolve(right));
    if (op === '<>') return c !== 0;
    if (c === undefined) return false;
    return { '=': c === 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[op] ?? false;
  }

  private path(): string {
    const t = this.take();
    if (t.startsWith('#')) return this.ph.name(t);
    if (/^[A-Za-z_]/.test(t) && !['AND', 'OR', 'NOT'].includes(t)) return t;
    return this.syntax();
  }

  private operand(): Operand {
    const t = this.peek();
    if (t?.startsWith(':')) {
      this.take();
      return { value: this.ph.value(t) };
    }
    return { path: this.path() };
  }

  private resolve(o: Operand): AttributeValue | undefined {
    return 'value' in o ? o.value : this.item?.[o.path];
  }
}

/** Applies `SET a = :v, #b = :w REMOVE c, d` to a copy of the item. */
function applyUpdate(expression: string, ph: Placeholders, item: Item): Item {
  const tokens = tokenize(expression, 'UpdateExpression');
  const out: Item = { ...item };
  const syntax = (t?: string): never => {
    throw awsError('ValidationException', `Invalid UpdateExpression: Syntax error; token: "${t ?? '<EOF>'}"`);
  };
  const name = (t: string | undefined): string => (t?.startsWith('#') ? ph.name(t) : t && /^[A-Za-z_]/.test(t) ? t : syntax(t));
  let i = 0;
  let clauses = 0;
  while (i < tokens.length) {
    const clause = tokens[i++];
    clauses += 1;
    if (clause !== 'SET' && clause !== 'REMOVE') syntax(clause);
    for (;;) {
      const target = name(tokens[i++]);
      if (clause === 'SET') {
        if (tokens[i++] !== '=') syntax(tokens[i - 1]);
        const src = tokens[i++];
        out[target] = src?.startsWith(':') ? ph.value(src) : (out[name(src)] ?? syntax(src));
      } else delete out[target];
      if (tokens[i] !== ',') break;
      i += 1;
    }
  }
  if (clauses === 0) syntax();
  return out;
}

/** Simulated DynamoDB. */
export class SimDynamoDb {
  readonly #tables = new Map<string, Table>();

  /** Creates a table with a string partition key (what the stack's table is). */
  createTable(name: string, partitionKey: string): void {
    if (!this.#tables.has(name)) this.#tables.set(name, { partitionKey, items: new Map() });
  }

  /** Every item of a table (for tests and the secret scan). */
  items(name: string): Item[] {
    return [...(this.#tables.get(name)?.items.values() ?? [])].map((i) => structuredClone(i));
  }

  /** Every table with its items as JSON, for the secret scan. */
  dump(): Array<{ table: string; key: string; text: string }> {
    return [...this.#tables].flatMap(([table, t]) => [...t.items].map(([key, item]) => ({ table, key, text: JSON.stringify(item) })));
  }

  private table(name: string | undefined): Table {
    const t = name === undefined ? undefined : this.#tables.get(name);
    if (!t) throw awsError('ResourceNotFoundException', 'Requested resource not found', 400);
    return t;
  }

  private keyOf(t: Table, key: Item | undefined, what: 'Key' | 'Item'): string {
    const v = key?.[t.partitionKey];
    if (v?.S === undefined || v.S === '') {
      throw awsError(
        'ValidationException',
        `One or more parameter values were invalid: Missing the key ${t.partitionKey} in the ${what.toLowerCase()}`,
      );
    }
    if (what === 'Key' && Object.keys(key ?? {}).length !== 1) {
      throw awsError('ValidationException', 'The provided key element does not match the schema');
    }
    return v.S;
  }

  private check(
    input: { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item },
    ph: Placeholders,
    item: Item | undefined,
  ): void {
    if (input.ConditionExpression === undefined) return;
    const ok = new Condition(tokenize(input.ConditionExpression, 'ConditionExpression'), ph, item).evaluate();
    if (!ok) throw awsError('ConditionalCheckFailedException', 'The conditional request failed', 400);
  }

  /** The SDK operations, by name (exactly DYNAMODB_OPERATIONS). */
  readonly operations = {
    PutItem: (input: PutItemCommandInput): Out<PutItemCommandOutput> => {
      const t = this.table(input.TableName);
      const key = this.keyOf(t, input.Item, 'Item');
      const ph = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
      const old = t.items.get(key);
      this.check(input, ph, old);
      ph.checkAllUsed();
      t.items.set(key, structuredClone(input.Item ?? {}));
      return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: structuredClone(old) } : {};
    },
    GetItem: (input: GetItemCommandInput): Out<GetItemCommandOutput> => {
      const t = this.table(input.TableName);
      const item = t.items.get(this.keyOf(t, input.Key, 'Key'));
      return item ? { Item: structuredClone(item) } : {};
    },
    UpdateItem: (input: UpdateItemCommandInput): Out<UpdateItemCommandOutput> => {
      const t = this.table(input.TableName);
      const key = this.keyOf(t, input.Key, 'Key');
      if (!input.UpdateExpression) throw awsError('ValidationException', 'UpdateExpression is required in this simulation');
      const ph = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
      const old = t.items.get(key);
      this.check(input, ph, old);
      const updated = applyUpdate(input.UpdateExpression, ph, { ...(old ?? {}), ...(input.Key ?? {}) });
      ph.checkAllUsed();
      if (updated[t.partitionKey]?.S !== key) throw awsError('ValidationException', 'Cannot update attribute which is part of the key');
      t.items.set(key, updated);
      if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(updated) };
      if (input.ReturnValues === 'ALL_OLD' && old) return { Attributes: structuredClone(old) };
      return {};
    },
    DeleteItem: (input: DeleteItemCommandInput): Out<DeleteItemCommandOutput> => {
      const t = this.table(input.TableName);
      const key = this.keyOf(t, input.Key, 'Key');
      const ph = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
      const old = t.items.get(key);
      this.check(input, ph, old);
      ph.checkAllUsed();
      t.items.delete(key);
      return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: structuredClone(old) } : {};
    },
  } satisfies OperationsOf<typeof DYNAMODB_OPERATIONS>;
}

/** dynamodb in the registry (registry.ts). */
export const dynamodbService = defineService({
  prefix: 'dynamodb',
  property: 'dynamodb',
  operations: DYNAMODB_OPERATIONS,
  client: dynamodbSdk.DynamoDBClient,
  sdk: { exports: dynamodbSdk, baseException: 'DynamoDBServiceException' },
  throttlingCode: 'ThrottlingException',
  // On-demand tables: thousands of requests per second; the approval store needs a handful.
  defaultRates: { 'dynamodb:*': 1000 },
  create: () => new SimDynamoDb(),
  recorded: (db) => db.dump().map((d) => ({ place: 'approval store', name: `dynamodb://${d.table}/${d.key}`, text: d.text })),
});
