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

  it("takes a fleet as shards, alone or beside the one-stack sizes, and refuses a shard larger than the fleet", () => {
    assert.deepEqual(benchOptions(["--shards", "1000:250"]), {
      spokes: [],
      shards: { fleet: 1000, perShard: 250 },
      json: false,
    });
    assert.deepEqual(benchOptions(["--spokes", "1,10", "--shards", "20:10"]).spokes, [1, 10]);
    for (const bad of ["1000", "250:1000", "0:0", "a:b"])
      assert.throws(() => benchOptions(["--shards", bad]), /--shards: expected <fleet>:<spokes per shard>/);
  });

  it("builds a valid hub stack and valid shards of a 1,000-spoke fleet, each spoke in one shard only", () => {
    const hub = buildStackSpec(
      withoutPrefix(syntheticConfig(0, { first: 1, layout: { role: "hub", spokeCidrs: ["10.0.0.0/8"] } })),
    );
    assert.deepEqual("errors" in hub ? hub.errors : [], []);
    const names = new Set<string>();
    for (let first = 1; first <= 1000; first += 250) {
      const shard = buildStackSpec(
        withoutPrefix(
          syntheticConfig(250, { first, layout: { role: "shard", hubStack: "bench/hubspoke/bench-hub" } }),
        ),
      );
      assert.deepEqual("errors" in shard ? shard.errors : [], [], `shard from ${first}`);
      for (const spoke of "spec" in shard ? shard.spec.spokes : []) names.add(spoke.name);
    }
    assert.equal(names.size, 1000);
  });

  it("builds a valid stack config at any fleet size the benchmark runs, 500 spokes included", () => {
    for (const spokes of [1, 300, 500]) {
      const result = buildStackSpec(withoutPrefix(syntheticConfig(spokes)));
      assert.deepEqual("errors" in result ? result.errors : [], [], `${spokes} spokes`);
      assert.equal("spec" in result ? result.spec.spokes.length : 0, spokes);
    }
  });
});
