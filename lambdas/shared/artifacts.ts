import { DeleteObjectCommand, GetObjectCommand, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MAX_PAGE_SIZE, pages } from './aws-clients';
import { awsErrorName } from './aws-errors';

/**
 * JSON documents of one execution in the artifacts bucket: the plan, the change ledger, approval
 * requests and the report. Target lists grow with the fleet, so they live here and not in the
 * state payload (256 KiB limit). Never write key material here.
 */
export class ArtifactStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  static executionPrefix(executionName: string): string {
    return `executions/${executionName}/`;
  }

  /** Where the plan handler writes the execution's plan (rollback reads it back as proof). */
  static planKey(executionName: string): string {
    return `${ArtifactStore.executionPrefix(executionName)}plan.json`;
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value, null, 2),
        ContentType: 'application/json',
      }),
    );
  }

  /** The document, or undefined when there is none. */
  async getJson<T>(key: string): Promise<T | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = await out.Body?.transformToString();
      return text === undefined ? undefined : (JSON.parse(text) as T);
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchKey' || awsErrorName(error) === 'NotFound') return undefined;
      throw error;
    }
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const out of paginateListObjectsV2(pages(this.s3, MAX_PAGE_SIZE.s3ListObjectsV2), { Bucket: this.bucket, Prefix: prefix })) {
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
