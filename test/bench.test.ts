// The benchmark's command line and its synthetic estates (the numbers themselves are not asserted).
import { strict as assert } from "node:assert";
import { benchOptions, syntheticConfig } from "../tools/bench";
import { buildStackSpec } from "../stacks/spec";

const withoutPrefix = (config: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(config)
      .filter(([key]) => key.startsWith("hubspoke:"))
      .map(([key, value]) => [key.slice("hubspoke:".length), value]),
  );

describe("npm run bench", () => {
  it("takes the spoke counts and a machine-readable output option, and refuses counts it cannot run", () => {
    assert.deepEqual(benchOptions([]), { spokes: [1, 10, 50, 100], json: false });
    assert.deepEqual(benchOptions(["--spokes", "1,10,100,500", "--json"]), {
      spokes: [1, 10, 100, 500],
      json: true,
    });
    assert.throws(() => benchOptions(["--spokes", "10,5"]), /--spokes: expected ascending whole numbers/);
    assert.throws(() => benchOptions(["--spokes", "ten"]), /--spokes/);
    assert.throws(() => benchOptions(["--spoke", "1"]), /Unknown option '--spoke'/);
  });

  it("builds a valid stack config at any fleet size the benchmark runs, 500 spokes included", () => {
    for (const spokes of [1, 300, 500]) {
      const result = buildStackSpec(withoutPrefix(syntheticConfig(spokes)));
      assert.deepEqual("errors" in result ? result.errors : [], [], `${spokes} spokes`);
      assert.equal("spec" in result ? result.spec.spokes.length : 0, spokes);
    }
  });
});
