// One line per feature area; each area's index.ts re-exports its public constructs.
export * from './common';
export * from './eks';
export * from './ecs';
export * from './nag';
export * from './panopticon';
