import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { githubAnchors, githubAnchorsOfFile, githubSlug } from "./support/markdown-anchors";

const DOCS = path.join(__dirname, "..", "docs");

describe("GitHub heading anchors", () => {
  it("slugs headings as GitHub does", () => {
    // Anchors as github.com renders them for these headings.
    const known: Array<[string, string]> = [
      ["Reading Conjur's logs", "reading-conjurs-logs"],
      ["6. Enforce, tenant by tenant", "6-enforce-tenant-by-tenant"],
      ["Seed fetch: 401 or 403", "seed-fetch-401-or-403"],
      ["Seed fetch (enterprise, appliance followers)", "seed-fetch-enterprise-appliance-followers"],
      ["`runbook_url` and the alerts", "runbook_url-and-the-alerts"],
      ["SpokeFederationDown", "spokefederationdown"],
      ["Über -- café", "über----café"],
    ];
    for (const [heading, anchor] of known) assert.equal(githubSlug(heading), anchor, heading);
  });

  it("numbers repeated headings and ignores fenced code and link targets", () => {
    const doc = [
      "# Alerts",
      "```sh",
      "# not a heading",
      "```",
      "## Alerts",
      "### See [the guide](other.md#x) ###",
    ].join("\n");
    assert.deepEqual([...githubAnchors(doc)], ["alerts", "alerts-1", "see-the-guide"]);
  });

  it("resolves every relative link of the troubleshooting guide to a heading", () => {
    const guide = fs.readFileSync(path.join(DOCS, "troubleshooting.md"), "utf8");
    const links = [...guide.matchAll(/\]\(([a-z-]*\.md)?#([^)\s]+)\)/g)];
    assert.ok(links.length > 10, "the guide links its own sections and the other docs");
    for (const [link, file, anchor] of links) {
      const anchors = githubAnchorsOfFile(path.join(DOCS, file ?? "troubleshooting.md"));
      assert.ok(anchors.has(anchor), `${link}: no heading #${anchor} in ${file ?? "troubleshooting.md"}`);
    }
  });
});
