export * from './config-check';
export * from './migration-gate';
export * from './scheduled-batch-job';
