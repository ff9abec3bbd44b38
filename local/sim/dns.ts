/**
 * Names of the simulated account: which simulated host name and port reach which TLS endpoint
 * (`elb/NAME/PORT`...), CNAME-like aliases (`irc.gitter.im` -> the canary ELB's DNS name), and TXT
 * records (for ACME DNS-01 later). The patched `tls.connect` resolves through here, so this is the
 * one place a name becomes an endpoint.
 *
 * Kept as records (endpoint, alias, TXT) so that a simulated Route53 can later own them: its
 * ChangeResourceRecordSets would call {@link SimDns.setAlias} / {@link SimDns.setTxt}, its
 * ListResourceRecordSets read {@link SimDns.records}.
 */

/** Where a name and port resolve to. */
export type DnsResolution =
  | { readonly kind: 'endpoint'; readonly key: string }
  | { readonly kind: 'refused' } // the name exists, nothing listens on that port
  | { readonly kind: 'unknown' }; // no such name

/** One record, as {@link SimDns.records} lists them. */
export type DnsRecord =
  | { readonly type: 'endpoint'; readonly name: string; readonly port: number; readonly key: string }
  | { readonly type: 'CNAME'; readonly name: string; readonly target: string }
  | { readonly type: 'TXT'; readonly name: string; readonly values: readonly string[] };

/** How many aliases a lookup follows. */
const MAX_ALIAS_HOPS = 10;

/** A host name as DNS compares it: lower case, no trailing dot. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

/** The simulated names. */
export class SimDns {
  private readonly endpoints = new Map<string, Map<number, string>>();
  private readonly aliases = new Map<string, string>();
  private readonly txt = new Map<string, string[]>();

  /** Makes `hosts` on `port` reach endpoint `key`. Two endpoints on one name and port are a bug of the caller. */
  addEndpoint(hosts: readonly string[], port: number, key: string): void {
    for (const h of hosts) {
      const name = normalizeHost(h);
      let ports = this.endpoints.get(name);
      if (!ports) this.endpoints.set(name, (ports = new Map<number, string>()));
      if (ports.has(port)) throw new Error(`internal: two simulated endpoints on ${name}:${port}`);
      ports.set(port, key);
    }
  }

  /** Whether a name is simulated (an endpoint's name or an alias). */
  has(host: string): boolean {
    const name = normalizeHost(host);
    return this.endpoints.has(name) || this.aliases.has(name);
  }

  /** Adds a CNAME-like name `from` -> `to` (an endpoint's name or another alias). Chains are followed. */
  setAlias(from: string, to: string): void {
    const f = normalizeHost(from);
    const t = normalizeHost(to);
    if (this.endpoints.has(f)) throw new Error(`addDnsAlias: ${f} is already a simulated name`);
    if (!this.has(t)) throw new Error(`addDnsAlias: ${t} is not a simulated name`);
    this.aliases.set(f, t);
  }

  /** Resolves a name and port, following aliases. */
  resolve(host: string, port: number): DnsResolution {
    let name = normalizeHost(host);
    for (let hops = 0; hops < MAX_ALIAS_HOPS && this.aliases.has(name); hops++) name = this.aliases.get(name)!;
    const ports = this.endpoints.get(name);
    if (!ports) return { kind: 'unknown' };
    const key = ports.get(port);
    return key ? { kind: 'endpoint', key } : { kind: 'refused' };
  }

  /** Replaces the TXT values of a name (an empty list deletes them). */
  setTxt(name: string, values: readonly string[]): void {
    const n = normalizeHost(name);
    if (values.length === 0) this.txt.delete(n);
    else this.txt.set(n, [...values]);
  }

  /** The TXT values of a name (none: []). Aliases are not followed, as for a TXT query of the alias itself. */
  getTxt(name: string): string[] {
    return [...(this.txt.get(normalizeHost(name)) ?? [])];
  }

  /** Every record: endpoints, aliases, TXT. */
  records(): DnsRecord[] {
    const out: DnsRecord[] = [];
    for (const [name, ports] of this.endpoints) for (const [port, key] of ports) out.push({ type: 'endpoint', name, port, key });
    for (const [name, target] of this.aliases) out.push({ type: 'CNAME', name, target });
    for (const [name, values] of this.txt) out.push({ type: 'TXT', name, values: [...values] });
    return out;
  }
}
