// docs/security.md stays true to the pack: the exemptions table is exemptionsMarkdown() and every
// rule is listed with its level.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { exemptionsMarkdown, rules, stackRules } from "../../policy/engine";

const securityDoc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "security.md"), "utf8");

describe("docs/security.md", () => {
  it("carries the exemptions table exactly as policy/exemptions.ts generates it", () => {
    const match = /<!-- exemptions:begin -->\n([\s\S]*?)\n<!-- exemptions:end -->/.exec(securityDoc);
    assert.ok(match, "exemption markers missing");
    assert.equal(match[1], exemptionsMarkdown());
  });

  it("lists every rule of the pack with its enforcement level", () => {
    for (const rule of [...rules, ...stackRules]) {
      assert.match(securityDoc, new RegExp(`\\| \`${rule.name}\` +\\| ${rule.level} +\\|`), rule.name);
    }
  });
});
