// Mocha: TypeScript through tools/register.js (cached JavaScript), and the test files spread over
// two worker processes per core (each file's plans, Prometheus, Fluent Bit and Postgres runs stay
// within its own process; the real-tool tests spend much of their time waiting on those tools, so a
// core runs another file meanwhile; docs/performance.md, "The test suite").
"use strict";
const os = require("node:os");

module.exports = {
  require: ["./tools/register.js"],
  extension: ["ts"],
  timeout: 120000,
  parallel: true,
  jobs: 2 * os.cpus().length,
};
