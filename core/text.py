"""Text as search compares it: lower case, without Vietnamese diacritics (đ = d), spaces collapsed; and its
words, letters and digits only.

"Vĩnh Bảo", "vinh bao" and "VINH  BẢO" are one text here, and "SXD-261208-0002" is the words sxd, 261208 and
0002, whichever database splits it.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFD does not take apart into a base letter and a mark.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of `text`, normalised: nothing else typed is kept, so nothing is read as query syntax."""
    return _WORD.findall(normalise(text))
