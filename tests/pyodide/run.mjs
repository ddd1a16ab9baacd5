// Run tests/pyodide/scenario.py under Pyodide in Node, the project's wheel installed offline.
// usage: node run.mjs WHEEL SCENARIO [driver...]  -> the scenario's JSON on stdout
// Applies what pyodide-kernel applies in JupyterLite: an empty fcntl.flock.
import { loadPyodide } from "pyodide";
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createRequire } from "node:module";

const [wheel, scenario, ...drivers] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const indexURL = dirname(require.resolve("pyodide/package.json")) + "/";
const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: (s) => process.stderr.write(s + "\n") });
py.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel");
py.FS.writeFile("/tmp/scenario.py", new Uint8Array(readFileSync(scenario)));
py.globals.set("drivers", py.toPy(drivers.length ? drivers : ["overlay2", "aufs", "vfs"]));
const out = await py.runPythonAsync(`
import fcntl, sys
# pyodide-kernel's mock (JupyterLite): flock exists and does nothing
if not hasattr(fcntl, "flock"):
    fcntl.LOCK_SH, fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN = 1, 2, 4, 8
    fcntl.flock = lambda fd, op: None
sys.path.insert(0, "/tmp")
import scenario, dockerlayers.platform as p
feats = {n: getattr(p, n) for n in ("HAS_FLOCK", "CAN_MKNOD", "HAS_MKFIFO", "HAS_XATTR", "HAS_LINK", "CAN_THREAD", "IS_ROOT")}
sys.stderr.write("pyodide features: %r\\n" % feats)
scenario.main(list(drivers))
`);
process.stdout.write(out + "\n");
