"""The appcdn program, as ``pulumi up`` runs it: this stack's config (and its peers' stack files) → resources."""

from pathlib import Path

from appcdn.program.stack_program import declare, export, load

export(declare(*load(Path(__file__).resolve().parent)))
