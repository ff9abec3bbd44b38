/** Reads a required environment variable; fails loudly (at the first invocation) when it is missing. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`environment variable ${name} is not set (it is set by the CDK stack)`);
  }
  return value;
}

/** Reads a required environment variable holding JSON. */
export function requireJsonEnv<T>(name: string): T {
  const raw = requireEnv(name);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new Error(`environment variable ${name} is not valid JSON`);
  }
}

/** Reads an optional environment variable. */
export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

const resets = new Set<() => void>();

/**
 * Forgets every memoised dependency: the next invocation of each handler starts cold and reads
 * its environment again. The local rehearsal calls this at the start of each run (a new run is
 * a new set of Lambda containers); Lambda itself never needs it.
 */
export function coldStartAll(): void {
  for (const reset of resets) reset();
}

/**
 * Memoises a handler's dependencies (env + SDK clients), built on the first invocation and then
 * reused by the warm container. Building is synchronous so that a whole init reads one environment.
 */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  resets.add(() => {
    value = undefined;
    built = false;
  });
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
