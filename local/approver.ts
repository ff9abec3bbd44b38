import { createInterface, type Interface } from 'node:readline';

export type ApproveMode = { readonly mode: 'auto' } | { readonly mode: 'prompt' } | { readonly mode: 'reject'; readonly gate: string };

export type Decision = 'approved' | 'rejected';

/** Parses `--approve auto|prompt|web|reject:GATE`. */
export function parseApprove(value: string): ApproveMode | { readonly mode: 'web' } {
  if (value === 'auto' || value === 'prompt' || value === 'web') return { mode: value };
  const m = /^reject:(.+)$/.exec(value);
  if (m) return { mode: 'reject', gate: m[1] };
  throw new Error(`--approve must be auto, prompt, web or reject:GATE (got "${value}")`);
}

/** True when `gate` (a state name) is the one `reject:GATE` names: a case-insensitive substring. */
export function gateMatches(stateName: string, gate: string): boolean {
  return stateName.toLowerCase().includes(gate.toLowerCase());
}

export interface Approver {
  decide(gateStateName: string, summary: string): Promise<Decision>;
  close(): void;
}

/** Reads answers line by line from one readline interface for the whole rehearsal (piped input works). */
class TerminalApprover implements Approver {
  private rl: Interface | undefined;
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;

  private nextLine(): Promise<string | undefined> {
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

  async decide(gateStateName: string, summary: string): Promise<Decision> {
    process.stderr.write(`\n${summary}\n`);
    for (;;) {
      process.stderr.write(`${gateStateName} [approve/reject]: `);
      const line = await this.nextLine();
      if (line === undefined) {
        process.stderr.write('\nno answer (input closed): rejecting\n');
        return 'rejected';
      }
      const answer = line.trim().toLowerCase();
      if (['approve', 'a', 'y', 'yes'].includes(answer)) return 'approved';
      if (['reject', 'r', 'n', 'no'].includes(answer)) return 'rejected';
    }
  }

  close(): void {
    this.rl?.close();
  }
}

/** Decides gates as the operator would: automatically, by rule, or by asking in the terminal. */
export function createApprover(mode: ApproveMode): Approver {
  if (mode.mode === 'prompt') return new TerminalApprover();
  return {
    decide: (gateStateName) => Promise.resolve(mode.mode === 'reject' && gateMatches(gateStateName, mode.gate) ? 'rejected' : 'approved'),
    close: () => undefined,
  };
}
