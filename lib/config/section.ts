/**
 * A section of the config: the top-level keys of the `certRotation` block it owns, and how it
 * validates them and fills in their defaults. reader.ts runs every section, in order, into one
 * problem collector; a key no section owns is an unknown field.
 *
 * Adding a section: its types in types.ts, one file in sections/ exporting a `defineSection(...)`,
 * and one entry (with its import) in reader.ts's SECTIONS. Typecheck fails while a field of
 * ResolvedConfig has no section.
 */
import type { JsonObject, Problems } from '../problems';
import type { ResolvedConfig } from './types';

export interface ConfigSection<K extends keyof ResolvedConfig> {
  /** The top-level keys it reads, which are also the keys of ResolvedConfig it fills in. */
  readonly keys: readonly K[];
  /**
   * Validates its keys of `raw` (the whole block), recording each problem in `p`; returns its part
   * of the resolved config, or undefined when a required part is missing or bad.
   */
  resolve(raw: JsonObject, p: Problems): Pick<ResolvedConfig, K> | undefined;
}

/** Declares a section (and infers its keys). */
export function defineSection<K extends keyof ResolvedConfig>(section: ConfigSection<K>): ConfigSection<K> {
  return section;
}
