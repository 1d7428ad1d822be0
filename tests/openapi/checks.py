"""The OpenAPI checks: validator, schemathesis and a generated client against a
live spool (docs/openapi.md). Run through scripts/openapi-checks, which makes
the virtualenv and builds the binary; this file expects both."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402

import fixtures  # noqa: E402
import report  # noqa: E402
from server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, create_member  # noqa: E402

BIN = Path(sys.executable).parent
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PINNED_PHASES = "examples,coverage,fuzzing"  # with the pins; "stateful" runs without them
MAX_SHOWN = 60  # findings printed per run; the failures file has them all
SCHEMATHESIS_TIMEOUT = 240  # seconds per schemathesis invocation
PINS = "# ==== PINS ===="  # schemathesis.toml: the stateful phase reads only what is above

# The session run must not end its own session half-way.
SESSION_EXCLUDES = ["--exclude-name", "POST /api/v1/auth/logout"]


def step(title: str) -> None:
    print(f"\n--- {title}", flush=True)


def count_operations(document: dict) -> int:
    return sum(
        1 for item in document.get("paths", {}).values() for method in item if method in METHODS
    )


def validate(path: Path) -> tuple[int, list[str]]:
    """openapi-spec-validator on one file: (number of errors, their lines)."""
    result = subprocess.run(
        [str(BIN / "openapi-spec-validator"), "--validation-errors", "all", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    output = (result.stdout + result.stderr).strip()
    errors = [line for line in output.splitlines() if "Validation Error" in line or "Error:" in line]
    if result.returncode != 0 and not errors:
        errors = output.splitlines()[-5:] or [f"exit code {result.returncode}"]
    return len(errors), errors


def stateful_config(out: Path) -> Path:
    """schemathesis.toml without its pinned ids (everything from the PINS line on)."""
    text = (HERE / "schemathesis.toml").read_text()
    path = out / "schemathesis-stateful.toml"
    path.write_text(text[: text.index(PINS)])
    return path


def run_schemathesis(command: list[str], env: dict, log_path: Path) -> int:
    with open(log_path, "w") as log:
        try:
            return subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  timeout=SCHEMATHESIS_TIMEOUT, cwd=log_path.parent).returncode
        except subprocess.TimeoutExpired:
            print(f"  timed out after {SCHEMATHESIS_TIMEOUT} s; see {log_path}")
            return 124


def schemathesis(server: Server, mode: str, out: Path, seed: int, max_examples: int,
                 member_id: int) -> report.Run:
    """One credential: the pinned phases, then the stateful phase; one merged result."""
    env_ids = fixtures.make(server.base, mode, member_id)
    credential = env_ids["SPOOL_API_KEY"] if mode == "api-key" else env_ids["SPOOL_SESSION"]
    env = {**os.environ, **env_ids, "SPOOL_CREDENTIAL": credential,
           "SCHEMATHESIS_HOOKS": str(HERE / "hooks.py")}
    started = time.monotonic()
    parts = []
    for name, config, phases in (
        (mode, HERE / "schemathesis.toml", PINNED_PHASES),
        (f"{mode}-stateful", stateful_config(out), "stateful"),
    ):
        report_dir = out / f"schemathesis-{name}"
        command = [
            str(BIN / "schemathesis"), "--config-file", str(config),
            "run", f"{server.base}/openapi.json",
            "--checks", "all",
            "--phases", phases,
            "--seed", str(seed),
            "--max-examples", str(max_examples),
            "--generation-database", "none",
            "--report", "json,junit",
            "--report-dir", str(report_dir),
            "--no-color",
        ]
        if mode == "session":
            command += SESSION_EXCLUDES
        code = run_schemathesis(command, env, out / f"schemathesis-{name}.log")
        parts.append(report.read(name, code, report_dir))
    run = report.merge(mode, parts)
    (out / f"schemathesis-{mode}-failures.md").write_text(report.digest(run))
    print(f"{mode}: {run.generated} test cases ({' + '.join(str(p.generated) for p in parts)} stateful) "
          f"on {run.operations_tested} operations in {time.monotonic() - started:.0f}s, "
          f"exit codes {', '.join(str(p.exit_code) for p in parts)}")
    for failure in run.failures:
        print(f"  {failure['code']} {report.check_name(failure['code'])} ({failure['title']}): "
              f"{failure['count']} on {len(failure.get('operations', []))} operations")
    for error in run.errors:
        print(f"  error: {error['title']}: {error['count']}")
    for name, items in run.warnings.items():
        if isinstance(items, list):
            print(f"  warning {name}: {len(items)} operations")
    shown = sorted(run.findings, key=lambda f: (f.code, f.operation))
    for finding in shown[:MAX_SHOWN]:
        print(f"    {finding.code} {finding.operation}: {finding.summary}"[:400])
        if finding.curl:
            print(f"      {finding.curl}"[:600])
    if len(shown) > MAX_SHOWN:
        print(f"    … and {len(shown) - MAX_SHOWN} more in {out / f'schemathesis-{mode}-failures.md'}")
    return run


def generate_client(document: Path, out: Path) -> tuple[int, bool, list[str]]:
    """openapi-python-client generate: (warnings, whether a package came out, warning lines)."""
    target = out / "client" / "spool_client"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(document),
         "--meta", "none", "--output-path", str(target), "--overwrite"],
        capture_output=True, text=True, timeout=180, env=env,
    )
    output = result.stdout + result.stderr
    (out / "client-generate.log").write_text(output)
    # The generator prints "Unable to process schema …" for every part it drops.
    warnings = [line for line in output.splitlines()
                if re.match(r"\s*(WARNING|ERROR)\b", line) or "Unable to process" in line
                or "Warning(s) encountered" in line]
    if result.returncode != 0 and not warnings:
        warnings = [f"openapi-python-client exited {result.returncode}"] + output.splitlines()[-5:]
    return len(warnings), (target / "__init__.py").exists(), warnings


def smoke(server: Server, out: Path) -> int:
    env = {
        **os.environ,
        "PYTHONPATH": str(out / "client"),
        "SPOOL_BASE": server.base,
        "SPOOL_EMAIL": ADMIN_EMAIL,
        "SPOOL_PASSWORD": ADMIN_PASSWORD,
    }
    try:
        return subprocess.run([sys.executable, str(HERE / "smoke.py")], env=env, timeout=120).returncode
    except subprocess.TimeoutExpired:
        print("smoke: timed out after 120 s")
        return 124


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    # Where cargo put it: CARGO_TARGET_DIR when set (relative to the repository), else target/.
    built = ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "debug" / "spool"
    parser.add_argument("--binary", type=Path, default=built)
    parser.add_argument("--out", type=Path, default=ROOT / "target/openapi-checks")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("OPENAPI_CHECKS_SEED", "1")))
    parser.add_argument("--max-examples", type=int,
                        default=int(os.environ.get("OPENAPI_CHECKS_MAX_EXAMPLES", "10")))
    parser.add_argument("--only", default="validate,schemathesis,client",
                        help="comma-separated: validate, schemathesis, client")
    args = parser.parse_args()
    only = set(args.only.split(","))

    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    problems: list[str] = []
    summary: list[str] = []
    started = time.monotonic()

    # The first start creates the owner; the member is added between starts.
    Server(args.binary, out / "server", out / "spool.log").stop()
    member_id = create_member(args.binary, out / "server")
    server = Server(args.binary, out / "server", out / "spool.log")
    try:
        step(f"spool serve on {server.base} (data in {out / 'server'})")
        served = httpx.get(f"{server.base}/openapi.json", timeout=30)
        served.raise_for_status()
        document_path = out / "openapi.json"
        document_path.write_bytes(served.content)
        document = served.json()
        operations = count_operations(document)
        summary.append(f"document: OpenAPI {document.get('openapi')}, {len(document.get('paths', {}))} "
                       f"paths, {operations} operations")

        if "validate" in only:
            step("openapi-spec-validator")
            count, errors = validate(document_path)
            for line in errors[:MAX_SHOWN]:
                print(f"  {line.replace(str(document_path) + ': ', '')}"[:300])
            if len(errors) > MAX_SHOWN:
                print(f"  … and {len(errors) - MAX_SHOWN} more: "
                      f"{BIN / 'openapi-spec-validator'} --validation-errors all {document_path}")
            committed = ROOT / "docs/openapi.json"
            same = committed.exists() and json.loads(committed.read_text()) == document
            note = "docs/openapi.json is the same" if same else "docs/openapi.json DIFFERS from it"
            summary.append(f"validator: {count} errors in the served document ({note})")
            if count:
                problems.append(f"openapi-spec-validator: {count} errors")
            if not same and committed.exists():
                committed_count, _ = validate(committed)
                summary.append(f"validator: {committed_count} errors in docs/openapi.json")
                if committed_count:
                    problems.append(f"openapi-spec-validator on docs/openapi.json: {committed_count} errors")

        if "schemathesis" in only:
            runs = []
            for mode in ("api-key", "session"):
                step(f"schemathesis, {mode} (seed {args.seed}, max-examples {args.max_examples})")
                try:
                    run = schemathesis(server, mode, out, args.seed, args.max_examples, member_id)
                except (RuntimeError, httpx.HTTPError) as error:  # the fixtures could not be made
                    print(f"  {error!r}")
                    summary.append(f"schemathesis {mode}: not run, the fixtures failed: {error!r}"[:300])
                    problems.append(f"schemathesis {mode}: fixtures failed: {error!r}"[:300])
                    continue
                runs.append(run)
                by_check = ", ".join(f"{report.check_name(f['code'])} {f['count']}" for f in run.failures) or "none"
                errors = sum(e["count"] for e in run.errors)
                summary.append(f"schemathesis {mode}: {run.generated} test cases, "
                               f"failures by check: {by_check}; errors: {errors}")
                if run.failed:
                    problems.append(f"schemathesis {mode}: exit code {run.exit_code}, "
                                    f"{sum(f['count'] for f in run.failures)} failures, {errors} errors "
                                    f"({out / f'schemathesis-{mode}-failures.md'})")

            (out / "schemathesis-by-cause.md").write_text(report.by_cause(runs))

        if "client" in only:
            step("openapi-python-client generate")
            count, generated, warnings = generate_client(document_path, out)
            for line in warnings[:MAX_SHOWN]:
                print(f"  {line}")
            if len(warnings) > MAX_SHOWN:
                print(f"  … and {len(warnings) - MAX_SHOWN} more in {out / 'client-generate.log'}")
            summary.append(f"client: {count} generator warnings")
            if count:
                problems.append(f"openapi-python-client: {count} warnings ({out / 'client-generate.log'})")
            if generated:
                step("generated-client smoke test")
                code = smoke(server, out)
                summary.append(f"client smoke: {'passed' if code == 0 else f'FAILED (exit code {code})'}")
                if code:
                    problems.append("generated-client smoke test failed")
            else:
                problems.append("openapi-python-client wrote no package")
        server_errors = server.log_lines(r"\bERROR\b|panicked")
        summary.append(f"server log: {len(server_errors)} ERROR lines")
        for line in server_errors[:20]:
            print(f"  server: {line}")
    finally:
        code = server.stop()
        if code not in (0, None):
            problems.append(f"spool serve exited with {code} on SIGTERM")

    step(f"OpenAPI checks summary ({time.monotonic() - started:.0f}s; details in {out})")
    for line in summary:
        print(f"  {line}")
    if problems:
        print("FAILED:")
        for line in problems:
            print(f"  - {line}")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
