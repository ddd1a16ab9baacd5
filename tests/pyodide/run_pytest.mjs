// Run the project's pytest suite under Pyodide in Node, as JupyterLite's kernel would see it.
// usage: node run_pytest.mjs WHEELS CHECKOUT [pytest args...]   -> exits with pytest's status
//   WHEELS: a folder of wheels to install (the project's, pytest, hypothesis and their pure-Python
//           dependencies, and pyodide-kernel's own wheel, whose mocks are applied), all local;
//   CHECKOUT: the checkout whose tests/ and pyproject.toml are copied into Pyodide's file system
//           (the library itself comes from the wheel, not from the checkout).
// The Node process makes no network request: fetch is refused before Pyodide loads, so an
// attempt to load a package from a CDN fails loudly instead of reaching out.
import { loadPyodide } from "pyodide";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";

const [wheels, checkout, ...pytestArgs] = process.argv.slice(2);
if (!wheels || !checkout) {
  process.stderr.write("usage: node run_pytest.mjs WHEELS CHECKOUT [pytest args...]\n");
  process.exit(2);
}

globalThis.fetch = async (url) => {
  throw new Error(`run_pytest.mjs: network refused (${url})`);
};

const require = createRequire(import.meta.url);
const indexURL = dirname(require.resolve("pyodide/package.json")) + "/";
const py = await loadPyodide({ indexURL });
// raw writes (pytest's progress dots are not lines)
const raw = (stream) => ({ write: (buf) => (stream.write(buf), buf.length) });
py.setStdout(raw(process.stdout));
py.setStderr(raw(process.stderr));

// into site-packages (unpackArchive's default is the working directory)
const extractDir = py.runPython("import site; site.getsitepackages()[0]");
for (const name of readdirSync(wheels).sort()) {
  if (name.endsWith(".whl")) {
    py.unpackArchive(new Uint8Array(readFileSync(join(wheels, name))), "wheel", { extractDir });
  }
}

// tests/, benchmarks/ (some tests import its measures) and pyproject.toml (pytest's configuration: markers, pythonpath) into MEMFS
const ROOT = "/checkout";
const SKIP = new Set(["node_modules", "__pycache__", ".hypothesis", ".pytest_cache"]);
function copyTree(src, dst) {
  py.FS.mkdirTree(dst);
  for (const name of readdirSync(src)) {
    if (SKIP.has(name)) continue;
    const s = join(src, name);
    const st = statSync(s);
    if (st.isDirectory()) copyTree(s, `${dst}/${name}`);
    else if (st.isFile()) py.FS.writeFile(`${dst}/${name}`, new Uint8Array(readFileSync(s)));
  }
}
for (const dir of ["tests", "benchmarks"]) copyTree(join(checkout, dir), `${ROOT}/${dir}`);
py.FS.writeFile(`${ROOT}/pyproject.toml`, new Uint8Array(readFileSync(join(checkout, "pyproject.toml"))));

py.globals.set("pytest_args", py.toPy(pytestArgs));
let code;
try {
  code = await py.runPythonAsync(`
import importlib.util, os, sys

# pyodide-kernel's mocks, from its own wheel (what JupyterLite's kernel applies at start; the
# package's __init__ starts an IPython shell, so only mocks.py is loaded)
(pkg,) = importlib.util.find_spec("pyodide_kernel").submodule_search_locations
path = os.path.join(pkg, "mocks.py")
spec = importlib.util.spec_from_file_location("pyodide_kernel_mocks", path)
mocks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mocks)
mocks.apply_mocks()

import dockerlayers, dockerlayers.platform as p
feats = {n: getattr(p, n) for n in ("HAS_FLOCK", "CAN_MKNOD", "HAS_MKFIFO", "HAS_XATTR", "HAS_LINK", "CAN_THREAD", "IS_ROOT")}
print("pyodide features:", feats, "dockerlayers from", os.path.dirname(dockerlayers.__file__), file=sys.stderr)

class PyodideProfile:
    """WebAssembly runs at its own pace: hypothesis' 200 ms deadline would measure that, not
    the model (registered once pytest has loaded hypothesis, so its asserts are rewritten)."""

    def pytest_configure(self, config):
        from hypothesis import settings

        settings.register_profile("pyodide", deadline=None)
        settings.load_profile("pyodide")


class Summary:
    """The counts, as one JSON line on stderr at the end (what test_pyodide.py asserts on)."""

    def pytest_terminal_summary(self, terminalreporter):
        import json

        counts = {k: len(v) for k, v in terminalreporter.stats.items() if k}
        print("run_pytest.mjs summary:", json.dumps(counts, sort_keys=True), file=sys.stderr)


os.chdir("${ROOT}")
import pytest
int(pytest.main(list(pytest_args), plugins=[PyodideProfile(), Summary()]))
`);
} catch (e) {
  process.stderr.write(`run_pytest.mjs: ${e.message}\n`); // the Python traceback, not Pyodide's source
  process.exit(3);
}
process.exit(code);
