// Stack-trace capture during registration. The Pulumi SDK formats a stack for every Output and
// resource promise it creates (`debuggablePromise` in @pulumi/pulumi runtime/debuggable.js reads
// `new Error().stack` eagerly, and under ts-node every frame is source-mapped): measured in
// docs/performance.md, it roughly halves plan time and cuts a third of the memory to skip it.
// What still works with the limit at 0: the SDK's source positions of resources
// (`Resource.callsites()` raises the limit itself while it reads them), every error message (the
// program's config errors never print a stack anyway). What is lost: the frames of an unexpected
// exception and of the SDK's promise-leak report. HUBSPOKE_STACK_TRACES=1 keeps Node's default.

/** The environment variable that keeps stack traces, for debugging the program itself. */
export const STACK_TRACES_ENV = "HUBSPOKE_STACK_TRACES";

/** Turns stack-trace capture off for this process unless HUBSPOKE_STACK_TRACES is set. */
export function limitStackTraces(env: NodeJS.ProcessEnv = process.env): void {
  const keep = env[STACK_TRACES_ENV];
  if (keep === undefined || keep === "" || keep === "0") Error.stackTraceLimit = 0;
}
