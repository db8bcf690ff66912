"""Parses a /metrics answer (stdin) with prometheus_client's own parser, the one Prometheus'
Python tooling uses, and prints its samples as JSON: {"name{label=value,...}": value}. Fails on
anything the parser refuses."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = {}
types = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    types[family.name] = family.type
    for sample in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
        samples[f"{sample.name}{{{labels}}}"] = sample.value
print(json.dumps({"samples": samples, "types": types}))
