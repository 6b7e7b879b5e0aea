#!/usr/bin/python3
"""schema-check.py SCHEMA FILE...: validates each FILE (JSON, or YAML when it ends in .yaml or
.yml) against the JSON Schema SCHEMA (draft 7) with Debian's python3-jsonschema; prints one
line per problem, "FILE: path.to.field: message", and exits 1 when there is any.

YAML is read as lifeboat reads it (libyaml, YAML 1.2's core schema): only true and false are
booleans, so a key such as `yes:` stays the string "yes", as for yaml-language-server."""
import json
import re
import sys

import jsonschema
import yaml


class Loader(yaml.SafeLoader):
    pass


# YAML 1.1's yes/no/on/off booleans out, 1.2's true/false in.
Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for first in "tTfF":
    Loader.yaml_implicit_resolvers.setdefault(first, []).insert(
        0, ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")))


def load(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith((".yaml", ".yml")):
            return yaml.load(f, Loader=Loader)
        return json.load(f)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    schema = load(sys.argv[1])
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        for err in sorted(validator.iter_errors(load(path)), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in err.path) or "(top)"
            print("%s: %s: %s" % (path, where, err.message))
            bad += 1
    sys.exit(1 if bad else 0)


main()
