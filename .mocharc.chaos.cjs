// `npm run test:chaos`: the slow fault-injection runs (Redis outages, SIGKILL during a large replace, switchover, WebSocket consumers under churn).
module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/chaos/**/*.slow.test.ts'],
  timeout: 180000,
  exit: true,
};
