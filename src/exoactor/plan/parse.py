"""The rules planner's parser: an instruction -> clauses (one verb = an *intent*, with its objects
and their roles), in the order they are to be done, pronouns bound ("put it in the basket")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from exoactor.plan import vocab

_TOKEN = re.compile(r"[a-z0-9]+|[,.;!?]")
_ARTICLES = frozenset({"a", "an", "the", "this", "that", "my", "your", "its"})
#: the multi-word verbs, longest first
_MULTI_VERBS = sorted((tuple(k.split()) for k in vocab.VERBS if " " in k), key=len, reverse=True)


@dataclass
class Mention:
    """An object named in a clause, with the preposition before it (None: direct object)."""

    name: str
    word: str
    prep: str | None
    used: bool = False  # resolved by the grammar; an unused mention is reported


@dataclass
class Clause:
    """One verb with its particles, objects and modifiers."""

    intent: str
    verb: str
    particles: list[str] = field(default_factory=list)
    objects: list[Mention] = field(default_factory=list)
    hand: str | None = None
    directions: list[str] = field(default_factory=list)
    upright: bool = False
    qualifiers: list[str] = field(default_factory=list)  # "with the bottle": describes another object
    qualifiers_used: bool = False
    link: str = "and"  # how it joins the clause before: and | after | before | first | while
    opens_sentence: bool = True  # the first clause of its sentence
    sentence: int = 0
    text: str = ""  # the clause's words, for notes


def _lemma(word: str) -> str:
    """The known form of a word: plurals and -ing/-ed/-s verb forms fall back to their stem."""
    if _known(word):
        return word
    for cut, add in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e")):
        if word.endswith(cut) and len(word) > len(cut) + 2:
            stem = word[: -len(cut)] + add
            if _known(stem):
                return stem
            # "putting" -> "put", "dropped" -> "drop": a doubled final consonant
            if not add and cut in ("ing", "ed") and len(stem) > 2 and stem[-1] == stem[-2] and _known(stem[:-1]):
                return stem[:-1]
    return word


def _known(word: str) -> bool:
    return (
        word in vocab.VERBS
        or word in vocab.OBJECT_WORDS
        or word in vocab.PREPOSITIONS
        or word in vocab.CONJUNCTIONS
        or word in vocab.FILLER
        or word in vocab.DIRECTIONS
        or word in vocab.HAND_WORDS
        or word in vocab.PRONOUNS
        or word in vocab.UPRIGHT_WORDS
        or word.isdigit()
        or any(word in k.split() for k in vocab.VERBS)
    )


def _words(text: str) -> list[str]:
    text = text.lower().replace("'s", "").replace("’s", "").replace("’", "'")
    return _TOKEN.findall(text)


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens, with known stems for plurals and verb forms."""
    return [_lemma(t) for t in _words(text)]


def _match_verb(tokens: list[str], i: int) -> tuple[str, int] | None:
    """(verb key, length) of the verb starting at tokens[i], multi-word verbs first."""
    for words in _MULTI_VERBS:
        if tuple(tokens[i : i + len(words)]) == words:
            return " ".join(words), len(words)
    if tokens[i] in vocab.VERBS:
        return tokens[i], 1
    return None


def _skip_phrase(tokens: list[str], i: int) -> int:
    """The length of a politeness or filler phrase at tokens[i] ("go ahead and", "make sure"), else 0."""
    for phrase in vocab.FILLER_PHRASES:
        words = phrase.split()
        if tuple(tokens[i : i + len(words)]) == tuple(words):
            return len(words)
    return 0


def _link(conjunctions: list[str]) -> str:
    """How a clause joins the one before, from the conjunctions between them.

    "after that" / "afterwards" / "then" keep the order; "after X" and "once X" put X first;
    "before X" puts X last; "but first" / "before that" put this clause before the previous one.
    """
    link = "and"
    for i, w in enumerate(conjunctions):
        nxt = conjunctions[i + 1] if i + 1 < len(conjunctions) else ""
        if w in ("after", "before") and nxt == "that":
            link = "and" if w == "after" else "first"
        elif w in ("after", "once", "when"):
            link = "after"
        elif w in ("before", "first", "while"):
            link = w
        elif w in ("then", "afterwards", "next", "finally", "later"):
            link = "and"
    return link


def parse(text: str) -> tuple[list[Clause], list[str]]:
    """Split an instruction into clauses and collect the words that were not understood.

    Returns:
        (clauses in text order, unknown words in order of appearance, without repeats)
    """
    raw = _words(text)
    tokens = [_lemma(t) for t in raw]
    clauses: list[Clause] = []
    unknown: list[str] = []
    current: Clause | None = None
    prep: str | None = None
    prev = ""
    joiners: list[str] = []  # conjunctions since the last clause
    sentence, opens = 0, True
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        skip = _skip_phrase(tokens, i)
        if skip:
            i += skip
            continue
        if tok in ",.;!?" or (tok in vocab.CONJUNCTIONS and not (tok == "next" and nxt == "to")):
            if tok in ".;!?":
                sentence, opens, joiners = sentence + 1, True, []
            elif tok != ",":
                joiners.append(tok)
                if tok in ("after", "before") and nxt == "that":  # "after that": a conjunction, not an article
                    joiners.append("that")
                    i += 1
            prep, prev = None, tok
            i += 1
            continue
        # "-ing" forms after an object describe it ("the bottle standing upright"), they start no clause
        ing_modifier = raw[i].endswith("ing") and (prev in vocab.OBJECT_WORDS or prev in vocab.PRONOUNS)
        # no verb right after an article or a place preposition ("in place"); "to" may start one ("I want you to wipe")
        after_prep = prev in vocab.DEST_PREPS and (prev != "to" or current is not None)
        verb = None if prev in _ARTICLES or after_prep or ing_modifier else _match_verb(tokens, i)
        # an object word right after a verb's preposition is an object, not a verb ("walk to the cross")
        if verb is not None and tok in vocab.OBJECT_WORDS and current is not None and prep is not None:
            verb = None
        if verb is not None:
            key, n = verb
            current = Clause(
                intent=vocab.VERBS[key], verb=key, link=_link(joiners), opens_sentence=opens, sentence=sentence
            )
            current.text = key
            clauses.append(current)
            joiners, opens = [], False
            prep, prev = None, tokens[i + n - 1]
            i += n
            continue
        if current is not None and tok not in vocab.FILLER:
            current.text += f" {raw[i]}"
        if tok in vocab.OBJECT_WORDS or tok in vocab.PRONOUNS:
            if current is not None:
                name = vocab.OBJECT_WORDS.get(tok, "it")
                last = current.objects[-1] if current.objects else None
                if last is not None and prev in vocab.OBJECT_WORDS and tok in vocab.OBJECT_WORDS and last.word == prev:
                    current.objects[-1] = Mention(name=name, word=tok, prep=last.prep)  # "the soda can"
                elif prep == "with" and tok not in vocab.PRONOUNS:
                    current.qualifiers.append(name)
                else:
                    current.objects.append(Mention(name=name, word=tok, prep=prep))
            prep, prev = None, tok
            i += 1
            continue
        if tok in vocab.HAND_WORDS and nxt in ("hand", "hands", "arm", "arms"):
            if current is not None:
                current.hand = vocab.HAND_WORDS[tok]
            prep, prev = None, nxt
            i += 2
            continue
        if current is not None and tok in vocab.DIRECTIONS and not (tok == "around" and _object_ahead(tokens, i)):
            current.directions.append(vocab.DIRECTIONS[tok])
        if current is not None and (tok in vocab.UPRIGHT_WORDS or (tok == "stand" and ing_modifier)):
            current.upright = True
        if tok in vocab.PREPOSITIONS:
            if current is not None and not current.objects and prep is None and tok not in ("to", "for", "of"):
                current.particles.append(tok)
            keep = prep is not None and (
                tok in ("of", "top") or (prep == "next" and tok == "to")
            )  # "next to", "on top of"
            prep = prep if keep else tok
        elif not _known(tok):
            if tok not in unknown:
                unknown.append(tok)
        prev = tok
        i += 1
    for c in clauses:
        _refine(c)
    return clauses, unknown


def _refine(c: Clause) -> None:
    """Verbs whose meaning depends on their objects: "stand the bottle upright" places it upright;
    "stand next to the table" goes there."""
    if c.intent != "stand" or not c.objects:
        return
    if any(m.prep in (None, "up") for m in c.objects):
        c.intent, c.upright = "place", True
    else:
        c.intent = "go"


def order_clauses(clauses: list[Clause]) -> list[Clause]:
    """The clauses in the order they are to be done ("sit after wiping the table": wipe, then sit).

    A leading "before X, Y" does X after the rest of its sentence; "Y after X" and "Y, but first X"
    do X before the clause just before it; everything else keeps the text order.
    """
    order: list[Clause] = []
    deferred: list[Clause] = []
    sentence = None
    for c in clauses:
        if c.sentence != sentence:
            order += deferred
            deferred, sentence = [], c.sentence
        if c.link == "before" and c.opens_sentence:
            deferred.append(c)
        elif c.link in ("after", "first") and not c.opens_sentence and order and order[-1].sentence == c.sentence:
            order.insert(len(order) - 1, c)
        else:
            order.append(c)
    return order + deferred


def bind_pronouns(clauses: list[Clause]) -> None:
    """Tie "it" to an object by the text (the last direct object before it, else the last object
    named before it, else the first direct object after it) -- needed once the order changes."""
    mentions = [(ci, m) for ci, c in enumerate(clauses) for m in c.objects]
    for k, (ci, m) in enumerate(mentions):
        if m.name != "it":
            continue
        before = [x for cj, x in mentions[:k] if x.name != "it" and cj < ci]
        after = [x for _, x in mentions[k + 1 :] if x.name != "it"]
        direct = [x for x in before if x.prep is None]
        later = [x for x in after if x.prep is None] or after
        source = (direct or before)[-1] if before else later[0] if later else None
        if source is not None:
            m.name, m.word = source.name, source.word


def _object_ahead(tokens: list[str], i: int) -> bool:
    """Whether an object word follows tokens[i] before the next verb or conjunction."""
    for t in tokens[i + 1 : i + 4]:
        if t in vocab.OBJECT_WORDS or t in vocab.PRONOUNS:
            return True
        if t in vocab.VERBS or t in vocab.CONJUNCTIONS or t in ",.;!?":
            return False
    return False
