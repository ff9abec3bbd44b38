export * from './context';
export * from './gate';
export * from './gate-phase';
export * from './names';
export * from './payload';
export * from './phase';
export * from './retry';
export * from './task';
