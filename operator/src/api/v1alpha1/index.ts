// cairn.dev/v1alpha1: the operator's API.
export * from './kvcluster.js';
export * from './defaults.js';
export * from './crd.js';
export * from './object-store.js';
export * from './kvbackup.js';
export * from './kvbackupschedule.js';
export * from './kvrestore.js';
export * from './maintenance.js';
