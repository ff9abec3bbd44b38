import { createInterface } from 'node:readline/promises';

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

/** Decides a gate as the operator would. */
export async function decide(mode: ApproveMode, gateStateName: string, summary: string): Promise<Decision> {
  switch (mode.mode) {
    case 'auto':
      return 'approved';
    case 'reject':
      return gateMatches(gateStateName, mode.gate) ? 'rejected' : 'approved';
    case 'prompt': {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        process.stderr.write(`\n${summary}\n`);
        for (;;) {
          const answer = (await rl.question(`${gateStateName} [approve/reject]: `)).trim().toLowerCase();
          if (answer === 'approve' || answer === 'a' || answer === 'y' || answer === 'yes') return 'approved';
          if (answer === 'reject' || answer === 'r' || answer === 'n' || answer === 'no') return 'rejected';
        }
      } finally {
        rl.close();
      }
    }
  }
}
