import {
  GetServerCertificateCommand,
  paginateListServerCertificates,
  type IAMClient,
  type ServerCertificateMetadata,
} from '@aws-sdk/client-iam';
import { MAX_PAGE_SIZE, pages } from './aws-clients';
import { awsErrorName } from './aws-errors';

/**
 * Tag naming the execution that uploaded a certificate (set by the upload). What IAM itself shows
 * under this tag is the only proof rollback accepts that a certificate is this execution's.
 */
export const EXECUTION_TAG = 'cert-rotation:execution';

/** Finds IAM server certificate metadata by ARN or ServerCertificateId (paginates every path). */
export async function findServerCertificate(
  iam: IAMClient,
  match: { readonly arn?: string; readonly id?: string },
): Promise<ServerCertificateMetadata | undefined> {
  for await (const out of paginateListServerCertificates(pages(iam, MAX_PAGE_SIZE.iamListServerCertificates), {})) {
    const hit = (out.ServerCertificateMetadataList ?? []).find(
      (m) => (match.arn !== undefined && m.Arn === match.arn) || (match.id !== undefined && m.ServerCertificateId === match.id),
    );
    if (hit) return hit;
  }
  return undefined;
}

/** The public body of an IAM server certificate (IAM never returns the key), or undefined. */
export async function getCertificateBody(
  iam: IAMClient,
  name: string,
): Promise<{ body: string; chain?: string; metadata: ServerCertificateMetadata; tags: Record<string, string> } | undefined> {
  try {
    const out = await iam.send(new GetServerCertificateCommand({ ServerCertificateName: name }));
    const sc = out.ServerCertificate;
    if (!sc?.CertificateBody || !sc.ServerCertificateMetadata) return undefined;
    return {
      body: sc.CertificateBody,
      ...(sc.CertificateChain ? { chain: sc.CertificateChain } : {}),
      metadata: sc.ServerCertificateMetadata,
      tags: Object.fromEntries((sc.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key as string, t.Value ?? ''])),
    };
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchEntityException' || awsErrorName(error) === 'NoSuchEntity') return undefined;
    throw error;
  }
}
