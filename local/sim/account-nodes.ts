/**
 * The account's side of its nodes (account.ts): the fleet's instances on their runtimes (nodes.ts:
 * in memory, or a real nginx each for `nginx: true`, nginx-nodes.ts), Run Command's executor (a
 * command's step runs on its node's runtime), the node faults (`offline`: the agent is
 * ConnectionLost; `nginx-config-invalid`: the node's nginx config is broken), and the loopback
 * Secrets Manager endpoint the real script's AWS CLI stand-in reads (secrets-endpoint.ts).
 */
import type { SimInstance } from './ec2';
import type { NodeFault } from './faults';
import type { SimCertificate } from './iam';
import { startNginxNodes, type NginxNodeLayout } from './nginx-nodes';
import { MemoryNodeRuntime, NodeFleet, type NodeRuntimeName, type NodeServices } from './nodes';
import { startSecretsEndpoint, type SecretsEndpoint } from './secrets-endpoint';
import type { RunCommand } from './ssm-run-command';
import { nodeTargetKey } from './target-keys';

/** A call a node makes (its own GetSecretValue), answered by the account's dispatcher outside any task. */
export type NodeCall = (operation: 'secretsmanager:GetSecretValue', input: unknown) => Promise<unknown>;

export class AccountNodes {
  readonly fleet: NodeFleet;
  /** What could not be done as asked (nginx missing, a target fault on an nginx node), one line each. */
  readonly warnings: string[] = [];
  private secretsEndpoint?: SecretsEndpoint;

  constructor(
    private readonly params: {
      readonly instances: readonly SimInstance[];
      readonly initial: SimCertificate;
      readonly runCommand: RunCommand;
      readonly faults: readonly NodeFault[];
      readonly region: string;
      readonly call: NodeCall;
    },
  ) {
    const memory = new MemoryNodeRuntime();
    memory.startNow(
      params.instances.map((i) => ({ instanceId: i.id, hosts: [i.privateDnsName, i.privateIp], nginx: i.nginx })),
      params.initial,
    );
    this.fleet = new NodeFleet(memory);
    for (const f of params.faults) if (f.fault === 'offline') params.runCommand.offline.add(f.instance);
    const endpoint = () => this.secretsEndpoint?.url;
    const services: NodeServices = {
      region: params.region,
      // As the node's AWS CLI does it: standard retry mode, 3 attempts on throttling (the nginx nodes' stand-in: maxAttempts 3).
      getSecret: async (secretId) => {
        for (let attempt = 1; ; attempt++) {
          try {
            const out = (await params.call('secretsmanager:GetSecretValue', { SecretId: secretId })) as { SecretString?: string };
            return out.SecretString ?? '';
          } catch (error) {
            const name = (error as { name?: string }).name ?? '';
            if (attempt >= 3 || !/Throttl|TooManyRequests|RequestLimitExceeded/.test(name)) throw error;
          }
        }
      },
      get secretsEndpoint() {
        return endpoint();
      },
    };
    params.runCommand.executor = (execution) => this.fleet.execute(execution, services);
  }

  /** Starts the nginx nodes when asked to (`nginx`), then applies `nginx-config-invalid` on whichever runtime runs the node. */
  async start(opts: {
    readonly runtime: 'memory' | 'nginx';
    readonly domain: string;
    /** Where nginx reads them on a node. @default /etc/nginx/ssl/<domain>.crt and .key */
    readonly certificatePath?: string;
    readonly keyPath?: string;
    /** Whether a target (report key) has a target fault. */
    readonly hasTargetFault: (targetKey: string) => boolean;
  }): Promise<void> {
    if (opts.runtime === 'nginx') {
      const layout: NginxNodeLayout = {
        certificatePath: opts.certificatePath ?? `/etc/nginx/ssl/${opts.domain}.crt`,
        keyPath: opts.keyPath ?? `/etc/nginx/ssl/${opts.domain}.key`,
        serverName: opts.domain,
      };
      const started = await startNginxNodes({
        instances: this.params.instances,
        hasTargetFault: (id) => opts.hasTargetFault(nodeTargetKey(id)),
        layout,
        initial: this.params.initial,
        warnings: this.warnings,
      });
      if (started) {
        this.secretsEndpoint = await startSecretsEndpoint(this.params.call);
        this.fleet.useNginx(started.runtime, started.instanceIds);
      }
    }
    for (const f of this.params.faults) if (f.fault === 'nginx-config-invalid') this.fleet.breakConfig(f.instance);
  }

  /** Which runtime runs each instance, by instance id. */
  runtimes(): Record<string, NodeRuntimeName> {
    return Object.fromEntries(this.params.instances.map((i) => [i.id, this.fleet.runtimeOf(i.id)]));
  }

  /** Stops the nodes (after their running commands) and the endpoint. */
  async close(): Promise<void> {
    await this.fleet.stop();
    await this.secretsEndpoint?.close();
    this.secretsEndpoint = undefined;
  }
}
