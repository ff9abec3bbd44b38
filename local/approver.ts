import { userInfo } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { openPage, postDecision, type DecisionForm } from './approval-client';

export type ApproveMode =
  | { readonly mode: 'auto' }
  | { readonly mode: 'prompt' }
  | { readonly mode: 'web' }
  | { readonly mode: 'reject'; readonly gate: string }
  | { readonly mode: 'timeout'; readonly gate: string };

export type Decision = 'approved' | 'rejected';

/** Parses `--approve auto|prompt|web|reject:GATE|timeout:GATE`. */
export function parseApprove(value: string): ApproveMode {
  if (value === 'auto' || value === 'prompt' || value === 'web') return { mode: value };
  const m = /^(reject|timeout):(.+)$/.exec(value);
  if (m) return { mode: m[1] as 'reject' | 'timeout', gate: m[2] };
  throw new Error(`--approve must be auto, prompt, web, reject:GATE or timeout:GATE (got "${value}")`);
}

/** True when `gate` (a state name) is the one `reject:GATE` names: a case-insensitive substring. */
export function gateMatches(stateName: string, gate: string): boolean {
  return stateName.toLowerCase().includes(gate.toLowerCase());
}

/**
 * The gate `timeout:GATE` lets time out: the one whose gate name (`start`, `canary`, `edge`,
 * `nodesBeta`...) is GATE, else the first whose state name contains GATE (as `reject:GATE`). So
 * `timeout:edge` is Approval 3 (the gate named `edge`), not Approval 2 ("canary edge").
 */
export function timeoutGateOf(
  gates: ReadonlyArray<{ readonly gate: string; readonly stateName: string }>,
  wanted: string,
): string | undefined {
  const exact = gates.find((g) => g.gate.toLowerCase() === wanted.toLowerCase());
  return (exact ?? gates.find((g) => gateMatches(g.stateName, wanted)))?.stateName;
}

/** A gate waiting for a decision: its state name, the link of its email, and the email itself. */
export interface GateRequest {
  readonly stateName: string;
  readonly link: string;
  readonly email: string;
}

/**
 * Answers a gate the way an operator does: through the approval page (GET the link, then POST
 * the form). `decide` returns once the page has the answer, or (web) once the link is shown;
 * the rehearsal then waits for the task to end.
 */
export interface Approver {
  decide(gate: GateRequest): Promise<void>;
  close(): void;
}

/** Reads answers line by line from one readline interface for the whole rehearsal (piped input works). */
class TerminalLines {
  private rl: Interface | undefined;
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;

  next(): Promise<string | undefined> {
    if (!this.rl) {
      this.rl = createInterface({ input: process.stdin, terminal: false });
      this.rl.on('line', (line) => {
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = undefined;
          w(line);
        } else this.lines.push(line);
      });
      this.rl.on('close', () => {
        this.ended = true;
        this.waiting?.(undefined);
        this.waiting = undefined;
      });
    }
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    this.rl?.close();
  }
}

/** Asks approve/reject in the terminal; a closed input rejects. */
export async function askDecision(lines: TerminalLines, question: string): Promise<'approve' | 'reject'> {
  for (;;) {
    process.stderr.write(`${question} [approve/reject]: `);
    const line = await lines.next();
    if (line === undefined) {
      process.stderr.write('\nno answer (input closed): rejecting\n');
      return 'reject';
    }
    const answer = line.trim().toLowerCase();
    if (['approve', 'a', 'y', 'yes'].includes(answer)) return 'approve';
    if (['reject', 'r', 'n', 'no'].includes(answer)) return 'reject';
  }
}

/** GET, then POST: the page must show the gate (200), and take the decision (200). */
async function decideOnPage(link: string, form: DecisionForm): Promise<string> {
  const shown = await openPage(link);
  if (shown.status !== 200) throw new Error(`the approval page answered ${shown.status} to GET: ${shown.text.split('\n')[0]}`);
  const answered = await postDecision(link, form);
  if (answered.status !== 200) throw new Error(`the approval page refused the decision (${answered.status}): ${answered.text}`);
  return answered.text;
}

/**
 * Decides gates as the operator would: automatically, by rule, by asking in the terminal, or in a
 * browser (web). `timeout:GATE`: approves every gate before `timeoutGate` (the state name
 * {@link timeoutGateOf} picked) and never answers that one, so the engine's own TimeoutSeconds
 * of that callback task ends it.
 */
export function createApprover(
  mode: ApproveMode,
  options: { readonly announce: (line: string) => void; readonly timeoutGate?: string },
): Approver {
  if (mode.mode === 'web') {
    return {
      decide: (gate) => {
        options.announce(`approval needed: ${gate.stateName}\n  open this link to decide: ${gate.link}`);
        return Promise.resolve();
      },
      close: () => undefined,
    };
  }
  if (mode.mode === 'prompt') {
    const lines = new TerminalLines();
    return {
      decide: async (gate) => {
        process.stderr.write(`\n${gate.email}\n\n`);
        const decision = await askDecision(lines, gate.stateName);
        const text = await decideOnPage(gate.link, {
          decision,
          name: userInfo().username || 'operator',
          comment: 'decided in the terminal (--approve prompt)',
        });
        process.stderr.write(`${text}\n`);
      },
      close: () => lines.close(),
    };
  }
  return {
    decide: async (gate) => {
      if (mode.mode === 'timeout' && gate.stateName === options.timeoutGate) {
        // As an operator who never reads the email: no GET, no POST; the gate's timeout decides.
        options.announce(`  not answering "${gate.stateName}" (--approve timeout:${mode.gate}): it times out`);
        return;
      }
      const reject = mode.mode === 'reject' && gateMatches(gate.stateName, mode.gate);
      await decideOnPage(gate.link, {
        decision: reject ? 'reject' : 'approve',
        name: 'rehearsal',
        comment: `--approve ${mode.mode === 'reject' || mode.mode === 'timeout' ? `${mode.mode}:${mode.gate}` : mode.mode}`,
      });
    },
    close: () => undefined,
  };
}
