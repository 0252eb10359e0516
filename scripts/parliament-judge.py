"""Runs parliament over IAM, trust and resource policy documents.

Reads a JSON list of {"name", "document"} on stdin (each document a JSON string) and writes a JSON
list of findings, {"name", "issue", "severity", "title", "detail", "location"}, on stdout. Called by
test/parliament.test.ts with the Python of scripts/install-parliament.sh.
"""
import json
import sys

from parliament import analyze_policy_string


def main() -> None:
    findings = []
    for item in json.load(sys.stdin):
        policy = analyze_policy_string(item["document"], include_community_auditors=False)
        for f in policy.findings:
            findings.append(
                {
                    "name": item["name"],
                    "issue": f.issue,
                    "severity": f.severity,
                    "title": f.title,
                    "detail": f.detail if isinstance(f.detail, str) else json.dumps(f.detail, default=str),
                    "location": json.dumps(f.location, default=str),
                }
            )
    json.dump(findings, sys.stdout)


if __name__ == "__main__":
    main()
