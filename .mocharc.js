// Mocha: TypeScript through tools/register.js (cached JavaScript), and the test files spread over
// one worker process per core, at least two (each file's plans, Prometheus, Fluent Bit and Postgres
// runs stay within its own process; docs/performance.md, "The test suite").
"use strict";
const os = require("node:os");

module.exports = {
  require: ["./tools/register.js"],
  extension: ["ts"],
  timeout: 120000,
  parallel: true,
  jobs: Math.max(2, os.cpus().length),
};
