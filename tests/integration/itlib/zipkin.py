"""Span validation: the Zipkin v2 `Span` schema from the shared spec, plus sockspan's own contract.

The spec is the copy vendored in <repo>/tests/spec/zipkin2-api.yaml (make
spec-check keeps it equal to the reference); SOCKSPAN_ZIPKIN_SPEC overrides
the path. PROTO is the zipkin.proto the agent is built from.
"""
import os
import re
import warnings
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[3]
SPEC = Path(os.environ.get("SOCKSPAN_ZIPKIN_SPEC", REPO / "tests" / "spec" / "zipkin2-api.yaml"))
PROTO = REPO / "user" / "export" / "zipkin.proto"

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")
NAME = re.compile(r"[a-z]+ /\S*")
TAG_KEYS = {"http.method", "http.path", "http.status_code", "process.pid"}


@lru_cache(maxsize=None)
def span_validator():
    """A validator for {'$ref': '#/definitions/Span'} whose refs resolve inside the whole spec."""
    if not SPEC.is_file():
        raise AssertionError(f"Zipkin spec not found at {SPEC}")
    doc = yaml.safe_load(SPEC.read_text())
    with warnings.catch_warnings():
        # RefResolver is deprecated in jsonschema >= 4.18 but is what Debian 12 ships (4.10).
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver(base_uri=SPEC.as_uri(), referrer=doc)
    # Swagger 2.0 schemas are JSON Schema draft 4.
    return jsonschema.Draft4Validator({"$ref": "#/definitions/Span"}, resolver=resolver,
                                      format_checker=jsonschema.FormatChecker())


def schema_errors(span):
    """Messages for every way span violates the spec's Span definition ([] when valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '<span>'}: {e.message}"
            for e in span_validator().iter_errors(span)]


def _endpoint_errors(where, ep, want_service):
    errs = []
    if not isinstance(ep, dict):
        return [f"{where} missing"]
    if want_service and not ep.get("serviceName"):
        errs.append(f"{where}.serviceName missing")
    if not isinstance(ep.get("port"), int) or not 0 < ep["port"] < 65536:
        errs.append(f"{where}.port invalid: {ep.get('port')!r}")
    if ("ipv4" in ep) == ("ipv6" in ep):
        errs.append(f"{where} must carry exactly one of ipv4/ipv6: {ep}")
    return errs


def contract_errors(span):
    """Ways span breaks what sockspan promises beyond the Zipkin schema ([] when it keeps it).

    The schema's patterns are unanchored and most fields optional; sockspan
    promises 128-bit trace ids, a kind, both endpoints and the HTTP tags.
    """
    errs = []
    if not HEX32.fullmatch(str(span.get("traceId"))):
        errs.append(f"traceId is not 32 lowercase hex: {span.get('traceId')!r}")
    if not HEX16.fullmatch(str(span.get("id"))):
        errs.append(f"id is not 16 lowercase hex: {span.get('id')!r}")
    if span.get("kind") not in ("SERVER", "CLIENT"):
        errs.append(f"kind is not SERVER/CLIENT: {span.get('kind')!r}")
    if not NAME.fullmatch(str(span.get("name"))):
        errs.append(f"name is not '<method> <path>' in lowercase: {span.get('name')!r}")
    ts, dur = span.get("timestamp"), span.get("duration")
    if not isinstance(ts, int) or ts <= 0:
        errs.append(f"timestamp missing or not positive: {ts!r}")
    if not isinstance(dur, int) or dur < 1:
        errs.append(f"duration missing or < 1: {dur!r}")
    errs += _endpoint_errors("localEndpoint", span.get("localEndpoint"), True)
    errs += _endpoint_errors("remoteEndpoint", span.get("remoteEndpoint"), False)
    tags = span.get("tags")
    if not isinstance(tags, dict):
        return errs + ["tags missing"]
    missing = TAG_KEYS - tags.keys()
    if missing:
        return errs + [f"tags missing {sorted(missing)}"]
    if not all(isinstance(v, str) for v in tags.values()):
        return errs + [f"tag values must be strings: {tags}"]
    method, path, status = tags["http.method"], tags["http.path"], tags["http.status_code"]
    if not re.fullmatch(r"[A-Z]+", method):
        errs.append(f"http.method not an uppercase token: {method!r}")
    elif isinstance(span.get("name"), str) and not span["name"].startswith(method.lower() + " "):
        errs.append(f"name {span['name']!r} does not start with the lowercase method {method!r}")
    if not path.startswith("/") or "?" in path:
        errs.append(f"http.path must be the path without query: {path!r}")
    if not re.fullmatch(r"[1-5][0-9][0-9]", status):
        errs.append(f"http.status_code not a 3-digit status: {status!r}")
    elif int(status) >= 500 and tags.get("error") != status:
        errs.append(f"status {status} but tag error={tags.get('error')!r} (want {status!r})")
    elif int(status) < 500 and "error" in tags:
        errs.append(f"status {status} < 500 but tag error={tags['error']!r}")
    if not tags["process.pid"].isdigit():
        errs.append(f"process.pid not a pid: {tags['process.pid']!r}")
    return errs
