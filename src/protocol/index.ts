export * from './wire.js';
export * from './common.js';
export * from './client-requests.js';
export * from './server-requests.js';
export * from './notifications.js';
export * from './version.js';
