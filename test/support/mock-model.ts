// The scripted Responses-API model lives in the product (the demo uses it); tests use it here.
export * from '../../src/scripted-model/server.js';
export * from '../../src/scripted-model/review.js';
