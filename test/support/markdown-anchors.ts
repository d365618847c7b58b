// The anchors GitHub gives the headings of a Markdown file, so tests can check that a link such as
// a Prometheus alert's runbook_url resolves. GitHub's algorithm (github-slugger, used by GitHub's
// renderer): take the heading's text, lower-case it, drop every character that is not a letter,
// mark, number, connector punctuation ("_"), space or "-", turn each space into "-"; a slug met
// again gets "-1", "-2"... Implemented here in a few lines rather than adding a dependency for it;
// test/markdown-anchors.test.ts pins it against headings whose GitHub anchors are known.
import * as fs from "node:fs";

/** GitHub's slug of a heading's text (without the duplicate suffix). */
export function githubSlug(headingText: string): string {
  return headingText
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The rendered text of a heading: link targets and images dropped, the rest as written. */
function headingText(markdown: string): string {
  return markdown
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim();
}

/** Every anchor of a Markdown document's ATX headings (`#`..`######`), outside fenced code. */
export function githubAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const fenceMatch = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      if (fence === undefined) fence = fenceMatch[1][0];
      else if (fenceMatch[1][0] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!heading) continue;
    const slug = githubSlug(headingText(heading[1]));
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

export function githubAnchorsOfFile(file: string): Set<string> {
  return githubAnchors(fs.readFileSync(file, "utf8"));
}
