// `npm run test:chaos`: the slow fault-injection runs (Redis outages, SIGKILL during a large replace, switchover, WebSocket consumers under churn).
// Spec files named on the command line (`npm test -- test/a.test.ts`, `npx mocha test/a.test.ts`) run alone: mocha
// adds them to `spec` below rather than replacing it, so the default set is given only when none is named.
const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg));

module.exports = {
  'node-option': ['import=tsx'],
  // The tests spawn bin/icwatch.js, which runs dist/ only: build it first when a source changed since the last build.
  require: ['test/helpers/current-dist.ts'],
  spec: named ? [] : ['test/chaos/**/*.slow.test.ts'],
  timeout: 180000,
  exit: true,
};
