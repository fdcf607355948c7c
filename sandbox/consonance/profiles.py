"""Sandbox profiles: other Consonance servers the app was not written for, built from the one SDL.

- `full`: schema.graphql as it is (every `# assumption` in place) — the server the app was written for.
- `documented-only`: every field, argument, enum value, input field and type marked `# assumption`
  removed; what remains is what Consonance's public docs show. Lists take no paging arguments
  and answer with every match.
- `introspection-refused`: the documented-only schema, refusing `__schema` / `__type`.
- `cursor`: the assumptions kept, but lists page by cursor (`first`, `after` = the last id read) and
  there are no `*Count` roots.
- `other-names`: the assumptions kept, but notes are written by `addWorkNote(input: {workId, content})`
  and read as `content`, and to-dos are `WorkTodo` (`Work.todos`, `createWorkTodo`, ...).
Where the profile lacks a field, the resolvers are the same: a server simply never gets asked for it.
"""

from __future__ import annotations

import re
from functools import cache

from . import SCHEMA_PATH

PROFILES = ("full", "documented-only", "introspection-refused", "cursor", "other-names")
DEFINITION = re.compile(r"^\s*(type|input|enum|interface|union)\s+([A-Za-z_]\w*)")


def check(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"unknown sandbox profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


def introspection_allowed(profile: str) -> bool:
    return profile != "introspection-refused"


@cache
def schema_text(profile: str) -> str:
    sdl = SCHEMA_PATH.read_text(encoding="utf-8")
    if profile in ("documented-only", "introspection-refused"):
        return documented_only(sdl)
    if profile == "cursor":
        return cursor_paging(sdl)
    if profile == "other-names":
        return other_names(sdl)
    return sdl


# --- documented-only -------------------------------------------------------------------------------


def _marked(line: str) -> bool:
    code, _, comment = line.partition("#")
    return bool(code.strip()) and comment.lstrip().startswith("assumption")


def documented_only(sdl: str) -> str:
    """The SDL without anything marked `# assumption` (scalars stay: they only name the date formats)."""
    lines = sdl.splitlines()
    kept: list[str] = []
    skip_depth = 0
    for line in lines:
        code = line.partition("#")[0]
        opens = code.count("{") + code.count("(") - code.count("}") - code.count(")")
        if skip_depth:
            skip_depth += opens
            continue
        if _marked(line) and not code.lstrip().startswith("scalar"):
            skip_depth = max(opens, 0)
            continue
        kept.append(code.rstrip() if code.strip() else "")
    text = "\n".join(kept)
    text = re.sub(r"\(\s*\)", "", text)  # a field whose every argument was an assumption
    return _without_dangling_types(text)


def _without_dangling_types(sdl: str) -> str:
    """Drop types nothing refers to any more, and fields whose type was dropped with its block."""
    while True:
        defined = {m.group(2) for line in sdl.splitlines() if (m := DEFINITION.match(line))}
        defined |= {"String", "Int", "Float", "Boolean", "ID", "ISO8601Date", "ISO8601DateTime", "Query", "Mutation"}
        lines, changed = sdl.splitlines(), False
        out = []
        for line in lines:
            if DEFINITION.match(line) or line.lstrip().startswith(("scalar", '"')):
                out.append(line)
                continue
            names = set(re.findall(r":\s*\[?([A-Za-z_]\w*)", line))
            if names - defined:
                changed = True
                continue
            out.append(line)
        sdl = "\n".join(out)
        if not changed:
            return sdl


# --- variants --------------------------------------------------------------------------------------


def cursor_paging(sdl: str) -> str:
    """Lists page by `first` / `after` (ids ascending); no `*Count` roots."""
    sdl = re.sub(r"page: Int = 1 #[^\n]*", "after: ID # variant: cursor paging; the last id already read", sdl)
    sdl = re.sub(r"perPage: Int = 100 #[^\n]*", "first: Int = 100 # variant: cursor paging", sdl)
    return "\n".join(line for line in sdl.splitlines() if not re.match(r"\s*\w+Count\(", line))


def other_names(sdl: str) -> str:
    """Notes by `addWorkNote(input: {workId, content})`, to-dos as `WorkTodo` / `Work.todos`."""
    sdl = sdl.replace(
        "createWorkNote(input: CreateWorkNoteInput!): CreateWorkNotePayload!",
        "addWorkNote(input: AddWorkNoteInput!): AddWorkNotePayload!",
    )
    sdl = sdl.replace("CreateWorkNoteInput", "AddWorkNoteInput").replace("CreateWorkNotePayload", "AddWorkNotePayload")
    sdl = re.sub(r"(input AddWorkNoteInput \{[^}]*?)noteText: String!", r"\1content: String!", sdl)
    sdl = re.sub(r"(type Note \{[^}]*?)\n  noteText: String\n", r"\1\n", sdl)
    sdl = sdl.replace("WorkTask", "WorkTodo")
    sdl = sdl.replace(
        "tasks(statusIn: [WorkTodoStatus!]): [WorkTodo!]!", "todos(statusIn: [WorkTodoStatus!]): [WorkTodo!]!"
    )
    sdl = re.sub(r"(type WorkTodoPayload \{[^}]*?)task: WorkTodo", r"\1todo: WorkTodo", sdl)
    return sdl
