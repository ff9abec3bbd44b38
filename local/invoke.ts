/** What a handler module exports. */
type HandlerModule = { handler: (event: unknown) => Promise<unknown> };

const modules = new Map<string, HandlerModule>();

function load(entry: string): HandlerModule {
  let mod = modules.get(entry);
  if (!mod) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- handlers are loaded by path, as Lambda does
    mod = require(entry) as HandlerModule;
    modules.set(entry, mod);
  }
  return mod;
}

/**
 * Invokes a real handler in-process with its function's environment, as Lambda would. Handlers
 * read their environment synchronously on the first call (before any await), so the variables
 * are set only for the synchronous part of the call and restored right after.
 */
export async function invokeHandler(entry: string, environment: Readonly<Record<string, string>>, event: unknown): Promise<unknown> {
  const mod = load(entry);
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(environment)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  let pending: Promise<unknown>;
  try {
    // Lambda hands the handler a JSON copy of the payload.
    pending = mod.handler(JSON.parse(JSON.stringify(event ?? null)));
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const result = await pending;
  // ...and returns a JSON copy of the result.
  return result === undefined ? null : JSON.parse(JSON.stringify(result));
}
