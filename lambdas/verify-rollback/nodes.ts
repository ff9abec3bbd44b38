import type { LedgerEntry } from '../shared/ledger';
import { mapLimit } from '../shared/pool';
import { targetLabel, type NodeTarget } from '../shared/targets';
import type { TlsProbe } from '../shared/tls-probe';

/** A node's verification: what it reported, what a handshake saw where one could be made, or the problem. */
export interface NodeCheck {
  readonly served?: string;
  readonly via?: 'tls' | 'node report' | 'ssm status';
  readonly problem?: string;
}

/** Handshakes to nodes wait at most this long (a verifier outside the VPC cannot reach them at all). */
const NODE_PROBE_TIMEOUT_MS = 2000;

/** Errors that mean "no route to the node from here", not "the node serves something else". */
function unreachable(message: string): boolean {
  return /timed out|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/.test(message);
}

/**
 * Every rolled-back node must be back on its previous certificate: by its own report (the deploy
 * script's handshake to its local nginx after the rollback, through SSM), and by a TLS handshake
 * to its private address where this function can reach it (SNI = the domain). A node whose command
 * SSM never ran ('was not switched') is proven by SSM's status, and by a handshake where reachable.
 * When the first handshake finds the nodes unreachable (a verifier outside their VPC), the rest
 * rely on their reports, and each result says so (`via`).
 */
export async function verifyNodes(
  entries: readonly LedgerEntry[],
  probe: TlsProbe,
  domain: string,
  concurrency: number,
): Promise<NodeCheck[]> {
  let reachable: boolean | undefined;
  const check = async (entry: LedgerEntry): Promise<NodeCheck> => {
    const node = entry.target as NodeTarget;
    const label = targetLabel(node);
    const notSwitched = entry.note === 'was not switched';
    const reported = entry.reported?.servedSha256;
    if (!notSwitched && reported !== entry.beforeSha256) {
      return { problem: `${label} reports it serves ${reported ?? 'nothing it could say'}, expected the previous ${entry.beforeSha256}` };
    }
    if (!node.host || reachable === false)
      return { served: reported ?? entry.beforeSha256, via: notSwitched ? 'ssm status' : 'node report' };
    try {
      const seen = await probe({ host: node.host, port: 443, servername: domain, timeoutMs: NODE_PROBE_TIMEOUT_MS });
      reachable = true;
      if (seen.sha256 !== entry.beforeSha256)
        return { problem: `${label} serves ${seen.sha256} over TLS, expected the previous ${entry.beforeSha256}` };
      return { served: seen.sha256, via: 'tls' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (reachable !== true && unreachable(message)) {
        reachable = false;
        return { served: reported ?? entry.beforeSha256, via: notSwitched ? 'ssm status' : 'node report' };
      }
      return { problem: `${label}: ${message}` };
    }
  };
  // The first one alone: it tells whether the nodes can be reached from here at all.
  if (entries.length === 0) return [];
  const first = await check(entries[0]);
  const rest = await mapLimit(entries.slice(1), concurrency, check);
  return [first, ...rest];
}
