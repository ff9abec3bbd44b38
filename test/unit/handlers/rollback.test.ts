import {
  CloudFrontClient,
  GetDistributionConfigCommand,
  PreconditionFailed,
  UpdateDistributionCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  SetLoadBalancerListenerSSLCertificateCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  AddListenerCertificatesCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RemoveListenerCertificatesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteConflictException,
  DeleteServerCertificateCommand,
  GetServerCertificateCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { rollBack, type RollbackParams } from '../../../lambdas/rollback/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { AwsTransient } from '../../../lambdas/shared/errors';
import { EXECUTION_TAG } from '../../../lambdas/shared/iam-certs';
import { ChangeLedger, type LedgerEntry } from '../../../lambdas/shared/ledger';
import type { PlanDocument } from '../../../lambdas/plan/domain';
import { silentLogger } from '../../../lambdas/shared/logger';
import { targetKey, type EdgeTarget } from '../../../lambdas/shared/targets';
import { createInMemoryS3 } from '../../support/handler-s3';
import {
  albDefaultTarget,
  albSniTarget,
  canaryTarget,
  caught,
  describeClassicFrom,
  distributionTarget,
  NEW_ARN,
  NEW_ID,
  OLD_ARN,
  OLD_ID,
  seedLedger,
  THIRD_ARN,
  THIRD_ID,
  webappTarget,
  settle,
  switchTarget,
} from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const UPLOADED = { name: 'STAR.gitter.im_2026-11-14', reused: false };
const CURRENT_NAME = 'STAR.gitter.im_2025-11-15';

const s3 = createInMemoryS3({ pageSize: 2 });
const elbMock = mockClient(ElasticLoadBalancingClient);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const cloudfrontMock = mockClient(CloudFrontClient);
const iamMock = mockClient(IAMClient);

// ------------------------------------------------------------------------------------------------
// A simulated edge: what each target serves; every change is journaled in order.
// ------------------------------------------------------------------------------------------------
const classicServes = new Map<string, string>(); // "name:port" -> ARN
const v2Default = new Map<string, string>(); // listenerArn -> ARN
const v2Sni = new Map<string, string[]>(); // listenerArn -> ARNs
const cfServes = new Map<string, string>(); // distribution id -> IAM certificate id
/** IAM server certificates by name, with the tags IAM shows. */
const iamCerts = new Map<string, { arn: string; id: string; tags: Record<string, string> }>();
const SNI_LISTENER_DEFAULT = 'arn:aws:acm:eu-west-1:123456789012:certificate/default-of-the-sni-listener';
let journal: string[];

function installEdgeFakes(): void {
  elbMock.on(DescribeLoadBalancersCommand).callsFake(describeClassicFrom(classicServes));
  elbMock.on(SetLoadBalancerListenerSSLCertificateCommand).callsFake(
    settle((input: { LoadBalancerName?: string; LoadBalancerPort?: number; SSLCertificateId?: string }) => {
      classicServes.set(`${input.LoadBalancerName}:${input.LoadBalancerPort}`, input.SSLCertificateId ?? '');
      journal.push(`elb/${input.LoadBalancerName}/${input.LoadBalancerPort} <- ${input.SSLCertificateId}`);
      return {};
    }),
  );
  elbv2Mock.on(DescribeListenerCertificatesCommand).callsFake(
    settle((input: { ListenerArn?: string }) => {
      const arn = input.ListenerArn ?? '';
      const def = v2Default.get(arn);
      return {
        Certificates: [
          ...(def ? [{ CertificateArn: def, IsDefault: true }] : []),
          ...(v2Sni.get(arn) ?? []).map((c) => ({ CertificateArn: c, IsDefault: false })),
        ],
      };
    }),
  );
  elbv2Mock.on(DescribeListenersCommand).callsFake(
    settle((input: { ListenerArns?: string[] }) => ({
      Listeners: (input.ListenerArns ?? []).map((arn) => ({
        ListenerArn: arn,
        Certificates: v2Default.has(arn) ? [{ CertificateArn: v2Default.get(arn) }] : [],
      })),
    })),
  );
  elbv2Mock.on(ModifyListenerCommand).callsFake(
    settle((input: { ListenerArn?: string; Certificates?: Array<{ CertificateArn?: string }> }) => {
      v2Default.set(input.ListenerArn ?? '', input.Certificates?.[0]?.CertificateArn ?? '');
      journal.push(`elbv2-default ${input.ListenerArn} <- ${input.Certificates?.[0]?.CertificateArn}`);
      return {};
    }),
  );
  elbv2Mock.on(AddListenerCertificatesCommand).callsFake(
    settle((input: { ListenerArn?: string; Certificates?: Array<{ CertificateArn?: string }> }) => {
      const list = v2Sni.get(input.ListenerArn ?? '') ?? [];
      v2Sni.set(input.ListenerArn ?? '', [...list, input.Certificates?.[0]?.CertificateArn ?? '']);
      journal.push(`elbv2-sni-add ${input.Certificates?.[0]?.CertificateArn}`);
      return {};
    }),
  );
  elbv2Mock.on(RemoveListenerCertificatesCommand).callsFake(
    settle((input: { ListenerArn?: string; Certificates?: Array<{ CertificateArn?: string }> }) => {
      const list = v2Sni.get(input.ListenerArn ?? '') ?? [];
      v2Sni.set(
        input.ListenerArn ?? '',
        list.filter((c) => c !== input.Certificates?.[0]?.CertificateArn),
      );
      journal.push(`elbv2-sni-remove ${input.Certificates?.[0]?.CertificateArn}`);
      return {};
    }),
  );
  cloudfrontMock.on(GetDistributionConfigCommand).callsFake(
    settle((input: { Id?: string }) => ({
      ETag: `etag-${cfServes.get(input.Id ?? '')}`,
      DistributionConfig: {
        CallerReference: 'ref',
        Enabled: true,
        ViewerCertificate: { IAMCertificateId: cfServes.get(input.Id ?? ''), CertificateSource: 'iam', SSLSupportMethod: 'sni-only' },
      } as DistributionConfig,
    })),
  );
  cloudfrontMock.on(UpdateDistributionCommand).callsFake(
    settle((input: { Id?: string; DistributionConfig?: DistributionConfig }) => {
      cfServes.set(input.Id ?? '', input.DistributionConfig?.ViewerCertificate?.IAMCertificateId ?? '');
      journal.push(`cloudfront/${input.Id} <- ${input.DistributionConfig?.ViewerCertificate?.IAMCertificateId}`);
      return { ETag: 'new' };
    }),
  );
  iamMock.on(GetServerCertificateCommand).callsFake(
    settle((input: { ServerCertificateName?: string }) => {
      const cert = iamCerts.get(input.ServerCertificateName ?? '');
      if (!cert) throw new NoSuchEntityException({ message: 'cannot be found', $metadata: { httpStatusCode: 404 } });
      return {
        ServerCertificate: {
          CertificateBody: '-----BEGIN CERTIFICATE-----\n(public body)\n-----END CERTIFICATE-----',
          ServerCertificateMetadata: {
            ServerCertificateName: input.ServerCertificateName,
            Arn: cert.arn,
            ServerCertificateId: cert.id,
            Path: '/cloudfront/gitter-production/',
          },
          Tags: Object.entries(cert.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      };
    }),
  );
}

/** The plan this execution wrote: the canary and every edge target of these tests, current = OLD. */
async function writePlan(overrides: Partial<PlanDocument> = {}): Promise<void> {
  const plan: PlanDocument = {
    createdAt: at(0).toISOString(),
    current: { arn: OLD_ARN, id: OLD_ID },
    canary: canaryTarget,
    edge: [webappTarget, distributionTarget, albSniTarget, albDefaultTarget],
    nodePhases: [],
    ...overrides,
  };
  await store().putJson(ArtifactStore.planKey(EXECUTION), plan);
}

beforeEach(async () => {
  s3.reset();
  elbMock.reset();
  elbv2Mock.reset();
  cloudfrontMock.reset();
  iamMock.reset();
  classicServes.clear();
  v2Default.clear();
  v2Sni.clear();
  cfServes.clear();
  iamCerts.clear();
  // The upload of this execution (tagged by IAM as the upload tagged it) and the certificate in use before.
  iamCerts.set(UPLOADED.name, { arn: NEW_ARN, id: NEW_ID, tags: { [EXECUTION_TAG]: EXECUTION } });
  iamCerts.set(CURRENT_NAME, { arn: OLD_ARN, id: OLD_ID, tags: { [EXECUTION_TAG]: 'rotate-2025-11-15' } });
  journal = [];
  installEdgeFakes();
  iamMock.on(DeleteServerCertificateCommand).resolves({});
  await writePlan();
});

const store = () => new ArtifactStore(s3.client, ARTIFACTS);
const ledger = () => new ChangeLedger(store(), EXECUTION);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 10, minute, 0));

function makeParams(overrides: Partial<RollbackParams> = {}): RollbackParams {
  return {
    clients: {
      elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
      cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    },
    iam: new IAMClient({ region: 'us-east-1' }),
    ledger: ledger(),
    store: store(),
    executionName: EXECUTION,
    logger: silentLogger,
    uploadedName: UPLOADED.name,
    now: () => at(59),
    ...overrides,
  };
}

/** The canary, a classic edge ELB, a CloudFront distribution and an SNI listener, switched in that order. */
async function switchedEstate(): Promise<void> {
  classicServes.set('apps-servers-elb-prod:6667', NEW_ARN);
  classicServes.set('webapp-elb-prod:443', NEW_ARN);
  cfServes.set(distributionTarget.distributionId, NEW_ID);
  v2Default.set(albSniTarget.listenerArn, SNI_LISTENER_DEFAULT);
  v2Sni.set(albSniTarget.listenerArn, [THIRD_ARN, NEW_ARN]);
  await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary' });
  await seedLedger(ledger(), webappTarget, { at: at(2) });
  await seedLedger(ledger(), distributionTarget, { at: at(3) });
  await seedLedger(ledger(), albSniTarget, { at: at(4) });
}

async function entry(target: EdgeTarget): Promise<LedgerEntry | undefined> {
  return ledger().get(target);
}

describe('rollBack', () => {
  test('restores every switched target to its before value, newest change first, and marks the ledger', async () => {
    // Arrange
    await switchedEstate();

    // Act
    const result = await rollBack(makeParams());

    // Assert
    // The edge phase's targets in parallel (the SNI list Add before Remove), then the canary.
    expect([...journal.slice(0, 4)].sort()).toEqual(
      [
        `elbv2-sni-add ${OLD_ARN}`,
        `elbv2-sni-remove ${NEW_ARN}`,
        `cloudfront/${distributionTarget.distributionId} <- ${OLD_ID}`,
        `elb/webapp-elb-prod/443 <- ${OLD_ARN}`,
      ].sort(),
    );
    expect(journal.indexOf(`elbv2-sni-add ${OLD_ARN}`)).toBeLessThan(journal.indexOf(`elbv2-sni-remove ${NEW_ARN}`));
    expect(journal.at(-1)).toBe(`elb/apps-servers-elb-prod/6667 <- ${OLD_ARN}`);
    expect(journal).toHaveLength(5);
    // Reported newest change first.
    expect(result.restored).toEqual([
      'ELBv2 api-alb:8443 (SNI)',
      'CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)',
      'ELB webapp-elb-prod:443',
      'ELB apps-servers-elb-prod:6667',
    ]);
    expect(result).toMatchObject({ entries: 4, neverSwitched: [], leftAlone: [] });
    expect(classicServes.get('apps-servers-elb-prod:6667')).toBe(OLD_ARN);
    expect(v2Sni.get(albSniTarget.listenerArn)).toEqual([THIRD_ARN, OLD_ARN]);
    for (const t of [canaryTarget, webappTarget, distributionTarget, albSniTarget]) {
      expect((await entry(t))?.status).toBe('rolled-back');
    }
  });

  test('an ELBv2 default certificate is restored with ModifyListener', async () => {
    // Arrange
    v2Default.set(albDefaultTarget.listenerArn, NEW_ARN);
    await seedLedger(ledger(), albDefaultTarget, { at: at(1) });

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(journal).toEqual([`elbv2-default ${albDefaultTarget.listenerArn} <- ${OLD_ARN}`]);
    expect(result.restored).toEqual(['ELBv2 api-alb:443']);
  });

  test('a target recorded but never switched (intent only, still before) is marked "was not switched", untouched', async () => {
    // Arrange
    classicServes.set('apps-servers-elb-prod:6667', NEW_ARN);
    classicServes.set('webapp-elb-prod:443', OLD_ARN);
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary' });
    await seedLedger(ledger(), webappTarget, { at: at(2), status: 'intended' });

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(result.neverSwitched).toEqual(['ELB webapp-elb-prod:443']);
    expect(result.restored).toEqual(['ELB apps-servers-elb-prod:6667']);
    expect(journal).toEqual([`elb/apps-servers-elb-prod/6667 <- ${OLD_ARN}`]);
    expect(await entry(webappTarget)).toMatchObject({ status: 'rolled-back', note: 'was not switched' });
    expect(result.uploadDeleted).toBe(true);
  });

  test('a target serving a third certificate is left alone with a reason, and then the uploaded certificate is kept', async () => {
    // Arrange
    await switchedEstate();
    cfServes.set(distributionTarget.distributionId, THIRD_ID); // someone changed it by hand

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(result.leftAlone).toEqual([{ target: 'CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)', reason: expect.stringContaining(THIRD_ID) }]);
    expect(journal.some((j) => j.startsWith('cloudfront/'))).toBe(false);
    expect(cfServes.get(distributionTarget.distributionId)).toBe(THIRD_ID);
    expect(result.restored).toHaveLength(3);
    const left = await entry(distributionTarget);
    expect(left?.status).toBe('left-alone');
    expect(left?.note).toContain(THIRD_ID);
    expect(iamMock.commandCalls(DeleteServerCertificateCommand)).toHaveLength(0);
    expect(result.uploadDeleted).toBe(false);
    expect(result.uploadNote).toContain(UPLOADED.name);
  });

  test('every target restored and the certificate was uploaded by this execution -> it is deleted from IAM', async () => {
    // Arrange
    await switchedEstate();

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(iamMock.commandCalls(DeleteServerCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { ServerCertificateName: UPLOADED.name },
    ]);
    expect(result.uploadDeleted).toBe(true);
    expect(result.uploadNote).toBeUndefined();
  });

  test('a certificate IAM does not show tagged with this execution (a reused one) is never deleted, nor switched away from', async () => {
    // Arrange: IAM already held the certificate, uploaded by an earlier execution
    await switchedEstate();
    iamCerts.set(UPLOADED.name, { arn: NEW_ARN, id: NEW_ID, tags: { [EXECUTION_TAG]: 'rotate-2026-11-20' } });

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(iamMock.commandCalls(DeleteServerCertificateCommand)).toHaveLength(0);
    expect(result.uploadDeleted).toBe(false);
    expect(result.uploadNote).toBe(`left ${UPLOADED.name} alone: IAM does not show it tagged ${EXECUTION_TAG}=${EXECUTION}`);
    expect(journal).toEqual([]);
    expect(result.restored).toEqual([]);
    expect(result.leftAlone).toHaveLength(4);
    for (const l of result.leftAlone) expect(l.reason).toContain('is not the certificate this execution uploaded');
  });

  test('a hint naming a certificate this execution did not upload (the one in use) is never deleted', async () => {
    // Arrange: a forged state says the upload was the current certificate (finding 1, past the input check)
    await switchedEstate();

    // Act
    const result = await rollBack(makeParams({ uploadedName: CURRENT_NAME }));

    // Assert: the real upload is still found (from the ledger's after) and proven by its tag; the hint is not deleted
    expect(iamMock.commandCalls(DeleteServerCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { ServerCertificateName: UPLOADED.name },
    ]);
    expect(result.uploadNote).toBe(`left ${CURRENT_NAME} alone: IAM does not show it tagged ${EXECUTION_TAG}=${EXECUTION}`);
    expect(result.restored).toHaveLength(4);
  });

  test('no upload hint: the certificate is found from the ledger (after ARN), proven by its IAM tag, and deleted', async () => {
    // Arrange
    await switchedEstate();

    // Act
    const result = await rollBack(makeParams({ uploadedName: undefined }));

    // Assert
    expect(iamMock.commandCalls(GetServerCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { ServerCertificateName: UPLOADED.name },
    ]);
    expect(result.restored).toHaveLength(4);
    expect(result.uploadDeleted).toBe(true);
  });

  test('no upload hint and an empty ledger -> IAM is not called', async () => {
    // Act
    const result = await rollBack(makeParams({ uploadedName: undefined }));

    // Assert
    expect(iamMock.calls()).toHaveLength(0);
    expect(result.uploadDeleted).toBe(false);
  });

  test('DeleteConflictException (still attached while targets settle) -> a note, not a failure', async () => {
    // Arrange
    await switchedEstate();
    iamMock.on(DeleteServerCertificateCommand).rejects(
      new DeleteConflictException({
        message: 'Certificate: ASCA... is currently in use by arn:aws:elasticloadbalancing:...',
        $metadata: { httpStatusCode: 409 },
      }),
    );

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(result.restored).toHaveLength(4);
    expect(result.uploadDeleted).toBe(false);
    expect(result.uploadNote).toContain(UPLOADED.name);
    expect(result.uploadNote).toMatch(/prune it later/);
  });

  test('the certificate already gone (NoSuchEntity) counts as deleted', async () => {
    // Arrange
    await switchedEstate();
    iamMock
      .on(DeleteServerCertificateCommand)
      .rejects(new NoSuchEntityException({ message: 'cannot be found', $metadata: { httpStatusCode: 404 } }));

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(result.uploadDeleted).toBe(true);
  });

  test('an empty ledger (failure before any change) restores nothing and still cleans up the upload', async () => {
    // Arrange (empty ledger)

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(result).toEqual({ done: true, entries: 0, restored: [], neverSwitched: [], leftAlone: [], uploadDeleted: true });
    expect(journal).toEqual([]);
  });

  test('a retry after the delete took effect: the upload is gone (counts as deleted), nothing reported as left alone', async () => {
    // Arrange
    await switchedEstate();
    await rollBack(makeParams());
    iamCerts.delete(UPLOADED.name);
    journal = [];

    // Act
    const again = await rollBack(makeParams());

    // Assert
    expect(journal).toEqual([]);
    expect(again).toMatchObject({ entries: 0, restored: [], leftAlone: [], uploadDeleted: true });
    expect(again.uploadNote).toBe(`${UPLOADED.name} is not in IAM (already deleted)`);
  });

  test('a second run after a complete rollback changes nothing (rolled-back entries are done)', async () => {
    // Arrange
    await switchedEstate();
    await rollBack(makeParams());
    journal = [];

    // Act
    const again = await rollBack(makeParams());

    // Assert
    expect(journal).toEqual([]);
    expect(again.entries).toBe(0);
    expect(again.restored).toEqual([]);
  });

  test('a retry after a transient failure part-way finishes the remaining targets without touching restored ones', async () => {
    // Arrange: the CloudFront update keeps hitting an ETag race on the first run (every re-read attempt)
    await switchedEstate();
    cloudfrontMock
      .on(UpdateDistributionCommand)
      .rejects(new PreconditionFailed({ message: 'precondition failed', $metadata: { httpStatusCode: 412 } }));
    const first = await caught(() => rollBack(makeParams()));
    expect(first).toBeInstanceOf(AwsTransient);
    installEdgeFakes();
    journal = [];

    // Act
    const result = await rollBack(makeParams());

    // Assert: the first run restored the other edge targets (in parallel) and stopped before the canary.
    expect(journal).toEqual([
      `cloudfront/${distributionTarget.distributionId} <- ${OLD_ID}`,
      `elb/apps-servers-elb-prod/6667 <- ${OLD_ARN}`,
    ]);
    expect(result.leftAlone).toEqual([]);
  });

  // PRODUCT BUG (lambdas/rollback/domain.ts:34-36 and 64-66): a retried rollback only sees entries
  // still 'intended'/'applied', so the decision "some targets were left alone -> keep the uploaded
  // certificate" forgets the targets an earlier attempt already marked 'left-alone'. A rollback
  // retried after an AwsTransient (it is retried on AwsTransient and CertificateNotPropagated)
  // therefore deletes the certificate although the ledger says a target was left alone, and its
  // result (stored at $.rollback) no longer lists that target.
  test('a retried rollback still keeps the upload when an earlier attempt left a target alone', async () => {
    // Arrange: the first attempt left the distribution alone, then failed transiently on the next target
    await switchedEstate();
    cfServes.set(distributionTarget.distributionId, THIRD_ID);
    elbMock
      .on(SetLoadBalancerListenerSSLCertificateCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await caught(() => rollBack(makeParams()));
    expect((await entry(distributionTarget))?.status).toBe('left-alone');
    installEdgeFakes();

    // Act: Step Functions retries the task
    const result = await rollBack(makeParams());

    // Assert
    expect(result.uploadDeleted).toBe(false);
    expect(iamMock.commandCalls(DeleteServerCertificateCommand).length).toBe(0);
    expect(result.leftAlone.map((l) => l.target)).toEqual(['CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)']);
  });

  // PRODUCT BUG (lambdas/shared/target-ops.ts:78-80): an ELBv2 SNI listener holding BOTH the
  // before and the after certificate is classified 'other' ("neither the previous nor the new
  // certificate"). That is exactly the state our own Add-then-Remove switch leaves when Remove
  // fails (throttled, Lambda timeout) after Add succeeded. A retried rollback then leaves the
  // listener "alone" serving both certificates, reports it as changed by someone else, and keeps
  // the upload, instead of finishing the Remove.
  test('a retried rollback finishes an SNI restore interrupted between Add and Remove', async () => {
    // Arrange: first attempt added the old certificate back, then Remove failed transiently
    v2Default.set(albSniTarget.listenerArn, SNI_LISTENER_DEFAULT);
    v2Sni.set(albSniTarget.listenerArn, [THIRD_ARN, NEW_ARN]);
    await seedLedger(ledger(), albSniTarget, { at: at(4) });
    elbv2Mock
      .on(RemoveListenerCertificatesCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await caught(() => switchTarget(makeParams().clients, albSniTarget, NEW_ARN, OLD_ARN));
    expect(v2Sni.get(albSniTarget.listenerArn)).toEqual([THIRD_ARN, NEW_ARN, OLD_ARN]);
    installEdgeFakes();
    journal = [];

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(result.leftAlone).toEqual([]);
    expect(v2Sni.get(albSniTarget.listenerArn)).toEqual([THIRD_ARN, OLD_ARN]);
    expect(result.uploadDeleted).toBe(true);
  });

  test('ledger objects are listed across pages (more entries than one ListObjectsV2 page)', async () => {
    // Arrange: pageSize is 2, so 4 entries need 2 pages
    await switchedEstate();

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(result.entries).toBe(4);
    const lists = s3.mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { Bucket: ARTIFACTS, Prefix: `executions/${EXECUTION}/ledger/`, ContinuationToken: undefined, MaxKeys: 1000 },
      { Bucket: ARTIFACTS, Prefix: `executions/${EXECUTION}/ledger/`, ContinuationToken: '2', MaxKeys: 1000 },
    ]);
  });
});

describe('rollBack acts only on what it can prove', () => {
  const legacyTarget = {
    kind: 'elb',
    loadBalancerName: 'legacy-elb',
    port: 443,
    dnsName: 'legacy-elb-9.eu-west-1.elb.amazonaws.com',
  } as const;

  /** Writes an object under the ledger prefix as anyone with s3:PutObject there could. */
  const forge = (objectKey: string, body: unknown) => store().putJson(`executions/${EXECUTION}/ledger/${objectKey}`, body);
  const forgedEntry = (target: EdgeTarget, before: string, after: string): LedgerEntry => ({
    key: targetKey(target),
    target,
    phase: 'edge',
    before,
    after,
    beforeSha256: 'c'.repeat(64),
    afterSha256: 'd'.repeat(64),
    status: 'applied',
    updatedAt: at(30).toISOString(),
  });

  test('a forged entry for a target outside the plan is not switched: left alone, reported with the reason, the entry not rewritten', async () => {
    // Arrange: legacy-elb serves a third certificate and is not in the plan; the forged entry would "restore" it to OLD.
    await switchedEstate();
    classicServes.set('legacy-elb:443', THIRD_ARN);
    await forge('elb/legacy-elb/443.json', forgedEntry(legacyTarget, OLD_ARN, THIRD_ARN));

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(classicServes.get('legacy-elb:443')).toBe(THIRD_ARN);
    expect(journal.filter((j) => j.includes('legacy-elb'))).toEqual([]);
    expect(result.leftAlone).toEqual([
      { target: 'ELB legacy-elb:443', reason: "elb/legacy-elb/443 is not in this execution's plan; left alone" },
    ]);
    // Reported, not rewritten: it is not this execution's entry (the report must not count it as a target not back).
    const stored = await ledger().get(legacyTarget);
    expect(stored?.status).toBe('applied');
    expect(stored).not.toHaveProperty('note');
    // What it can prove is still rolled back, and the unproven entry does not keep the upload.
    expect(result.restored).toHaveLength(4);
    expect(result.uploadDeleted).toBe(true);
  });

  test('a forged entry for a target in the plan whose after is not ours is not switched', async () => {
    // Arrange: webapp-elb (in the plan) serves OLD; a forged entry says after = OLD, before = THIRD.
    classicServes.set('apps-servers-elb-prod:6667', NEW_ARN);
    classicServes.set('webapp-elb-prod:443', OLD_ARN);
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary' });
    await forge('elb/webapp-elb-prod/443.json', forgedEntry(webappTarget, THIRD_ARN, OLD_ARN));

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(classicServes.get('webapp-elb-prod:443')).toBe(OLD_ARN);
    expect(journal).toEqual([`elb/apps-servers-elb-prod/6667 <- ${OLD_ARN}`]);
    expect(result.leftAlone).toEqual([
      {
        target: 'ELB webapp-elb-prod:443',
        reason: `its after ${OLD_ARN} is not the certificate this execution uploaded (IAM does not show it tagged ${EXECUTION_TAG}=${EXECUTION}); left alone`,
      },
    ]);
  });

  test("an entry whose after is ours but whose before is not what the plan found in use is not switched (no restore to a forged 'before'), and counts as not back", async () => {
    // Arrange
    classicServes.set('webapp-elb-prod:443', NEW_ARN);
    await forge('elb/webapp-elb-prod/443.json', forgedEntry(webappTarget, THIRD_ARN, NEW_ARN));

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(journal).toEqual([]);
    expect(result.leftAlone).toEqual([
      {
        target: 'ELB webapp-elb-prod:443',
        reason: expect.stringContaining(`its before ${THIRD_ARN} is not the certificate the plan found in use`),
      },
    ]);
    // It may serve this execution's certificate: marked left-alone (a target not back), and the upload is kept.
    expect(await ledger().get(webappTarget)).toMatchObject({ status: 'left-alone', note: expect.stringContaining('not proven') });
    expect(iamMock.commandCalls(DeleteServerCertificateCommand)).toHaveLength(0);
    expect(result.uploadDeleted).toBe(false);
  });

  test("the target acted on is the plan's, never the entry's (a forged listener ARN under a planned key)", async () => {
    // Arrange: the key matches the planned SNI listener; the listener ARN points elsewhere.
    const elsewhere = { ...albDefaultTarget, listenerArn: `${albDefaultTarget.listenerArn}-someone-elses` };
    const forged = { ...forgedEntry(albDefaultTarget, OLD_ARN, NEW_ARN), target: elsewhere };
    v2Default.set(albDefaultTarget.listenerArn, NEW_ARN);
    v2Default.set(elsewhere.listenerArn, NEW_ARN);
    await forge(`${targetKey(albDefaultTarget)}.json`, forged);

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(journal).toEqual([`elbv2-default ${albDefaultTarget.listenerArn} <- ${OLD_ARN}`]);
    expect(v2Default.get(elsewhere.listenerArn)).toBe(NEW_ARN);
    expect(result.restored).toEqual(['ELBv2 api-alb:443']);
  });

  test('an entry stored elsewhere than its key, and objects that are no ledger entries, are reported and left untouched', async () => {
    // Arrange
    classicServes.set('webapp-elb-prod:443', NEW_ARN);
    await forge('evil.json', forgedEntry(webappTarget, OLD_ARN, NEW_ARN));
    await forge('garbage.json', { hello: 'world' });
    await s3.client.send(new PutObjectCommand({ Bucket: ARTIFACTS, Key: `executions/${EXECUTION}/ledger/not-json.json`, Body: '{nope' }));

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(journal).toEqual([]);
    expect(result.leftAlone).toEqual([
      { target: 'ELB webapp-elb-prod:443', reason: expect.stringContaining(`stored at executions/${EXECUTION}/ledger/evil.json`) },
      { target: `ledger object executions/${EXECUTION}/ledger/garbage.json`, reason: expect.stringContaining('not a ledger entry') },
      { target: `ledger object executions/${EXECUTION}/ledger/not-json.json`, reason: expect.stringContaining('not JSON') },
    ]);
    // Nothing written where the forged key points.
    expect(await ledger().get(webappTarget)).toBeUndefined();
  });

  test('without the plan this execution wrote, no entry is proven: nothing is switched', async () => {
    // Arrange
    await switchedEstate();
    await s3.client.send(new DeleteObjectCommand({ Bucket: ARTIFACTS, Key: ArtifactStore.planKey(EXECUTION) }));

    // Act
    const result = await rollBack(makeParams());

    // Assert
    expect(journal).toEqual([]);
    expect(result.leftAlone).toHaveLength(4);
    expect(result.leftAlone[0]?.reason).toContain('this execution wrote no plan');
  });

  test('an IAM certificate is deleted only when IAM shows it tagged with this execution', async () => {
    // Arrange: same name, tagged by this execution (first) or not at all (second)
    const run = async (tags: Record<string, string>) => {
      iamMock.resetHistory();
      iamCerts.set(UPLOADED.name, { arn: NEW_ARN, id: NEW_ID, tags });
      return rollBack(makeParams());
    };

    // Act
    const tagged = await run({ [EXECUTION_TAG]: EXECUTION });
    const deletesWhenTagged = iamMock.commandCalls(DeleteServerCertificateCommand).length;
    const untagged = await run({});
    const deletesWhenUntagged = iamMock.commandCalls(DeleteServerCertificateCommand).length;

    // Assert
    expect({ deleted: tagged.uploadDeleted, calls: deletesWhenTagged }).toEqual({ deleted: true, calls: 1 });
    expect({ deleted: untagged.uploadDeleted, calls: deletesWhenUntagged }).toEqual({ deleted: false, calls: 0 });
    expect(untagged.uploadNote).toContain(`IAM does not show it tagged ${EXECUTION_TAG}=${EXECUTION}`);
  });

  test('an IAM certificate the role may not even read (outside the rotation path) is not ours: left alone', async () => {
    // Arrange
    iamMock
      .on(GetServerCertificateCommand, { ServerCertificateName: 'someone-elses' })
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));

    // Act
    const result = await rollBack(makeParams({ uploadedName: 'someone-elses' }));

    // Assert
    expect(iamMock.commandCalls(DeleteServerCertificateCommand)).toHaveLength(0);
    expect(result.uploadNote).toContain('left someone-elses alone');
  });
});
