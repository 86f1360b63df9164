export * from './messages/index.js';
export * from './store/index.js';
