// Pure builders of the objects a KVCluster owns.
export * from './names.js';
export * from './owner.js';
export * from './services.js';
export * from './pdb.js';
export * from './bootstrap-config.js';
export * from './server-flags.js';
export * from './statefulset.js';
export * from './backup-job.js';
export * from './restore-step.js';
export * from './restore-job.js';
export * from './maintenance-jobs.js';
