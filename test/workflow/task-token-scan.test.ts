import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { exitCodeFor } from '../../local/cli';
import { rehearse } from '../support/rehearsal';

/**
 * No task token outside the approval store: the rehearsal hands each gate a token of its own
 * and searches every place the secret scan reads for it (the approval store, where the token
 * belongs, excepted). A handler that leaks a token makes the run exit 5, naming where.
 */
describe('task tokens: only in the approval store', () => {
  test('a clean run: the store is searched, no token anywhere else', async () => {
    // Act
    const report = await rehearse();

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    // one item per gate passed: the three edge gates and the two between the node phases
    expect(report.approvals).toHaveLength(5);
    expect(report.secretScan.searched['approval store']).toBe(report.approvals.length);
    expect(report.secretScan.where).toEqual([]);
  });

  test('a token written to stderr and to an S3 object is found in both places: exit 5', async () => {
    // Act: request-approval runs, then leaks the token it was handed, as a careless handler could.
    let bucket = '';
    const report = await rehearse({
      beforeStart: (_sim, context) => {
        bucket = context.artifactBucket;
      },
      aroundHandlerForTests: async (call, invoke) => {
        const out = await invoke();
        if (call.handler === 'request-approval') {
          const { taskToken, executionName } = call.event as { taskToken: string; executionName: string };
          process.stderr.write(`debug: callback ${taskToken}\n`);
          await new S3Client({}).send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `executions/${executionName}/leak.json`,
              Body: JSON.stringify({ taskToken }),
            }),
          );
        }
        return out;
      },
    });

    // Assert
    const tokenFindings = report.secretScan.where.filter((w) => w.form === 'task token');
    expect(tokenFindings.map((w) => w.place).sort()).toEqual(expect.arrayContaining(['logs', 's3 objects']));
    expect(tokenFindings.some((w) => w.place === 'approval store')).toBe(false);
    expect(report.secretScan.findings).toBeGreaterThanOrEqual(2);
    expect(exitCodeFor(report)).toBe(5);
    // The report names where, never the token.
    expect(JSON.stringify(report)).not.toMatch(/rehearsal-task-token-/);
  });
});
