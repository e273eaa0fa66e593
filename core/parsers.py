"""The API's JSON parser: REST framework's, bounded in size and in depth.

Python's JSON decoder recurses once per level of nesting: a body nested a thousand deep raised RecursionError,
a 500, on every JSON endpoint, the anonymous token endpoint included. No CityOps payload is nested more than a
few levels, so a body deeper than MAX_JSON_DEPTH, or larger than DATA_UPLOAD_MAX_MEMORY_SIZE (which Django checks
only against the declared Content-Length), is a 400 ParseError that says which limit it passed; the depth is
measured without recursion, before the decoder sees the body.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# A JSON string, escapes included: its brackets are text, not nesting.
STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
# An array or object with no other inside it.
INNERMOST = re.compile(r"\[\]|\{\}")


def check_nesting(text: str, limit: int) -> None:
    """Refuse JSON nested more than `limit` deep: each pass takes away the innermost arrays and objects, one
    level of nesting, so that a body is measured in at most `limit` + 1 passes whatever its depth."""
    skeleton = NOT_A_BRACKET.sub("", STRING.sub("", text))
    if skeleton.count("[") + skeleton.count("{") <= limit:
        return  # not enough brackets to go deeper; the decoder tells if they are unbalanced
    depth = 0
    while skeleton:
        skeleton, removed = INNERMOST.subn("", skeleton)
        if not removed:
            # Brackets that never close: the decoder would recurse into every one of them.
            raise ParseError(_("JSON parse error - the brackets do not match."))
        depth += 1
        if depth > limit:
            raise ParseError(_("The JSON body is nested more than %(limit)d levels deep.") % {"limit": limit})


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # REST framework's own choice of charset, which refuses codecs that are not text (bz2_codec and the like).
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(_("The JSON body is larger than %(limit)s MB.") % {"limit": f"{limit / 2**20:g}"})
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(_("JSON parse error - the body is not %(encoding)s text.") % {"encoding": encoding}) \
                from None
        check_nesting(text, settings.MAX_JSON_DEPTH)
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": error}) from None
