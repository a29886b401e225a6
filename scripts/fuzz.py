#!/usr/bin/env python3
"""Mutation fuzzer of fftconv-opt over the project's own test inputs.

Every seed is one `// -----` chunk of a test/**/*.mlir file or a file of
test/Tools/Inputs. A mutant applies one to three mutations to a seed (a
number set to an extreme, an element type swapped, a line deleted,
duplicated or swapped, an attribute value or keyword changed, a shape
changed, a few bytes changed) and runs through six pipelines of
fftconv-opt, each under a wall-clock timeout and an address-space limit:

  roundtrip   parse, verify, print and parse again (--verify-roundtrip)
  butterfly   --fftconv-to-butterfly
  cpu         --fftconv-to-cpu
  ptx         --fftconv-to-ptx (PTX text only: no GPU or ptxas is needed)
  monarch     --butterfly-expand-monarch --canonicalize
  butterfly-cpu  --fftconv-to-butterfly --fftconv-to-cpu

A small share of runs also gets a mutated pass option (threads=100000,
smem-per-block=-1, ...), since options are user input too.

Each run is classified:

  ok          exit 0
  diagnostic  exit 1 with an "error:" line at a location in the input: the
              input was refused cleanly
  unlocated   refused, but no error points into the input (counted and
              listed, not a failure)
  crash       a signal, a stack dump, "PLEASE submit a bug report" or an
              "LLVM ERROR" (a fatal error is no diagnostic)
  timeout     still running after --timeout seconds
  oom         ran out of the --memory-mb address space
  silent      a non-zero exit without any "error:" line
  invalid-ir  the input verifies, but a pipeline fails with a verifier
              message about an op the input does not contain: a pass built
              invalid IR

crash, timeout, oom, silent and invalid-ir are findings. A crash's
signature is the pipeline plus its first frames past the signal handler
(or the fatal message), so that one bug found a hundred times counts once.

Mutant i of seed S is a pure function of (S, i): `--seed S --count N` is a
fixed set; `--seconds T` stops early, at the first mutant begun after T
seconds. Findings go to --out (summary.json, summary.md and, for each
distinct signature, the reproducer, the command and the output); the exit
status is 1 when anything was found (unless --no-fail-on-findings), so
that CI can run it.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import re
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PIPELINES = {
    "roundtrip": ["--verify-roundtrip"],
    "butterfly": ["--fftconv-to-butterfly"],
    "cpu": ["--fftconv-to-cpu"],
    "ptx": ["--fftconv-to-ptx"],
    "monarch": ["--butterfly-expand-monarch", "--canonicalize"],
    # The decomposed program on the CPU, as the README runs it: the only
    # way butterfly ops the passes built reach the CPU lowering.
    "butterfly-cpu": ["--fftconv-to-butterfly", "--fftconv-to-cpu"],
}

# Options a user may pass to the pipelines, with values at and past the
# edges of what they accept.
PIPELINE_OPTIONS = {
    "butterfly": {
        "order": ["auto", "1", "4", "0", "5", "-1", "x"],
        "chip": ["sm_80", "sm_90", "sm_70", ""],
        "smem-per-block": ["0", "-1", "1", "1024", "1000000000", "9223372036854775807"],
    },
    "ptx": {
        "order": ["auto", "1", "4", "0", "5"],
        "chip": ["sm_80", "sm_90", "sm_100"],
        "threads": ["0", "1", "32", "1024", "1025", "100000", "-1"],
        "batch-tile": ["0", "1", "-1", "1000000"],
        "single-kernel-max": ["0", "-1", "1", "4096", "9223372036854775807"],
        "precision": ["auto", "split", "half", "double"],
    },
}

INT_EXTREMES = [
    "0", "-1", "1", "2", "3", "5", "7", "17", "100", "255", "256", "1000",
    "1001", "1023", "4097", "65537", str(2**20),
    str(2**31 - 1), str(2**31), str(2**32), str(2**40), str(2**43),
    str(2**62), str(2**63 - 1), str(2**63), str(2**64), str(-(2**63)),
]
FLOAT_EXTREMES = ["0.0", "-0.0", "-1.0", "2.5", "1.0e+38", "3.4e+39",
                  "1.0e+308", "-1.0e-45", "0x7FC00000", "0x7F800000"]
TYPES = ["f16", "bf16", "f32", "f64", "i1", "i8", "i32", "i64", "index",
         "complex<f32>", "complex<f64>", "complex<f16>", "vector<4xf32>",
         "none", "tf32", "f8E4M3FN", "tensor<4xf32>"]
KEYWORDS = [("causal", "circular"), ("fft", "ifft"), ("rfft", "irfft"),
            ("pregate", "postgate"), ("postgate", "skip"), ("squash", "smooth"),
            ("monarch", "dft"), ("kron", "twiddle")]

# An integer or float literal not part of an identifier, an SSA or symbol
# name or a type name (f16, i32): a preceding letter other than the x of a
# shape (4x1024) rules it out.
NUMBER = re.compile(r"(?<![A-Za-wyzA-Z_%#@^$.\d])-?\d+(\.\d+)?([eE][-+]?\d+)?")
TYPE = re.compile(r"\b(bf16|f16|f32|f64|i1|i8|i32|i64|index)\b|complex<f(16|32|64)>")
SHAPE = re.compile(r"\b(tensor|memref|vector)<([0-9?x]*x)?([a-z][^<>]*|complex<[^<>]*>)>")
# `name = value` of an attribute, not the `%x = ` of an SSA definition.
ATTR_VALUE = re.compile(r"(?<![%\w.])([a-z_][a-z_0-9.]*\s*=\s*)([^,}\s:)]+)")
WORD = re.compile(r"\b[a-z_][a-z_0-9]*\b")


def load_seeds():
    """One seed per `// -----` chunk; RUN and CHECK lines go (they only
    steer lit), expected-* lines stay: they are comments to the parser."""
    files = sorted((ROOT / "test").rglob("*.mlir")) + sorted(
        p for p in (ROOT / "test" / "Tools" / "Inputs").iterdir() if p.is_file())
    seeds = []
    for path in files:
        text = path.read_text()
        for index, chunk in enumerate(re.split(r"^// -----\s*$", text, flags=re.M)):
            lines = [l for l in chunk.splitlines()
                     if not re.match(r"\s*//\s*(RUN|CHECK|[A-Z]+-?(LABEL|NOT|NEXT|SAME|DAG)?:)", l)]
            body = "\n".join(lines).strip()
            if body:
                seeds.append((f"{path.relative_to(ROOT)}#{index}", body + "\n"))
    return seeds


def _replace_match(rng, text, regex, make, everywhere=0.0):
    """Replaces one match of `regex` by make(match); with probability
    `everywhere`, every match with the same text by the same replacement,
    which keeps a program well typed (a dimension or an element type
    changed in every type that spells it) so that it reaches the passes."""
    matches = list(regex.finditer(text))
    if not matches:
        return None
    m = rng.choice(matches)
    new = make(m)
    if rng.random() >= everywhere:
        return text[:m.start()] + new + text[m.end():]
    pieces, last = [], 0
    for other in matches:
        if other.group(0) == m.group(0):
            pieces += [text[last:other.start()], new]
            last = other.end()
    return "".join(pieces) + text[last:]


def mutate_number(rng, text):
    def make(m):
        if m.group(1) or m.group(2):
            return rng.choice(FLOAT_EXTREMES)
        return rng.choice(INT_EXTREMES)
    return _replace_match(rng, text, NUMBER, make, everywhere=0.85)


def mutate_type(rng, text):
    return _replace_match(rng, text, TYPE, lambda m: rng.choice(TYPES), everywhere=0.85)


def mutate_shape(rng, text):
    def make(m):
        dims = [d for d in (m.group(2) or "").split("x") if d]
        choice = rng.randrange(4)
        if choice == 0 and dims:
            dims.pop(rng.randrange(len(dims)))
        elif choice == 1:
            dims.insert(rng.randrange(len(dims) + 1), rng.choice(["1", "2", "4096"]))
        elif choice == 2 and dims:
            dims[rng.randrange(len(dims))] = "?"
        elif dims:
            dims[rng.randrange(len(dims))] = rng.choice(INT_EXTREMES[:16])
        return m.group(1) + "<" + "".join(d + "x" for d in dims) + m.group(3) + ">"
    return _replace_match(rng, text, SHAPE, make, everywhere=0.85)


def mutate_attribute(rng, text):
    values = INT_EXTREMES + FLOAT_EXTREMES + ["true", "unit", "\"s\"", "[]",
                                              "f16", "index", "-1 : i64"]
    return _replace_match(rng, text, ATTR_VALUE,
                          lambda m: m.group(1) + rng.choice(values))


def mutate_keyword(rng, text):
    a, b = rng.choice(KEYWORDS)
    if rng.random() < 0.5:
        a, b = b, a
    spots = [m for m in re.finditer(r"\b%s\b" % re.escape(a), text)]
    if not spots:
        return None
    m = rng.choice(spots)
    return text[:m.start()] + b + text[m.end():]


def mutate_lines(rng, text):
    lines = text.splitlines()
    if len(lines) < 2:
        return None
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    kind = rng.randrange(3)
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


def mutate_bytes(rng, text):
    data = bytearray(text.encode())
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        pos = rng.randrange(len(data))
        kind = rng.randrange(3)
        if kind == 0:
            data[pos] = rng.choice(b"0123456789x<>(){}[],:=%@!#^-.\"\n ")
        elif kind == 1:
            del data[pos]
        else:
            data.insert(pos, rng.choice(b"0123456789x<>(){}[],:=%\""))
    return data.decode(errors="replace")


def mutate_token_swap(rng, text):
    words = WORD.findall(text)
    if not words:
        return None
    return _replace_match(rng, text, WORD, lambda m: rng.choice(words))


MUTATORS = [(mutate_number, 5), (mutate_type, 3), (mutate_shape, 3),
            (mutate_attribute, 2), (mutate_keyword, 2), (mutate_lines, 2),
            (mutate_bytes, 1), (mutate_token_swap, 1)]


def make_mutant(seed, index, seeds):
    """Mutant `index` of run `seed`: deterministic, whatever the order."""
    rng = random.Random(f"{seed}:{index}")
    # Chunks written to be refused (expected-error) mostly stay refused
    # after a mutation: valid inputs reach the passes, so they weigh more.
    weights = [1 if "expected-error" in t else 4 for _, t in seeds]
    name, text = rng.choices(seeds, weights)[0]
    applied = []
    wanted = rng.choice([1, 1, 2, 3])
    for _ in range(20):  # a mutator may find nothing to change
        if len(applied) == wanted:
            break
        mutator = rng.choices([m for m, _ in MUTATORS], [w for _, w in MUTATORS])[0]
        out = mutator(rng, text)
        if out is not None and out != text:
            text = out
            applied.append(mutator.__name__[len("mutate_"):])
    options = {}
    for pipeline, table in PIPELINE_OPTIONS.items():
        if rng.random() < 0.1:
            key = rng.choice(sorted(table))
            options[pipeline] = f"{key}={rng.choice(table[key])}"
    return name, applied, text, options


def command_for(tool, pipeline, option):
    args = list(PIPELINES[pipeline])
    if option:
        args[0] = f"{args[0]}={option}"
    return [tool, *args, "-o", os.devnull]


def limit_resources(memory_mb):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()  # so that a timeout kills the whole process group
    return apply


FRAME = re.compile(r"^\s*#\d+\s+0x[0-9a-f]+\s+(?:in\s+)?(.+?)(?:\s+\(/|\s+/|$)")
SKIP_FRAME = re.compile(r"llvm::sys::|SignalHandler|PrintStackTrace|__restore_rt|"
                        r"raise|abort|__pthread_kill|libc\.so|CrashRecoveryContext|"
                        r"llvm::report_fatal_error|llvm_unreachable_internal|"
                        r"^0x[0-9a-f]+$|\?\?|std::terminate|__cxa_|__gnu_cxx")


def classify(rc, output):
    """Returns (outcome, signature-detail) for one finished run."""
    oom = re.search(r"out of memory|std::bad_alloc|Cannot allocate memory|"
                    r"Allocation failed", output)
    fatal = re.search(r"LLVM ERROR: (.*)", output)
    crashed = (rc < 0 or rc >= 128 or "PLEASE submit a bug report" in output
               or "Stack dump:" in output or fatal)
    if crashed and oom:
        return "oom", ""
    if crashed:
        frames = []
        for line in output.splitlines():
            m = FRAME.match(line)
            if m and not SKIP_FRAME.search(m.group(1)):
                name = m.group(1).replace("(anonymous namespace)", "{anon}")
                name = re.sub(r"\(.*", "", name).strip().replace(
                    "{anon}", "(anonymous namespace)")
                if name and name not in frames:
                    frames.append(name)
        if frames:
            return "crash", " <- ".join(frames[:3])
        if fatal:
            return "crash", "LLVM ERROR: " + re.sub(r"\d+", "N", fatal.group(1))[:120]
        return "crash", f"signal {-rc if rc < 0 else rc - 128}"
    if rc == 0:
        return "ok", ""
    if re.search(r"^<stdin>:\d+:\d+: error:", output, re.M):
        return "diagnostic", ""
    if re.search(r"error:", output):
        # Refused, but the message points nowhere in the input.
        first = re.search(r"error: (.*)", output).group(1)
        return "unlocated", re.sub(r"\d+", "N", first)[:100]
    return "silent", f"exit {rc}"


def invalid_ir_op(output, text):
    """The op of the first `'dialect.op' op ...` error, if the input never
    names that op: the error is about IR a pass created."""
    m = re.search(r"error: '([a-z_]+\.[a-z_.]+)' op (.*)", output)
    if m and not re.search(r"\b%s\b" % re.escape(m.group(1)), text):
        return f"{m.group(1)}: " + re.sub(r"'[^']*'|\d+", "_", m.group(2))[:80]
    return None


def run_one(tool, pipeline, option, text, timeout, memory_mb):
    cmd = command_for(tool, pipeline, option)
    env = dict(os.environ)
    symbolizer = "/usr/lib/llvm-22/bin/llvm-symbolizer"
    if os.path.exists(symbolizer):
        env.setdefault("LLVM_SYMBOLIZER_PATH", symbolizer)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env,
                            preexec_fn=limit_resources(memory_mb))
    try:
        _, err = proc.communicate(text.encode(errors="replace"), timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return "timeout", "", err.decode(errors="replace")[-4000:], cmd, timeout
    except BrokenPipeError:
        _, err = proc.communicate()
    output = err.decode(errors="replace")
    outcome, detail = classify(proc.returncode, output)
    return outcome, detail, output[-4000:], cmd, time.monotonic() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=0,
                        help="mutants to run (0: until --seconds)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="stop starting mutants after this long (0: no limit)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds one pipeline may run")
    parser.add_argument("--memory-mb", type=int, default=2048,
                        help="address space one pipeline may use")
    parser.add_argument("--pipelines", default=",".join(PIPELINES))
    parser.add_argument("--tool", default=str(ROOT / "build" / "bin" / "fftconv-opt"))
    parser.add_argument("--out", default=str(ROOT / "build" / "fuzz"))
    parser.add_argument("--no-fail-on-findings", dest="fail", action="store_false")
    parser.add_argument("--print-mutant", type=int, metavar="I",
                        help="print mutant I of --seed and exit")
    args = parser.parse_args(argv)

    seeds = load_seeds()
    if args.print_mutant is not None:
        name, applied, text, options = make_mutant(args.seed, args.print_mutant, seeds)
        print(f"// seed {name}, mutations {applied}, options {options}")
        sys.stdout.write(text)
        return 0
    pipelines = [p for p in args.pipelines.split(",") if p]
    for p in pipelines:
        if p not in PIPELINES:
            parser.error(f"unknown pipeline {p!r}; known: {', '.join(PIPELINES)}")
    if not os.access(args.tool, os.X_OK):
        parser.error(f"no tool at {args.tool} (build first)")
    out = Path(args.out)
    (out / "findings").mkdir(parents=True, exist_ok=True)

    outcomes = {p: {} for p in pipelines}
    signatures = {}  # signature -> first finding
    notes = {}  # unlocated diagnostic -> count: not failures, but worth a look
    slowest = {}
    lock = threading.Lock()
    seen = set()
    start = time.monotonic()
    counters = {"mutants": 0, "duplicates": 0, "runs": 0}

    def work(index):
        name, applied, text, options = make_mutant(args.seed, index, seeds)
        digest = hashlib.sha1((text + json.dumps(options, sort_keys=True)).encode()).hexdigest()
        with lock:
            counters["mutants"] += 1
            if digest in seen:
                counters["duplicates"] += 1
                return
            seen.add(digest)
        verified = None  # whether the input itself parses and verifies
        for pipeline in pipelines:
            option = options.get(pipeline)
            outcome, detail, output, cmd, seconds = run_one(
                args.tool, pipeline, option, text, args.timeout, args.memory_mb)
            with lock:
                # How close the slowest runs come to --timeout.
                if seconds > slowest.get("seconds", 0):
                    slowest.update(seconds=round(seconds, 2), pipeline=pipeline, mutant=index)
            if pipeline == "roundtrip":
                verified = outcome == "ok"
            elif outcome == "diagnostic" and verified:
                # A verifier's message about an op the input does not hold:
                # a pass built IR that fails verification.
                built = invalid_ir_op(output, text)
                if built:
                    outcome, detail = "invalid-ir", built
            with lock:
                counters["runs"] += 1
                outcomes[pipeline][outcome] = outcomes[pipeline].get(outcome, 0) + 1
                if outcome in ("ok", "diagnostic"):
                    continue
                if outcome == "unlocated":
                    notes[detail] = notes.get(detail, 0) + 1
                    continue
                signature = f"{outcome} [{pipeline}] {detail}".strip()
                entry = signatures.setdefault(signature, {
                    "signature": signature, "outcome": outcome, "pipeline": pipeline,
                    "count": 0, "first_mutant": index, "seed_input": name,
                    "mutations": applied})
                entry["count"] += 1
                if entry["count"] == 1:
                    stem = f"{len(signatures):03d}-{outcome}-{pipeline}"
                    repro = out / "findings" / f"{stem}.mlir"
                    repro.write_text(text)
                    shown = [c if c != os.devnull else "/dev/null" for c in cmd]
                    shown[0] = "build/bin/fftconv-opt"
                    entry["command"] = " ".join(shlex.quote(c) for c in shown[:-2]) + \
                        f" {repro.relative_to(out.parent) if repro.is_relative_to(out.parent) else repro}"
                    entry["reproducer"] = str(repro)
                    (out / "findings" / f"{stem}.txt").write_text(
                        f"$ {entry['command']}\n{output}")
                    print(f"[fuzz] mutant {index}: {signature}", file=sys.stderr)

    def budget_left():
        return not args.seconds or time.monotonic() - start < args.seconds

    index = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        pending = set()
        while (not args.count or index < args.count) and budget_left():
            while len(pending) >= max(1, args.jobs):
                done, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for f in done:
                    f.result()
            if not budget_left():
                break
            pending.add(pool.submit(work, index))
            index += 1
        for f in concurrent.futures.as_completed(pending):
            f.result()
    elapsed = time.monotonic() - start

    findings = sorted(signatures.values(), key=lambda e: -e["count"])
    totals = {}
    for per in outcomes.values():
        for k, v in per.items():
            totals[k] = totals.get(k, 0) + v
    summary = {
        "command": " ".join(shlex.quote(a) for a in ["scripts/fuzz.py", *(argv or sys.argv[1:])]),
        "seed": args.seed, "seconds": round(elapsed, 1), "jobs": args.jobs,
        "seed_inputs": len(seeds), "mutants": counters["mutants"],
        "duplicates_skipped": counters["duplicates"], "runs": counters["runs"],
        "timeout_s": args.timeout, "memory_mb": args.memory_mb,
        "outcomes": totals, "by_pipeline": outcomes,
        "distinct_findings": len(findings), "findings": findings,
        "unlocated_diagnostics": notes, "slowest_run": slowest,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [f"# fuzz run: {summary['command']}", "",
             f"{summary['mutants']} mutants ({summary['duplicates_skipped']} duplicates skipped) "
             f"of {len(seeds)} seed inputs, {summary['runs']} pipeline runs in "
             f"{summary['seconds']} s with {args.jobs} worker(s); the slowest run took "
             f"{slowest.get('seconds', 0)} s ({slowest.get('pipeline')}, mutant "
             f"{slowest.get('mutant')}).", "",
             "| pipeline | " + " | ".join(OUTCOMES) + " |",
             "|---|" + "---|" * len(OUTCOMES)]
    for p in pipelines:
        lines.append(f"| {p} | " + " | ".join(str(outcomes[p].get(o, 0)) for o in OUTCOMES) + " |")
    lines.append("| **all** | " + " | ".join(str(totals.get(o, 0)) for o in OUTCOMES) + " |")
    lines += ["", f"{len(findings)} distinct finding(s)."]
    for e in findings:
        lines.append(f"- `{e['signature']}` x{e['count']} (first: mutant {e['first_mutant']} "
                     f"of {e['seed_input']}; `{e.get('command', '')}`)")
    if notes:
        lines += ["", "Refusals without a source location (not failures):"]
        lines += [f"- `{k}` x{v}" for k, v in sorted(notes.items(), key=lambda kv: -kv[1])]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if findings and args.fail else 0


OUTCOMES = ["ok", "diagnostic", "unlocated", "crash", "timeout", "oom", "silent",
            "invalid-ir"]

if __name__ == "__main__":
    sys.exit(main())
