// `npm test`: the quick suite. Slow fault-injection runs live in test/chaos (npm run test:chaos).
module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/**/*.test.ts'],
  ignore: ['test/chaos/**'],
  timeout: 30000,
  exit: true,
};
