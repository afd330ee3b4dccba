"""How the packs word things: Welsh never mutates a name it cannot see; Polish says "ty" throughout.

Welsh texts never put a name straight after a word that mutates it or changes with it.

In Welsh "i", "ar", "o", "gan" soft-mutate the next word (i Gaerdydd), "yn" nasal-mutates a place
(yng Nghaerdydd), "a", "â", "gyda", "na" aspirate it and become "ac", "ag", "nac" before a vowel
(Elm Street ac Oak Road). The right form depends on the first letter of what the placeholder
holds, which a template cannot know, so no Welsh text puts a placeholder holding words (an
area's name, a person's, a list of them) straight after such a word: the sentence is written
around it instead ("yn ardal %(area)s", "ar fwrdd %(area)s", "Eich ardaloedd: %(names)s").
Placeholders holding digits, refs, codes, times or keywords (which do not mutate) may follow.

Polish texts speak to a resident as "ty" (informal singular: Wyślij, Twój, Cię), as a neighbour
would: never "Pan/Pani/Państwo", never the plural "wy" (wyślijcie, Wasz), and the pronouns
capitalised alike (Twój, Cię), as Polish letters write them.
"""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from sms_board.text import languages

# Words after which the next word mutates or the word itself alternates before a vowel.
MUTATING = ("a", "â", "ac", "ag", "gyda", "efo", "na", "nac", "i", "ar", "o", "gan", "am", "at", "dros", "drwy",
            "trwy", "wrth", "heb", "hyd", "dan", "tan", "yn", "ei", "dy", "neu", "pa", "dau", "dwy", "tri", "tair")
# Placeholders that hold no word a mutation could reach: numbers, refs, codes, times, keywords, addresses.
NOT_WORDS = frozenset({"ref", "count", "code", "at", "until", "held_at", "cap", "needed", "room", "address", "number",
                       "keyword", "which", "answer", "each", "cost", "choices", "refs", "more", "minutes", "ago"})
_FOLLOWS = re.compile(rf"(?<![\w'’%])({'|'.join(MUTATING)})\s+%\((\w+)\)s", re.IGNORECASE)


def texts(code: str) -> list[tuple[str, str]]:
    with (languages.packs_folder() / code / "LC_MESSAGES" / "sms.po").open("rb") as handle:
        catalog = read_po(handle, locale=code)
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        found += [(msgid, string) for string in dict.fromkeys(strings)]
    return found


def test_no_welsh_text_puts_a_name_straight_after_a_word_that_mutates_it():
    wrong = [(word, name, text) for _msgid, text in texts("cy") for word, name in _FOLLOWS.findall(text)
             if name not in NOT_WORDS]
    assert wrong == [], "write the sentence around the name (yn ardal %(area)s, ar fwrdd %(area)s, a colon)"


def test_the_check_catches_a_name_after_i_and_a_list_after_a():
    assert _FOLLOWS.findall("Postiwyd fel #%(ref)s i %(area)s.") == [("i", "area")]
    assert _FOLLOWS.findall("%(first)s a %(last)s") == [("a", "last")]
    assert _FOLLOWS.findall("Postiwyd fel #%(ref)s ar fwrdd %(area)s.") == []
    assert _FOLLOWS.findall("Tecstiwch YMUNO %(keyword)s i'w roi") == []


# Formal address, or "wy" where one person is spoken to; and the "ty" pronouns written in lower case.
_NOT_TY = re.compile(r"\b(Pan|Pani|Pana|Panu|Państw\w*|Wasz\w*|wasz\w*|Was|Wam|\w+(?:ij|isz|dź|cz)cie|jesteście|"
                     r"możecie|macie)\b")
_LOWER_TY = re.compile(r"\b(tw(?:ój|oj\w*|oi\w*)|cię|ci|tobie|ciebie)\b")


def test_polish_texts_say_ty_to_a_resident_throughout():
    formal = [(found, text) for _msgid, text in texts("pl") for found in _NOT_TY.findall(text)]
    lower = [(found, text) for _msgid, text in texts("pl") for found in _LOWER_TY.findall(text)]
    assert formal == [] and lower == []
    informal = [text for _msgid, text in texts("pl") if re.search(r"\b(Wyślij|Odpisz|Twój|Twoja|Twoje|Cię)\b", text)]
    assert len(informal) > 50


def test_the_register_check_catches_formal_and_plural_address():
    assert _NOT_TY.findall("Proszę Pana o odpowiedź. Wyślijcie DOŁĄCZ.") == ["Pana", "Wyślijcie"]
    assert _LOWER_TY.findall("Połączymy cię z twoim sąsiadem.") == ["cię", "twoim"]
