export * from './context';
export * from './gate';
export * from './names';
export * from './payload';
export * from './phase';
export * from './retry';
export * from './task';
