// Stack-trace capture: off while the program registers resources (stacks/stack-traces.ts), with
// what Pulumi and the user still need intact, and the evaluating process's own setting restored.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { evaluateStack } from "../tools/mock-engine";
import { limitStackTraces, STACK_TRACES_ENV } from "../stacks/stack-traces";
import { shippedStackFile } from "./support/stacks";

describe("stack traces during registration", () => {
  let saved: number;
  beforeEach(() => (saved = Error.stackTraceLimit));
  afterEach(() => (Error.stackTraceLimit = saved));

  it("are off unless HUBSPOKE_STACK_TRACES asks to keep them", () => {
    Error.stackTraceLimit = 10;
    limitStackTraces({ [STACK_TRACES_ENV]: "1" });
    assert.equal(Error.stackTraceLimit, 10);
    for (const env of [{}, { [STACK_TRACES_ENV]: "" }, { [STACK_TRACES_ENV]: "0" }]) {
      Error.stackTraceLimit = 10;
      limitStackTraces(env);
      assert.equal(Error.stackTraceLimit, 0, JSON.stringify(env));
    }
  });

  it("are off while the program registers, and the evaluating process gets its own limit back", async () => {
    Error.stackTraceLimit = 10;
    const during = new Set<number>();
    const { config, secretKeys } = shippedStackFile("dev");
    const evaluation = await evaluateStack({
      stack: "dev",
      config,
      secretKeys,
      computed: () => {
        during.add(Error.stackTraceLimit);
        return undefined;
      },
    });
    assert.ok(evaluation.resources.length > 100);
    assert.deepEqual([...during], [0]);
    assert.equal(Error.stackTraceLimit, 10);
  });

  it("keep what Pulumi reads from the stack: the SDK still finds the caller's source position", () => {
    Error.stackTraceLimit = 0;
    const callsites = (pulumi.Resource as unknown as { callsites(): { file?: string }[] }).callsites();
    assert.ok(
      callsites.some((site) => site.file?.endsWith("stack-traces.test.ts")),
      JSON.stringify(callsites.slice(0, 3)),
    );
    assert.equal(Error.stackTraceLimit, 0, "callsites() puts the limit back");
  });

  it("keep error messages whole: a config error names the key with the limit at 0", async () => {
    const { config, secretKeys } = shippedStackFile("dev");
    const broken = { ...structuredClone(config), "hubspoke:conversion": { phase: -1 } };
    await assert.rejects(evaluateStack({ stack: "dev", config: broken, secretKeys }), (err: Error) => {
      assert.match(err.message, /conversion\.phase: must be 0 or more/);
      return true;
    });
  });
});
