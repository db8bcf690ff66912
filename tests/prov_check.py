#!/usr/bin/env python3
"""Checks PROV-JSON documents as an independent reader would: against the PROV-JSON schema the
`prov` package ships, then loaded with `prov` with its warnings as errors, then typed (entities,
activities and agents disjoint; each relation's roles naming declared records of their kind),
then for a derivation cycle. Usage: prov_check.py FILE...; exit 0 when every file passes, 1 naming the first failure."""
import json
import os
import sys
import warnings

import jsonschema
import prov
import prov.model


def check(path):
    with open(path) as f:
        text = f.read()
    document = json.loads(text)
    schema_path = os.path.join(os.path.dirname(prov.__file__), "tests", "schemas", "prov-json.schema.json")
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.validate(document, schema)
    with warnings.catch_warnings():
        warnings.simplefilter("error", prov.model.ProvWarning)
        loaded = prov.model.ProvDocument.deserialize(content=text, format="json")
    if not loaded.get_records():
        raise ValueError("no records")
    typecheck(document)
    edges = {}
    for relation in document.get("wasDerivedFrom", {}).values():
        edges.setdefault(relation["prov:generatedEntity"], []).append(relation["prov:usedEntity"])
    state = {}

    def visit(node, path):
        if state.get(node) == "done":
            return
        if state.get(node) == "open":
            raise ValueError("a derivation cycle: " + " -> ".join(path + [node]))
        state[node] = "open"
        for used in edges.get(node, []):
            visit(used, path + [node])
        state[node] = "done"

    sys.setrecursionlimit(100000)
    for node in list(edges):
        visit(node, [])
    return len(loaded.get_records())


# Which kind of record each relation's roles name (PROV-CONSTRAINTS' typing).
ROLES = {
    "wasGeneratedBy": {"prov:entity": "entity", "prov:activity": "activity"},
    "used": {"prov:activity": "activity", "prov:entity": "entity"},
    "wasDerivedFrom": {"prov:generatedEntity": "entity", "prov:usedEntity": "entity"},
    "wasAssociatedWith": {"prov:activity": "activity", "prov:agent": "agent"},
    "wasAttributedTo": {"prov:entity": "entity", "prov:agent": "agent"},
    "wasInfluencedBy": {"prov:influencee": None, "prov:influencer": None},
}


def typecheck(document):
    """Entities, activities and agents are disjoint, and every relation names declared records of
    the kinds its roles take."""
    kinds = {}
    for kind in ("entity", "activity", "agent"):
        for name in document.get(kind, {}):
            if name in kinds:
                raise ValueError(f"{name} is both {kinds[name]} and {kind}")
            kinds[name] = kind
    for relation, roles in ROLES.items():
        for rid, body in document.get(relation, {}).items():
            for role, kind in roles.items():
                name = body.get(role)
                if name not in kinds:
                    raise ValueError(f"{relation} {rid}: {role} {name} is not declared")
                if kind and kinds[name] != kind:
                    raise ValueError(f"{relation} {rid}: {role} {name} is a {kinds[name]}, not an {kind}")


def main():
    for path in sys.argv[1:]:
        try:
            records = check(path)
        except Exception as e:  # every failure is the file's
            print(f"{path}: {type(e).__name__}: {e}")
            return 1
        print(f"{path}: valid PROV-JSON, {records} records, derivations acyclic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
