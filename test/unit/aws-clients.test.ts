import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { S3Client } from '@aws-sdk/client-s3';
import { awsCallOf, awsClient, MAX_ATTEMPTS, resourceOf } from '../../lambdas/shared/aws-clients';
import { classifyAwsErrors } from '../../lambdas/shared/aws-errors';
import { AwsTransient } from '../../lambdas/shared/errors';
import { awsError, caught } from '../support/handler-support';

const LAMBDAS = join(__dirname, '..', '..', 'lambdas');
const ENV_KEYS = [
  'AWS_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
];
let savedEnv: Record<string, string | undefined>;

/** Stops a request before the network and returns where it would have gone. */
async function requestTarget(client: ElasticLoadBalancingClient): Promise<{ hostname: string; port?: number }> {
  let seen: { hostname: string; port?: number } | undefined;
  client.middlewareStack.add(
    () => (args: { request: unknown }) => {
      const request = args.request as { hostname: string; port?: number };
      seen = { hostname: request.hostname, ...(request.port ? { port: request.port } : {}) };
      return Promise.reject(awsError('AccessDenied', { status: 403, message: 'stopped by the test' }));
    },
    { step: 'finalizeRequest', name: 'stopBeforeNetwork', priority: 'low' },
  );
  await caught(() => client.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['apps-servers-elb-prod'] })));
  if (!seen) throw new Error('the request never reached the test middleware');
  return seen;
}

beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  process.env.AWS_ACCESS_KEY_ID = 'AKIATESTTESTTESTTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
});

afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('awsClient: the one client factory', () => {
  test('every client retries in adaptive mode with at least 8 attempts', async () => {
    // Arrange
    process.env.AWS_REGION = 'eu-west-1';

    // Act
    const client = awsClient(S3Client);
    const strategy = (await client.config.retryStrategy()) as { mode?: string };

    // Assert
    expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(8);
    expect(await client.config.maxAttempts()).toBe(MAX_ATTEMPTS);
    expect(strategy.mode).toBe('adaptive');
  });

  test('the region comes from the SDK standard settings (AWS_REGION), not from code', async () => {
    // Arrange
    process.env.AWS_REGION = 'ap-southeast-2';

    // Act
    const target = await requestTarget(awsClient(ElasticLoadBalancingClient));

    // Assert
    expect(target.hostname).toBe('elasticloadbalancing.ap-southeast-2.amazonaws.com');
  });

  test('AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_<SERVICE> are honoured', async () => {
    // Arrange
    process.env.AWS_REGION = 'eu-west-1';
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4566';

    // Act
    const global = await requestTarget(awsClient(ElasticLoadBalancingClient));
    process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING = 'http://127.0.0.1:5000';
    const perService = await requestTarget(awsClient(ElasticLoadBalancingClient));

    // Assert
    expect(global).toEqual({ hostname: '127.0.0.1', port: 4566 });
    expect(perService).toEqual({ hostname: '127.0.0.1', port: 5000 });
  });

  test('a failed call is annotated with its operation and resource, and AwsTransient names them', async () => {
    // Arrange
    process.env.AWS_REGION = 'eu-west-1';
    const client = awsClient(ElasticLoadBalancingClient);
    const throttled = awsError('Throttling', { message: 'Rate exceeded' });
    throttled.$metadata.attempts = MAX_ATTEMPTS;
    client.middlewareStack.add(() => () => Promise.reject(throttled), { step: 'build', name: 'alwaysThrottled', priority: 'low' });
    // The build step runs once, outside the retries (finalizeRequest): no real backoff in this test.

    // Act
    const thrown = await caught(() =>
      classifyAwsErrors(() => client.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['apps-servers-elb-prod'] }))),
    );

    // Assert
    expect(awsCallOf(throttled)).toEqual({ operation: 'elb:DescribeLoadBalancers', resource: 'apps-servers-elb-prod' });
    expect(thrown).toBeInstanceOf(AwsTransient);
    expect(thrown.message).toBe(
      `Throttling on elb:DescribeLoadBalancers (apps-servers-elb-prod) after ${MAX_ATTEMPTS} attempts: Rate exceeded`,
    );
  });

  test.each([
    [{ LoadBalancerName: 'apps-servers-elb-prod', LoadBalancerPort: 6667, SSLCertificateId: 'arn:x' }, 'apps-servers-elb-prod:6667'],
    [{ Bucket: 'artifacts', Key: 'executions/x/plan.json', Body: '{}' }, 'artifacts/executions/x/plan.json'],
    [{ Id: 'E1GITTERCDN', IfMatch: 'E2', DistributionConfig: {} }, 'E1GITTERCDN'],
    [
      { ListenerArn: 'arn:aws:elasticloadbalancing:listener/app/api/1/2', Marker: 'm' },
      'arn:aws:elasticloadbalancing:listener/app/api/1/2',
    ],
    [{ InstanceIds: ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'] }, 'i-1, i-2, i-3 and 2 more'],
    [{ PageSize: 400 }, undefined],
  ])('resourceOf(%j) = %s', (input, expected) => {
    expect(resourceOf(input)).toBe(expected);
  });
});

describe('every handler builds its clients through awsClient', () => {
  const sources = (): Array<{ file: string; text: string }> => {
    const out: Array<{ file: string; text: string }> = [];
    // Every .ts file at any depth (shared/certificate/*.ts included).
    for (const file of readdirSync(LAMBDAS, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.ts'))) {
      out.push({ file: file.split(sep).join('/'), text: readFileSync(join(LAMBDAS, file), 'utf8') });
    }
    return out;
  };

  test('no file under lambdas/ constructs an SDK client itself (only shared/aws-clients.ts does)', () => {
    // Arrange
    const files = sources();

    // Act
    const offenders = files.filter((s) => s.file !== 'shared/aws-clients.ts' && /new\s+\w+Client\s*\(/.test(s.text)).map((s) => s.file);

    // Assert
    expect(files.length).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });

  test('every handler index.ts that uses an SDK client package uses the factory', () => {
    // Arrange
    const indexes = sources().filter((s) => s.file.endsWith('/index.ts') && s.text.includes("from '@aws-sdk/client-"));

    // Act
    const without = indexes.filter((s) => !/awsClient\(|createEdgeClients\(/.test(s.text)).map((s) => s.file);

    // Assert
    expect(indexes.length).toBeGreaterThan(8);
    expect(without).toEqual([]);
  });
});
