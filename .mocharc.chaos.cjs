module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/chaos/**/*.test.ts'],
  timeout: 180000,
  exit: true,
};
