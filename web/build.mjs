// Builds the staff console into the folder given as the only argument:
// index.html and app.css copied from src/, app.js bundled by esbuild (every
// import from node_modules, the world map included, so nothing is fetched
// from elsewhere at run time), and licenses.txt with the licence of every
// package in the bundle.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
if (!out) {
  console.error("usage: node build.mjs OUT_DIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const result = await esbuild.build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outfile: join(out, "app.js"),
  legalComments: "none",  // the licences are in licenses.txt instead
  metafile: true,
  logLevel: "warning",
});
copyFileSync("src/index.html", join(out, "index.html"));
copyFileSync("src/app.css", join(out, "app.css"));

const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}
let licenses = "The staff console bundles these npm packages:\n";
for (const name of [...packages].sort()) {
  const meta = JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8"));
  let text = "";
  for (const file of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"]) {
    try {
      text = readFileSync(join("node_modules", name, file), "utf8");
      break;
    } catch {}
  }
  licenses += `\n==== ${name} ${meta.version} (${meta.license}) ====\n${text}\n`;
}
writeFileSync(join(out, "licenses.txt"), licenses);
