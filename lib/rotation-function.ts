import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The handler folders under `lambdas/`. */
export type HandlerName =
  | 'check-input'
  | 'guard'
  | 'obtain'
  | 'current'
  | 'validate'
  | 'plan'
  | 'notify-start'
  | 'request-approval'
  | 'approval-page'
  | 'upload'
  | 'switch-canary'
  | 'verify-tls'
  | 'edge-prepare'
  | 'edge-switch'
  | 'edge-poll'
  | 'edge-verify'
  | 'node-send'
  | 'node-poll'
  | 'node-rollback'
  | 'rollback'
  | 'verify-rollback'
  | 'prune'
  | 'finish';

/** A handler that is no task of the workflow (the expiry check, a test phase's): its name, and the file that exports `handler`. */
export interface HandlerFile {
  readonly name: string;
  readonly entry: string;
}

export interface RotationFunctionProps {
  /** Folder under `lambdas/` holding `index.ts` that exports `handler` (or, for a test phase, a handler file elsewhere). */
  readonly handler: HandlerName | HandlerFile;
  readonly description: string;
  /** Merged over the defaults (never replaces them). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 60 seconds */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/** Where the handler sources live; the local rehearsal loads the same files. */
export function handlerEntry(handler: HandlerName): string {
  return path.join(__dirname, '..', 'lambdas', handler, 'index.ts');
}

/**
 * The one place that sets the Lambda defaults: Node.js 22 on arm64, X-Ray tracing, source maps,
 * an explicit log group, minified esbuild bundles with the AWS SDK taken from the runtime.
 */
export class RotationFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  /** The handler folder's name (a test handler's own name). */
  public readonly handlerName: string;
  /** The file that exports `handler`: what is bundled, and what the local rehearsal loads. */
  public readonly entry: string;

  constructor(scope: Construct, id: string, props: RotationFunctionProps) {
    super(scope, id);
    this.handlerName = typeof props.handler === 'string' ? props.handler : props.handler.name;
    this.entry = typeof props.handler === 'string' ? handlerEntry(props.handler) : props.handler.entry;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: this.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: props.memorySize ?? 256,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...(props.environment ?? {}),
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
}
