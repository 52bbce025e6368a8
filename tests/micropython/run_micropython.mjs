// Usage: node run_micropython.mjs REPO_ROOT SCRIPT.py
// Loads MicroPython 1.27 (WebAssembly), copies protocols/ and meter_sim/firmware/ into its
// filesystem, runs SCRIPT and prints its output. Exits 1 on a Python exception.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const [root, script] = process.argv.slice(2);
let failed = false;
const mp = await loadMicroPython({
  stdout: (s) => process.stdout.write(s + "\n"),
  stderr: (s) => { process.stderr.write(s + "\n"); },
});

function copyTree(rel) {
  const src = join(root, rel);
  mp.FS.mkdirTree("/lib/" + rel);
  for (const name of readdirSync(src)) {
    const path = join(src, name);
    if (statSync(path).isDirectory()) {
      if (name !== "__pycache__") copyTree(rel + "/" + name);
    } else if (name.endsWith(".py")) {
      mp.FS.writeFile("/lib/" + rel + "/" + name, readFileSync(path, "utf8"));
    }
  }
}
copyTree("protocols");
copyTree("meter_sim/firmware");
mp.FS.writeFile("/lib/meter_sim/__init__.py", readFileSync(join(root, "meter_sim/__init__.py"), "utf8"));
try {
  mp.runPython("import sys\nsys.path.insert(0, '/lib')\n");
  mp.runPython(readFileSync(script, "utf8"));
} catch (e) {
  process.stderr.write(String(e) + "\n");
  failed = true;
}
process.exit(failed ? 1 : 0);
