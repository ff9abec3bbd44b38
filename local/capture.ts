/** What was written to stdout or stderr while the rehearsal ran. */
export interface CapturedWrite {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/**
 * Captures what is written to stdout and stderr while the rehearsal runs, for the secret scan:
 * handlers log there (Powertools info/debug to stdout, warn/error to stderr; console.* and
 * process.*.write too). Stdout (the handlers' JSON logs) is kept out of the terminal as before;
 * stderr still reaches it (the progress lines, and handler errors an operator needs to see).
 */
export function captureOutput(): { writes: CapturedWrite[]; restore: () => void } {
  const writes: CapturedWrite[] = [];
  const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
  // Restored exactly as found: an own property (a test's spy) put back, else the prototype's method.
  const saved = (stream: NodeJS.WriteStream) => {
    const own = Object.getOwnPropertyDescriptor(stream, 'write');
    return () => {
      if (own) Object.defineProperty(stream, 'write', own);
      else delete (stream as { write?: unknown }).write;
    };
  };
  const restoreOut = saved(process.stdout);
  const restoreErr = saved(process.stderr);
  const passErr = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  process.stdout.write = (chunk: unknown, ...rest: unknown[]) => {
    writes.push({ stream: 'stdout', text: text(chunk) });
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  };
  process.stderr.write = (chunk: unknown, ...rest: unknown[]) => {
    writes.push({ stream: 'stderr', text: text(chunk) });
    return passErr(chunk, ...rest);
  };
  return {
    writes,
    restore: () => {
      restoreOut();
      restoreErr();
    },
  };
}
