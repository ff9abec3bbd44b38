/** The rehearsal's secret scan: every document the rehearsal produced, searched for keys and task tokens. */
import type { CapturedWrite } from './capture';
import { scanForKeys, scanForTaskTokens, withTaskTokenFindings, type ScanDocument, type SecretScanResult } from './secret-scan';
import type { SimulatedAccount } from './sim';
import type { SynthesizedWorkflow } from './template';

export interface RehearsalScanParams {
  /** The execution history (engine events, the error, the output), one JSON text each. */
  readonly history: readonly string[];
  /** Handler stdout and stderr. */
  readonly captured: { readonly writes: readonly CapturedWrite[] };
  readonly workflow: SynthesizedWorkflow;
  readonly sim: SimulatedAccount;
  /** The report so far (the scan's own result aside). */
  readonly report: unknown;
  /** Private keys (PEM) that must appear nowhere. */
  readonly keys: readonly string[];
  /** An automatic source's own secrets: keys (PEM) and other secrets (the EAB HMAC). */
  readonly extra: { readonly keys: readonly string[]; readonly raw: readonly string[] };
  /** Task tokens handed to gates: they belong in the approval store only. */
  readonly issuedTokens: readonly string[];
}

/** Scans everything; `places` and `searched` are counted from the documents read. */
export function scanRehearsal(p: RehearsalScanParams): SecretScanResult {
  const docs: ScanDocument[] = [
    ...p.history.map((text, i) => ({ place: 'execution history' as const, name: `event ${i}`, text })),
    ...p.captured.writes.map((w, i) => ({ place: 'logs' as const, name: `${w.stream} write ${i}`, text: w.text })),
    ...[...p.workflow.functions].map(([arn, fn]) => ({
      place: 'lambda environments' as const,
      name: `${arn} (${fn.handler})`,
      text: JSON.stringify(fn.environment),
    })),
    ...p.sim.recorded().map((r) => ({ place: r.place, name: r.name, text: r.text })),
    { place: 'report', name: 'report', text: JSON.stringify(p.report) },
  ];
  const keys = scanForKeys(docs, [...p.keys, ...p.extra.keys], p.extra.raw);
  // Task tokens belong in the approval store only: anywhere else is a finding too.
  return withTaskTokenFindings(keys, scanForTaskTokens(docs, p.issuedTokens));
}
