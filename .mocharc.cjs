// `npm test`: everything but the slow fault-injection runs (test/chaos/*.slow.test.ts: npm run test:chaos).
module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/**/*.test.ts'],
  ignore: ['test/**/*.slow.test.ts'],
  timeout: 30000,
  exit: true,
};
