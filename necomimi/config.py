"""Validate a workflow config against its JSON schema, naming every offending key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """A config that does not match the schema; the message names each bad key."""


def _key_path(parts) -> str:
    names = [str(p) if isinstance(p, str) else f"[{p}]" for p in parts]
    return ".".join(names).replace(".[", "[") or "<top level>"


def _walk(node, path):
    for part in path:
        node = node[part]
    return node


def _alternative_errors(error: jsonschema.ValidationError):
    """The errors of every alternative of a oneOf/anyOf error, nested ones flattened."""
    for sub in error.context:
        if sub.validator in ("oneOf", "anyOf") and sub.context:
            yield from _alternative_errors(sub)
        else:
            yield sub


def _describe(error: jsonschema.ValidationError, schema: dict, config: Mapping) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # Of alternatives that all fail, name what is wrong in the one the value comes
        # closest to (not only "is not valid under any of the given schemas"): skip
        # alternatives of another type, then take the error deepest in the value.
        candidates = [e for e in _alternative_errors(error) if e.validator != "type"]
        if candidates:
            best = max(candidates, key=lambda e: (len(e.absolute_path), e.validator != "enum"))
            return _describe(best, schema, config)
    where = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        prefix = f"{where}." if error.absolute_path else ""
        names = ", ".join(f"'{prefix}{key}'" for key in unknown)
        return f"unknown key {names}; allowed keys here: {', '.join(allowed)}"
    if error.validator is None:
        # `properties: {key: false}` (a key forbidden in this case) reports the
        # enclosing object; name the forbidden keys that are set.
        properties = _walk(schema, error.absolute_schema_path)
        instance = _walk(config, error.absolute_path)
        keys = [k for k, sub in properties.items() if sub is False and k in instance]
        names = ", ".join(f"'{_key_path([*error.absolute_path, k])}'" for k in keys)
        return f"{names} is not allowed here (see the description of '{where}' in the schema)"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"'{where}': {error.message}"


def load_schema(schema_path: str | Path) -> dict:
    """Read a YAML (or JSON) schema file."""
    with open(schema_path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def check_config(config: Mapping, schema_path: str | Path) -> None:
    """Raise :class:`ConfigError` unless ``config`` matches the schema.

    Every violation is reported, one per line, with the dotted key it concerns, so
    that ``snakemake --config not_a_key=1`` stops before any job with a message that
    names ``not_a_key``.

    Parameters
    ----------
    config : Mapping
        The merged Snakemake config (config files plus ``--config`` overrides).
    schema_path : str or Path
        JSON schema in YAML form (``workflow/schemas/config.schema.yaml``).
    """
    schema = load_schema(schema_path)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: list(e.absolute_path))
    if errors:
        lines = "\n".join(f"  - {_describe(error, schema, config)}" for error in errors)
        raise ConfigError(f"invalid config (described in {Path(schema_path).name}):\n{lines}")


def config_slice(mapping: Mapping) -> dict:
    """A config section with its keys sorted, at every depth, for a rule's ``params``.

    Snakemake decides a rerun by comparing a job's ``params`` with those recorded when
    its outputs were made, as text. Sorting the keys keeps that comparison about the
    values: reordering the keys of a config file reruns nothing. Only pass sections
    whose key order carries no meaning (not ``conditions``, whose order is the order
    of the outputs). Lists keep their order.
    """
    return {key: config_slice(value) if isinstance(value, Mapping) else value for key, value in sorted(mapping.items())}
