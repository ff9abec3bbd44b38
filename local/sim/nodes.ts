/**
 * The nodes of the simulated account: the fleet's EC2 instances as TLS servers (nginx on 443).
 *
 * The account talks to its nodes through a {@link NodeRuntime}, so that the node phases can later
 * run against a real nginx per node (runtime `nginx`: start/stop, files deployed by the SSM
 * document, TLS on 127.0.0.1) without the account changing. Today there is one runtime,
 * {@link MemoryNodeRuntime}: each node is the certificate it serves, and the account's own TLS
 * endpoint (tls-endpoints.ts) serves it.
 */
import { sha256OfCertificate } from './certinfo';
import type { SimCertificate } from './iam';

/** The runtimes: in memory (today), a real nginx per node (the node phase). */
export type NodeRuntimeName = 'memory' | 'nginx';

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
  readonly name: NodeRuntimeName;
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
  serving: NodeServing;
  cert: SimCertificate;
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
        serving: { label: 'current', sha256: sha256OfCertificate(initial.certPem) },
        cert: initial,
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
    const sha256 = sha256OfCertificate(cert.certPem);
    node.cert = cert;
    node.serving = { label: label ?? `sha256:${sha256.slice(0, 16)}`, sha256 };
  }

  serving(instanceId: string): NodeServing {
    return this.node(instanceId).serving;
  }

  material(instanceId: string): SimCertificate {
    return this.node(instanceId).cert;
  }

  localPort(): undefined {
    return undefined;
  }

  fingerprint(instanceId: string): Promise<string> {
    return Promise.resolve(this.node(instanceId).serving.sha256);
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
