/**
 * A real nginx on 127.0.0.1 in its own prefix (the deploy script's integration tests and the
 * rehearsal's nginx nodes). It lives in local/sim/nginx-process.ts, so that the simulated account
 * reaches nothing outside local/sim (it stays an oracle); this module keeps the old import path.
 */
export * from './sim/nginx-process';
