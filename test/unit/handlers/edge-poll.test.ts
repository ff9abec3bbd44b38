import { CloudFrontClient, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { pollDistributions, type EdgePollParams } from '../../../lambdas/edge-poll/domain';
import type { PlanDocument } from '../../../lambdas/plan/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { CloudFrontNotDeployed } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import type { DistributionTarget } from '../../../lambdas/shared/targets';
import { createInMemoryS3 } from '../../support/handler-s3';
import { canaryTarget, caught, distributionTarget, OLD_ARN, OLD_ID, settle, webappTarget } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const s3 = createInMemoryS3();
const cloudfrontMock = mockClient(CloudFrontClient);
const second: DistributionTarget = { ...distributionTarget, distributionId: 'E2SECOND', aliases: ['avatars.gitter.im'] };
/** Status by distribution id; the list pages two at a time, with unrelated distributions among them. */
const status = new Map<string, string>();

const store = () => new ArtifactStore(s3.client, ARTIFACTS);

function makeParams(overrides: Partial<EdgePollParams> = {}): EdgePollParams {
  return {
    cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    store: store(),
    executionName: EXECUTION,
    rounds: 0,
    maxRounds: 10,
    purpose: 'rollout',
    logger: silentLogger,
    ...overrides,
  };
}

beforeEach(async () => {
  s3.reset();
  cloudfrontMock.reset();
  status.clear();
  status.set('E0UNRELATED', 'InProgress');
  status.set(distributionTarget.distributionId, 'Deployed');
  status.set(second.distributionId, 'Deployed');
  cloudfrontMock.on(ListDistributionsCommand).callsFake(
    settle((input: { Marker?: string }) => {
      const ids = [...status.keys()];
      const start = Number(input.Marker ?? 0);
      const page = ids.slice(start, start + 2);
      const next = start + 2 < ids.length ? String(start + 2) : undefined;
      return {
        DistributionList: { Items: page.map((Id) => ({ Id, Status: status.get(Id) })), IsTruncated: next !== undefined, NextMarker: next },
      };
    }),
  );
  const plan: PlanDocument = {
    createdAt: new Date().toISOString(),
    current: { arn: OLD_ARN, id: OLD_ID },
    canary: canaryTarget,
    edge: [webappTarget, distributionTarget, second],
    nodePhases: [],
  };
  await store().putJson(ArtifactStore.planKey(EXECUTION), plan);
});

describe('edge poll: one round of the CloudFront wait', () => {
  test('every planned distribution Deployed -> done, from one ListDistributions pass (an unrelated one InProgress does not count)', async () => {
    // Act
    const result = await pollDistributions(makeParams());

    // Assert
    expect(result).toEqual({ rounds: 1, distributions: 2, pending: 0, pendingIds: [], done: true });
    expect(cloudfrontMock.commandCalls(ListDistributionsCommand)).toHaveLength(2);
  });

  test('one still InProgress -> not done, the round counted, the id named', async () => {
    // Arrange
    status.set(second.distributionId, 'InProgress');

    // Act
    const result = await pollDistributions(makeParams({ rounds: 3 }));

    // Assert
    expect(result).toEqual({ rounds: 4, distributions: 2, pending: 1, pendingIds: ['E2SECOND'], done: false });
  });

  test('still InProgress at the deadline -> CloudFrontNotDeployed naming it', async () => {
    // Arrange
    status.set(second.distributionId, 'InProgress');

    // Act
    const error = await caught(() => pollDistributions(makeParams({ rounds: 9, maxRounds: 10 })));

    // Assert
    expect(error).toBeInstanceOf(CloudFrontNotDeployed);
    expect(error.message).toContain('E2SECOND');
  });

  test('a plan without distributions is done at once, without a CloudFront call', async () => {
    // Arrange
    const plan = { createdAt: '', current: { arn: OLD_ARN, id: OLD_ID }, canary: canaryTarget, edge: [webappTarget], nodePhases: [] };
    await store().putJson(ArtifactStore.planKey(EXECUTION), plan);

    // Act
    const result = await pollDistributions(makeParams());

    // Assert
    expect(result.done).toBe(true);
    expect(cloudfrontMock.commandCalls(ListDistributionsCommand)).toHaveLength(0);
  });
});

describe('edge poll without a plan', () => {
  test('a rotation that stopped before planning has no distribution to wait for: done, without a CloudFront call', async () => {
    // Arrange
    s3.reset();

    // Act
    const result = await pollDistributions(makeParams({ purpose: 'rollback' }));

    // Assert
    expect(result).toEqual({ rounds: 1, distributions: 0, pending: 0, pendingIds: [], done: true });
    expect(cloudfrontMock.commandCalls(ListDistributionsCommand)).toHaveLength(0);
  });
});
