#!/usr/bin/env python3
"""Says where the edges a fuzzing run found after its corpus replay are: in mailtoken's own
code, in the fuzz target, in the standard library, or in which dependency.

    fuzz/new_edges.py BINARY LOG BASE CLOCK SOURCE_ROOT

fuzz/plateau calls it at the end of a run made with libFuzzer's -print_pcs=1. LOG is libFuzzer's
output (a "NEW_PC: 0x..." line for each newly covered edge, then the "#EXECS NEW ..." line of
the input that covered it); BASE is the binary's load address in that run (from /proc/PID/maps),
so a PC minus BASE is an address llvm-symbolizer can place; CLOCK has "CPU_SECONDS EXECUTIONS"
lines noted during the run, to give when the last edge in mailtoken's code was found.

An edge counts for mailtoken when any function of its inlining chain is mailtoken's (so the count
errs towards mailtoken: an edge of url's parser inlined into a mailtoken function is counted as
ours), else for the fuzz target likewise, else for where its innermost code was written. Code a
`#[derive(...)]` line generated (serde's Deserialize, mostly) is mailtoken's only by name: its
edges are counted apart, as "derived", because they are serde_json's ways through an object
(fields repeated, missing, of the wrong type), not decisions mailtoken's own code makes.
Without llvm-symbolizer it prints only the count.
"""

import functools
import re
import shutil
import subprocess
import sys
from collections import Counter

CRATE_IN_PATH = re.compile(r"/(?:registry/src/[^/]+|git/checkouts/[^/]+/[^/]+)/([^/]+?)-\d[^/]*/")


def new_pcs(log_path):
    """(pc, executions) for each edge libFuzzer reported new after the corpus replay."""
    found, pending, replayed = [], [], False
    with open(log_path, errors="replace") as log:
        for line in log:
            if not replayed:
                replayed = re.search(r"\sINITED\s", line) is not None
                continue
            if "NEW_PC: 0x" in line:
                pending.append(int(line.split("NEW_PC: ")[1].split()[0], 16))
                continue
            executions = re.match(r"#(\d+)\s", line)
            if executions and pending:
                found += [(pc, int(executions.group(1))) for pc in pending]
                pending = []
    return found


def frame_places(binary, offsets):
    """For each offset, (file, line) of each frame of its inlining chain, innermost first."""
    run = subprocess.run(
        ["llvm-symbolizer", f"--obj={binary}", "--functions=none", "--inlines"],
        input="".join(f"0x{offset:x}\n" for offset in offsets),
        capture_output=True,
        text=True,
        check=True,
    )
    # One block per address, a "file:line:column" line per frame (innermost first), blocks
    # separated by an empty line.
    blocks = [block.split("\n") for block in run.stdout.strip("\n").split("\n\n")]
    return [[source_line(frame) for frame in block] for block in blocks]


def source_line(frame):
    path, line, _column = frame.rsplit(":", 2)
    return path, int(line) if line.isdigit() else 0


@functools.lru_cache(maxsize=None)
def source_lines(path):
    """The lines of a source file, read once however many edges point into it."""
    try:
        with open(path, errors="replace") as source:
            return source.read().split("\n")
    except OSError:
        return []


def generated_by_derive(path, line):
    lines = source_lines(path)
    return 0 < line <= len(lines) and lines[line - 1].lstrip().startswith("#[derive(")


def place(frames, source_root):
    ours = [(path, line) for path, line in frames if path.startswith(source_root)]
    if ours:
        return "derived" if all(generated_by_derive(*frame) for frame in ours) else "mailtoken"
    if any("/fuzz/fuzz_targets/" in path for path, _ in frames):
        return "fuzz target"
    if frames[0][0].startswith("/rustc/"):
        return "std"
    crate = CRATE_IN_PATH.search(frames[0][0])
    return crate.group(1) if crate else "unknown"


def cpu_at(clock_path, executions):
    """The CPU seconds noted when `executions` were done; "?" before the first note."""
    try:
        with open(clock_path) as clock:
            for line in clock:
                cpu, done = (int(field) for field in line.split())
                if done >= executions:
                    return cpu
    except FileNotFoundError:
        pass
    return "?"


def main():
    binary, log_path, base, clock_path, source_root = sys.argv[1:6]
    found = new_pcs(log_path)
    if not found:
        print("no new edge after the corpus replay")
        return
    if shutil.which("llvm-symbolizer") is None:
        print(f"{len(found)} new edges after the corpus replay (no llvm-symbolizer to place them)")
        return
    chains = frame_places(binary, [pc - int(base, 16) for pc, _ in found])
    places = [place(paths, source_root.rstrip("/") + "/") for paths in chains]
    counts = Counter(places)
    ours = [executions for (_, executions), where in zip(found, places) if where == "mailtoken"]
    own = f"mailtoken {counts.pop('mailtoken', 0)}"
    if ours:
        own += f" (the last at {cpu_at(clock_path, max(ours))} CPU s, execution {max(ours)})"
    rest = ", ".join(f"{where} {count}" for where, count in counts.most_common())
    print(f"{len(found)} new edges after the corpus replay: {own}; {rest or 'nothing else'}")


if __name__ == "__main__":
    main()
