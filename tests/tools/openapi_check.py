"""Reads an OpenAPI document exported by Fusio with third-party libraries
and checks it against what /doc says.

Usage: openapi_check.py OPENAPI_JSON EXPECTED_JSON

The document must pass openapi-spec-validator and load in openapi-core;
EXPECTED_JSON lists, per operation that /doc documents, its OpenAPI path,
method, parameter names and scopes, and each must be found in the document
as openapi-core reads it. Prints what is missing and exits 1, else 0.
"""

import json
import sys

from openapi_core import OpenAPI
from openapi_spec_validator import validate


def main(document_path, expected_path):
    with open(document_path) as f:
        document = json.load(f)
    with open(expected_path) as f:
        expected = json.load(f)
    validate(document)
    api = OpenAPI.from_dict(document)
    paths = api.spec / "paths"
    problems = []
    for entry in expected:
        if entry["path"] not in paths:
            problems.append(f"no path {entry['path']}")
            continue
        item = paths / entry["path"]
        method = entry["method"].lower()
        if method not in item:
            problems.append(f"no {entry['method']} {entry['path']}")
            continue
        operation = item / method
        names = set()
        if "parameters" in operation:
            for parameter in operation / "parameters":
                with parameter.open() as p:
                    names.add((p["name"], p["in"]))
        for name in entry["query"]:
            if (name, "query") not in names:
                problems.append(f"{entry['method']} {entry['path']}: no query parameter {name}")
        for name in entry["pathParameters"]:
            if (name, "path") not in names:
                problems.append(f"{entry['method']} {entry['path']}: no path parameter {name}")
        with (operation / "security").open() as security:
            granted = sorted(s for requirement in security for scopes in requirement.values() for s in scopes)
        if granted != sorted(entry["scopes"]):
            problems.append(f"{entry['method']} {entry['path']}: scopes {granted}, /doc says {entry['scopes']}")
        scheme_scopes = document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]
        for scope in entry["scopes"]:
            if scope not in scheme_scopes:
                problems.append(f"the OAuth2 scheme does not list the scope {scope}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
