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

/**
 * Memoises a handler's dependencies (env + SDK clients), built on the first invocation and then
 * reused by the warm container. Building is synchronous so that a whole init reads one environment.
 */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
