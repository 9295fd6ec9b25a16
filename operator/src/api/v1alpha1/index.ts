// cairn.dev/v1alpha1: the operator's API.
export * from './kvcluster.js';
export * from './defaults.js';
export * from './crd.js';
