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
ours), else for the fuzz target likewise, else for where its innermost code was written.
Without llvm-symbolizer it prints only the count.
"""

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


def frame_files(binary, offsets):
    """For each offset, the source files of its inlining chain, innermost first."""
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
    return [[frame.rsplit(":", 2)[0] for frame in block] for block in blocks]


def place(paths, source_root):
    if any(path.startswith(source_root) for path in paths):
        return "mailtoken"
    if any("/fuzz/fuzz_targets/" in path for path in paths):
        return "fuzz target"
    if paths[0].startswith("/rustc/"):
        return "std"
    crate = CRATE_IN_PATH.search(paths[0])
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
    chains = frame_files(binary, [pc - int(base, 16) for pc, _ in found])
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
