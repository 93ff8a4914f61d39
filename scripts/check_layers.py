#!/usr/bin/env python3
"""Checks headroom's layering (docs/architecture.md) against the tree.

- Each module's links in CMakeLists.txt (headroom_module(NAME deps...)) form
  an acyclic graph: the layers.
- Every #include "M/..." in src/<module>/ (tests included) names the module
  itself or one it links directly; so only src/cli and main.cc include cli/.
- Only src/exec spawns, signals or reaps a process; only src/journal
  touches SQLite (the journal's schema).

Usage: scripts/check_layers.py [REPO]   (exit 1 with one line per problem)
"""
import pathlib
import re
import sys

repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if repo.is_file():
    repo = repo.parent.parent
src = repo / "src"

cmake = (repo / "CMakeLists.txt").read_text()
deps = {}
for match in re.finditer(r"headroom_module\((\w+)([^)]*)\)", cmake):
    name, args = match.group(1), match.group(2)
    deps[name] = set(re.findall(r"\bhr_(\w+)", args))

problems = []

# The links must form layers: no cycle.
state = {}


def visit(module, path):
    if state.get(module) == "done":
        return
    if state.get(module) == "active":
        problems.append("CMakeLists.txt: modules link in a cycle: " + " -> ".join(path + [module]))
        return
    state[module] = "active"
    for dep in sorted(deps.get(module, ())):
        visit(dep, path + [module])
    state[module] = "done"


for module in sorted(deps):
    visit(module, [])

include = re.compile(r'^\s*#\s*include\s+"(\w+)/[^"]+"', re.M)
for path in sorted(src.rglob("*")):
    if path.suffix not in (".h", ".cc"):
        continue
    rel = path.relative_to(src)
    if len(rel.parts) == 1:
        continue  # main.cc: the wiring, may include everything
    module = rel.parts[0]
    if module not in deps:
        problems.append(f"src/{rel}: folder {module}/ is no module of CMakeLists.txt")
        continue
    text = path.read_text(errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        m = include.match(line)
        if not m or m.group(1) == module or m.group(1) not in deps:
            continue
        if m.group(1) not in deps[module]:
            problems.append(f"src/{rel}:{number}: {module} includes {m.group(1)}/, "
                            f"which it does not link (CMakeLists.txt: headroom_module({module} ...))")

# Calls that start, signal or reap a process, outside exec (kill(pid, 0)
# only asks whether a process exists); SQLite outside the journal.
process_calls = re.compile(
    r"\b(posix_spawnp?|fork|vfork|execv[pe]*|waitpid|wait4|waitid|SYS_clone|system|popen)\s*\("
    r"|\bkill\s*\((?![^,()]+,\s*0\s*\))")
for path in sorted(src.rglob("*.cc")) + sorted(src.rglob("*.h")):
    rel = path.relative_to(src)
    if rel.name.endswith("_test.cc") or "test_util" in rel.name or len(rel.parts) == 1:
        continue
    module = rel.parts[0]
    text = path.read_text(errors="replace")
    code = re.sub(r"//[^\n]*", "", text)
    if module != "exec":
        for m in process_calls.finditer(code):
            number = code.count("\n", 0, m.start()) + 1
            problems.append(f"src/{rel}:{number}: only src/exec starts, signals or reaps "
                            f"processes ({m.group(0).strip()})")
    if module != "journal" and re.search(r"#\s*include\s*<sqlite3\.h>", text):
        problems.append(f"src/{rel}: only src/journal may use SQLite (the journal's schema)")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
