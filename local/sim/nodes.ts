/**
 * The nodes of the simulated account: the fleet's EC2 instances as TLS servers (nginx on 443).
 *
 * The account talks to its nodes through a {@link NodeRuntime}: {@link MemoryNodeRuntime} (each
 * node is the certificate it serves, the account's own TLS endpoint (tls-endpoints.ts) serves it,
 * and the deploy document is emulated: memory-deploy.ts), `NginxNodeRuntime` (nginx-nodes.ts: a
 * real nginx per node on 127.0.0.1 in its own directory, the real document script under `sh`), and
 * {@link NodeFleet}, which gives each instance to one of them: the account's `nodes`.
 */
import { sha256OfCertificate } from './certinfo';
import type { SimCertificate } from './iam';
import { emulateDeployScript, type MemoryDeployDeps, type MemoryNodeState } from './memory-deploy';
import type { CommandExecution, ExecutionResult } from './ssm-run-command';

/** The runtimes: in memory, a real nginx per node. */
export type NodeRuntimeName = 'memory' | 'nginx';

/** What a node needs from the account to run a command: its Secrets Manager (memory calls it in-process, nginx over loopback). */
export interface NodeServices extends MemoryDeployDeps {
  /** `http://127.0.0.1:PORT/`: the account's Secrets Manager over the real wire protocol (the AWS CLI stand-in's endpoint). */
  readonly secretsEndpoint?: string;
  readonly region: string;
}

/** One node to run: an instance of the fleet. */
export interface NodeSpec {
  readonly instanceId: string;
  /** Names that reach it (private DNS name, private IP). */
  readonly hosts: readonly string[];
  /** The fleet marks instances that run a real nginx in the node phases (`nginx: true`). */
  readonly nginx?: boolean;
}

/** A file to put on a node (what the SSM document writes: certificate, key, nginx snippet). */
export interface NodeFile {
  /** Absolute path on the node, e.g. `/etc/nginx/ssl/gitter.im.crt`. */
  readonly path: string;
  readonly content: string;
  /** @default 0o644 */
  readonly mode?: number;
}

/** What a node serves now, as the account reports it. */
export interface NodeServing {
  /** A label: `current` (as seeded), the label given at install, else `sha256:<first 16 hex>`. */
  readonly label: string;
  /** SHA-256 (hex, DER) of the leaf. */
  readonly sha256: string;
}

/** How the account runs its nodes. */
export interface NodeRuntime {
  /** The runtime (`fleet` for {@link NodeFleet}, which holds both). */
  readonly name: NodeRuntimeName | 'fleet';
  /** Which runtime runs this node. */
  runtimeOf(instanceId: string): NodeRuntimeName;
  /** Runs a step of the deploy document on the node, as its SSM Agent would (exit code, stdout, stderr). */
  execute(execution: CommandExecution, services: NodeServices): Promise<ExecutionResult>;
  /** Breaks the node's nginx configuration (`nginx-config-invalid`): `nginx -t` fails from now on. */
  breakConfig(instanceId: string): void;
  /** Brings the nodes up, each serving `initial`. */
  start(nodes: readonly NodeSpec[], initial: SimCertificate): Promise<void>;
  /** Stops every node (idempotent). */
  stop(): Promise<void>;
  /** Puts files on a node (nginx: under its root; memory: kept for inspection). */
  deployFiles(instanceId: string, files: readonly NodeFile[]): Promise<void>;
  /** Makes a node serve `cert` (nginx: deploy it and reload). */
  installCertificate(instanceId: string, cert: SimCertificate, label?: string): Promise<void>;
  /** What the node is configured to serve now (no handshake). */
  serving(instanceId: string): NodeServing;
  /**
   * The material the account's TLS endpoint of this node hands out (memory), or undefined when
   * the node serves TLS itself on {@link localPort} (nginx).
   */
  material(instanceId: string): SimCertificate | undefined;
  /** The node's own 127.0.0.1 TLS port (nginx), or undefined: the account's endpoint serves it (memory). */
  localPort(instanceId: string): number | undefined;
  /** Reads back what the node serves: SHA-256 of its leaf (nginx: from a TLS handshake). */
  fingerprint(instanceId: string): Promise<string>;
}

interface MemoryNode {
  label: string;
  readonly state: MemoryNodeState;
  readonly files: Map<string, NodeFile>;
}

/** Nodes in memory: a node is the certificate it serves; installs take effect at once. */
export class MemoryNodeRuntime implements NodeRuntime {
  readonly name = 'memory' as const;
  private readonly nodes = new Map<string, MemoryNode>();

  start(nodes: readonly NodeSpec[], initial: SimCertificate): Promise<void> {
    this.startNow(nodes, initial);
    return Promise.resolve();
  }

  /** {@link start}, synchronously (the account seeds its nodes in its constructor). */
  startNow(nodes: readonly NodeSpec[], initial: SimCertificate): void {
    for (const n of nodes) {
      this.nodes.set(n.instanceId, {
        label: 'current',
        state: { installed: initial, serving: initial, initial, monit: new Map(), configInvalid: false },
        files: new Map(),
      });
    }
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  deployFiles(instanceId: string, files: readonly NodeFile[]): Promise<void> {
    const node = this.node(instanceId);
    for (const f of files) node.files.set(f.path, { ...f });
    return Promise.resolve();
  }

  installCertificate(instanceId: string, cert: SimCertificate, label?: string): Promise<void> {
    this.installNow(instanceId, cert, label);
    return Promise.resolve();
  }

  /** {@link installCertificate}, synchronously: the node serves `cert` when this returns. */
  installNow(instanceId: string, cert: SimCertificate, label?: string): void {
    const node = this.node(instanceId);
    node.state.installed = cert;
    node.state.serving = cert;
    node.label = label ?? `sha256:${sha256OfCertificate(cert.certPem).slice(0, 16)}`;
  }

  runtimeOf(): NodeRuntimeName {
    return 'memory';
  }

  /** The deploy document, emulated (memory-deploy.ts); what the node serves changes with it. */
  async execute(execution: CommandExecution, services: NodeServices): Promise<ExecutionResult> {
    const node = this.node(execution.instanceId);
    const before = node.state.serving;
    const result = await emulateDeployScript(node.state, execution.parameters, services);
    if (node.state.serving !== before) node.label = `sha256:${sha256OfCertificate(node.state.serving.certPem).slice(0, 16)}`;
    return result;
  }

  breakConfig(instanceId: string): void {
    this.node(instanceId).state.configInvalid = true;
  }

  serving(instanceId: string): NodeServing {
    const node = this.node(instanceId);
    return { label: node.label, sha256: sha256OfCertificate(node.state.serving.certPem) };
  }

  material(instanceId: string): SimCertificate {
    return this.node(instanceId).state.serving;
  }

  localPort(): undefined {
    return undefined;
  }

  fingerprint(instanceId: string): Promise<string> {
    return Promise.resolve(this.serving(instanceId).sha256);
  }

  /** The files deployed to a node, by path (tests). */
  files(instanceId: string): ReadonlyMap<string, NodeFile> {
    return this.node(instanceId).files;
  }

  private node(instanceId: string): MemoryNode {
    const node = this.nodes.get(instanceId);
    if (!node) throw new Error(`no node ${instanceId}`);
    return node;
  }
}

/**
 * The account's nodes: each instance on the runtime that runs it (`nginx` for the fleet's
 * `nginx: true` instances when a {@link NodeRuntime} for them is given, else `memory`).
 */
export class NodeFleet implements NodeRuntime {
  readonly name = 'fleet' as const;

  private nginx?: NodeRuntime;
  private onNginx: ReadonlySet<string> = new Set();

  constructor(readonly memory: MemoryNodeRuntime) {}

  /** Runs these instances on `nginx` from now on (started by the caller). */
  useNginx(nginx: NodeRuntime, instanceIds: ReadonlySet<string>): void {
    this.nginx = nginx;
    this.onNginx = instanceIds;
  }

  private of(instanceId: string): NodeRuntime {
    return this.nginx && this.onNginx.has(instanceId) ? this.nginx : this.memory;
  }

  runtimeOf(instanceId: string): NodeRuntimeName {
    return this.of(instanceId).runtimeOf(instanceId);
  }

  async start(): Promise<void> {
    // Each runtime is started by whoever built it (the account): nothing to do here.
  }

  async stop(): Promise<void> {
    await Promise.all([this.memory.stop(), this.nginx?.stop()]);
  }

  execute(execution: CommandExecution, services: NodeServices): Promise<ExecutionResult> {
    return this.of(execution.instanceId).execute(execution, services);
  }

  breakConfig(instanceId: string): void {
    this.of(instanceId).breakConfig(instanceId);
  }

  deployFiles(instanceId: string, files: readonly NodeFile[]): Promise<void> {
    return this.of(instanceId).deployFiles(instanceId, files);
  }

  installCertificate(instanceId: string, cert: SimCertificate, label?: string): Promise<void> {
    return this.of(instanceId).installCertificate(instanceId, cert, label);
  }

  serving(instanceId: string): NodeServing {
    return this.of(instanceId).serving(instanceId);
  }

  material(instanceId: string): SimCertificate | undefined {
    return this.of(instanceId).material(instanceId);
  }

  localPort(instanceId: string): number | undefined {
    return this.of(instanceId).localPort(instanceId);
  }

  fingerprint(instanceId: string): Promise<string> {
    return this.of(instanceId).fingerprint(instanceId);
  }
}
