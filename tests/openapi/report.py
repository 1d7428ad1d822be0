"""Reading schemathesis' JSON and JUnit reports into counts and examples."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path


# schemathesis' failure codes and the checks (`--checks`) that report them.
CHECKS = {
    "ST101": "not_a_server_error",
    "ST102": "not_a_server_error",
    "ST103": "status_code_conformance",
    "ST104": "content_type_conformance",
    "ST105": "content_type_conformance",
    "ST106": "content_type_conformance",
    "ST107": "response_headers_conformance",
    "ST108": "response_schema_conformance",
    "ST109": "response_schema_conformance",
    "ST110": "response_schema_conformance",
    "ST111": "response_schema_conformance",
    "ST112": "max_response_time",
    "ST201": "negative_data_rejection",
    "ST202": "positive_data_acceptance",
    "ST203": "missing_required_header",
    "ST204": "unsupported_method",
    "ST205": "allow_header_conformance",
    "ST301": "use_after_free",
    "ST302": "ensure_resource_availability",
    "ST401": "ignored_auth",
    "ST402": "object_level_authorization",
}


def check_name(code: str) -> str:
    return CHECKS.get(code, code)


@dataclass
class Finding:
    operation: str
    code: str
    text: str

    @property
    def title(self) -> str:
        match = re.search(r"^- (ST\d+ .+)$", self.text, re.MULTILINE)
        return match.group(1) if match else self.code

    @property
    def summary(self) -> str:
        """The lines between the title and the response body: what was expected."""
        lines = self.text.splitlines()
        out: list[str] = []
        started = False
        for line in lines:
            if line.startswith("- ST"):
                started = True
                continue
            if started and line.startswith("["):
                out.append(line.strip())
                break
            if started and line.strip():
                out.append(line.strip())
        return " | ".join(out)

    @property
    def curl(self) -> str:
        match = re.search(r"Reproduce with:\s*\n\s*\n\s*(curl .+)", self.text)
        return match.group(1).strip() if match else ""


@dataclass
class Run:
    mode: str
    exit_code: int
    generated: int = 0
    with_failures: int = 0
    failures: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: dict = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    error_texts: list[Finding] = field(default_factory=list)
    operations_tested: int = 0

    @property
    def failed(self) -> bool:
        return self.exit_code != 0 or bool(self.failures) or bool(self.errors)


def read(mode: str, exit_code: int, report_dir: Path) -> Run:
    run = Run(mode=mode, exit_code=exit_code)
    for path in sorted(report_dir.glob("json-*.json")):
        data = json.loads(path.read_text())
        cases = data.get("test_cases", {})
        run.generated = cases.get("generated", 0)
        run.with_failures = cases.get("with_failures", 0)
        run.failures = data.get("failures", [])
        run.errors = data.get("errors", [])
        run.warnings = {k: v for k, v in data.get("warnings", {}).items() if v}
        run.operations_tested = data.get("operations", {}).get("tested", 0)
    for path in sorted(report_dir.glob("junit-*.xml")):
        root = ElementTree.parse(path).getroot()
        for case in root.iter("testcase"):
            name = case.get("name", "?")
            for failure in case.findall("failure"):
                run.findings.append(Finding(name, failure.get("message", "?"), failure.text or ""))
            for error in case.findall("error"):
                text = error.text or ""
                run.error_texts.append(Finding(name, "error", text))
    return run


def merge(mode: str, parts: list[Run]) -> Run:
    """Several schemathesis invocations for one credential as one result."""
    run = Run(mode=mode, exit_code=max(part.exit_code for part in parts))
    by_code: dict[str, dict] = {}
    for part in parts:
        run.generated += part.generated
        run.with_failures += part.with_failures
        run.operations_tested = max(run.operations_tested, part.operations_tested)
        run.findings += part.findings
        run.error_texts += part.error_texts
        run.errors += part.errors
        for name, items in part.warnings.items():
            if isinstance(items, list):
                merged = run.warnings.setdefault(name, [])
                merged += [item for item in items if item not in merged]
        for failure in part.failures:
            entry = by_code.setdefault(failure["code"], {**failure, "count": 0, "operations": []})
            entry["count"] += failure["count"]
            entry["operations"] = sorted(set(entry["operations"]) | set(failure.get("operations", [])))
    run.failures = list(by_code.values())
    return run


def digest(run: Run) -> str:
    """Every finding in full, grouped by check, for the failures file."""
    out = [f"# schemathesis, {run.mode}: {run.generated} test cases, exit code {run.exit_code}\n"]
    for code in sorted({f.code for f in run.findings}):
        group = [f for f in run.findings if f.code == code]
        out.append(f"\n## {group[0].title} ({len(group)})\n")
        for finding in group:
            out.append(f"\n### {finding.operation}\n\n```\n{finding.text.strip()}\n```\n")
    if run.error_texts:
        out.append(f"\n## Errors ({len(run.error_texts)})\n")
        for finding in run.error_texts:
            first = "\n".join(finding.text.strip().splitlines()[:12])
            out.append(f"\n### {finding.operation}\n\n```\n{first}\n```\n")
    return "".join(out)


def cause(finding: Finding) -> str:
    """What a finding is about, so that the same problem on many operations reads once."""
    text = finding.text
    if finding.code.startswith("ST103"):
        received = re.search(r"Received: (\d+)", text)
        return f"undocumented status {received.group(1) if received else '?'}"
    body = re.search(r"^\s*`(.*)`\s*$", text, re.MULTILINE)
    if finding.code == "ST108":
        lines = [line.strip() for line in text.splitlines()
                 if line.strip() and not line.startswith(("1.", "- ST"))]
        return lines[0][:160] if lines else finding.title
    return body.group(1)[:160] if body else finding.summary[:160]


def by_cause(runs: list[Run]) -> str:
    """All runs' findings grouped by check and cause, each with the operations and modes."""
    groups: dict[tuple[str, str], dict[str, set[str]]] = {}
    for run in runs:
        for finding in run.findings:
            key = (f"{finding.code} {check_name(finding.code.split(',')[0])}", cause(finding))
            groups.setdefault(key, {}).setdefault(finding.operation, set()).add(run.mode)
    out = ["# schemathesis failures by cause\n"]
    for (check, what), operations in sorted(groups.items()):
        out.append(f"\n## {check}: {what}\n\n")
        for operation, modes in sorted(operations.items()):
            out.append(f"- {operation} ({', '.join(sorted(modes))})\n")
    return "".join(out)
