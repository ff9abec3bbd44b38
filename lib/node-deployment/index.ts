import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../config';
import { secretPrefix } from '../workflow';
import {
  configDefaults,
  DEPLOY_PARAMETERS,
  DEPLOY_SCRIPT_PARTS,
  deployScript,
  type DeployParameterName,
  type DeployParameterSpec,
} from './parameters';

export * from './parameters';

export interface NodeDeploymentProps {
  readonly config: ResolvedConfig;
  /** @default `CertRotation-<domain with dots as dashes>-DeployCertificate` */
  readonly documentName?: string;
}

/**
 * What the nodes need to deploy the certificate themselves:
 * - the SSM Command document (schemaVersion 2.2, one `aws:runShellScript` step) that carries
 *   deploy script (`deploy-certificate.sh` then `deploy-certificate-changes.sh`), read from the repository at synth. Its parameters (parameters.ts)
 *   reach the script as `SSM_<name>` environment variables (`interpolationType: ENV_VAR`, and an
 *   `allowedPattern` on each), never as text pasted into the script; none carries key material.
 *   The node phases send it (SendCommand `DocumentName`, `DocumentVersion: "$LATEST"`);
 * - a managed policy that lets a node read only this domain's certificate secrets
 *   (`secretsmanager:GetSecretValue` under `cert-rotation/<domain>/`), attached to the instance
 *   roles the config names (`nodeAccess.instanceRoleNames`) and output for roles managed elsewhere.
 */
export class NodeDeployment extends Construct {
  public readonly document: ssm.CfnDocument;
  public readonly documentName: string;
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: NodeDeploymentProps) {
    super(scope, id);
    const { config } = props;
    this.documentName = props.documentName ?? defaultDocumentName(config);

    this.document = new ssm.CfnDocument(this, 'Document', {
      name: this.documentName,
      documentType: 'Command',
      documentFormat: 'JSON',
      // A changed script becomes a new version of the same document (its name is stable).
      updateMethod: 'NewVersion',
      content: documentContent(config),
    });

    const stack = Stack.of(this);
    this.policy = new iam.ManagedPolicy(this, 'CertificateReadPolicy', {
      description: `Lets nodes read the ${config.domain} certificate secrets (${secretPrefix(config)}*) for the deploy document`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadCertificateSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [
            stack.formatArn({
              service: 'secretsmanager',
              resource: 'secret',
              resourceName: `${secretPrefix(config)}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });
    config.nodeAccess.instanceRoleNames.forEach((name, i) => {
      this.policy.attachToRole(iam.Role.fromRoleName(this, `InstanceRole${i}`, name));
    });
  }
}

/** The deploy document's name unless told otherwise: `CertRotation-<domain with dots as dashes>-DeployCertificate` (the node phases send it by name). */
export function defaultDocumentName(config: ResolvedConfig): string {
  return `CertRotation-${config.domain.replace(/\./g, '-')}-DeployCertificate`;
}

/** The document's JSON content: the parameters, with the config's defaults, and the script. */
export function documentContent(config: ResolvedConfig): Record<string, unknown> {
  const script = deployScript();
  // SSM would replace a {{ name }} in the script text; the script takes its parameters from the environment only.
  if (script.includes('{{'))
    throw new Error(`the deploy script (${DEPLOY_SCRIPT_PARTS.join(', ')}) must not contain "{{": SSM would interpolate it`);
  const defaults = configDefaults(config);
  const parameters = Object.fromEntries(
    (Object.entries(DEPLOY_PARAMETERS) as Array<[DeployParameterName, DeployParameterSpec]>).map(([name, spec]) => {
      const dflt = defaults[name] ?? spec.default;
      if (dflt !== undefined && spec.allowedPattern && !new RegExp(spec.allowedPattern).test(dflt)) {
        throw new Error(`deploy document: the default of ${name} ("${dflt}", from the config) does not match ${spec.allowedPattern}`);
      }
      return [
        name,
        {
          type: 'String',
          description: spec.description,
          interpolationType: 'ENV_VAR',
          ...(spec.allowedValues ? { allowedValues: spec.allowedValues } : {}),
          ...(spec.allowedPattern ? { allowedPattern: spec.allowedPattern } : {}),
          ...(dflt !== undefined ? { default: dflt } : {}),
        },
      ];
    }),
  );
  return {
    schemaVersion: '2.2',
    description: `Deploys (action=install) or rolls back (action=rollback) the ${config.domain} certificate on this node's nginx: fetched from Secrets Manager with the instance role, written atomically with a backup, tested, reloaded and verified by a TLS handshake; prints one JSON line.`,
    parameters,
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'deployCertificate',
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: { timeoutSeconds: '600', runCommand: script.split('\n') },
      },
    ],
  };
}
