"""Employers as the app matches them: one key for the spellings of one name.

"ACME Packing, LLC", "Acme Packing LLC" and "acme  packing" are one employer:
case, punctuation, accents, a leading "the" and legal-form suffixes do not
count. The key is stored beside the name so that reports and complaints about
one employer group together in an index.
"""
from __future__ import annotations

import re
import unicodedata

# Legal forms that end a name without telling two employers apart.
_SUFFIXES = {"llc", "inc", "incorporated", "co", "corp", "corporation", "company", "ltd", "limited", "lp", "llp",
             "pc", "pllc", "plc", "sa", "sas", "srl"}
_SPANISH_FORM = ["sa", "de", "cv"]  # "S.A. de C.V."
_WORD = re.compile(r"[a-z0-9]+")


def employer_key(name: str) -> str:
    """The matching key of an employer's name ("" for a name with no letters or digits)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    # "S.A." and "L.L.C." are one word each; "&" is "and".
    words = _WORD.findall(plain.replace(".", "").replace("&", " and "))
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1:
        if words[-3:] == _SPANISH_FORM and len(words) > 3:
            words = words[:-3]
        elif words[-1] in _SUFFIXES:
            words = words[:-1]
        else:
            break
    return " ".join(words)[:200]
