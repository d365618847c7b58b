// Byte-for-byte comparison with files under test/golden/observability; UPDATE_GOLDEN=1 rewrites
// them (review the diff by eye before committing).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

export const GOLDEN_DIR = path.resolve(__dirname, "../../golden/observability");

export function assertMatchesGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    fs.mkdirSync(GOLDEN_DIR, { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) {
    assert.fail(
      `golden file ${file} is missing: run UPDATE_GOLDEN=1 npx mocha 'test/observability/**/*.test.ts' and review it`,
    );
  }
  const expected = fs.readFileSync(file, "utf8");
  assert.equal(
    actual,
    expected,
    `output differs from golden ${name}; if intended, rerun with UPDATE_GOLDEN=1 and review the diff`,
  );
}
