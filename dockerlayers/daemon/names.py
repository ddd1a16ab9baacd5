"""Container names: validation, conflicts and generated `adjective_surname` names.

moby: daemon/names.go, daemon/names/names.go, pkg/namesgenerator
"""

from __future__ import annotations

import random
import re

from dockerlayers.errors import Conflict, InvalidParameter

RESTRICTED_NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_VALID_NAME = re.compile(rf"^{RESTRICTED_NAME_CHARS}+\Z")

_LEFT = tuple(
    """
    admiring adoring affectionate amazing angry awesome blissful bold brave charming clever
    compassionate competent condescending confident cool cranky crazy dazzling determined
    distracted dreamy eager ecstatic elastic elated elegant eloquent epic exciting fervent
    festive flamboyant focused friendly frosty funny gallant gifted goofy gracious great happy
    hardcore heuristic hopeful hungry infallible inspiring intelligent interesting jolly jovial
    keen kind laughing loving lucid magical modest musing mystifying naughty nervous nice nifty
    nostalgic objective optimistic peaceful pedantic pensive practical priceless quirky
    quizzical recursing relaxed reverent romantic sad serene sharp silly sleepy stoic strange
    stupefied suspicious sweet tender thirsty trusting unruffled upbeat vibrant vigilant
    vigorous wizardly wonderful xenodochial youthful zealous zen
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_RIGHT = tuple(
    """
    albattani allen almeida archimedes ardinghelli aryabhata austin babbage banach bardeen
    bartik bell bhabha blackwell bohr booth borg bose boyd brahmagupta brattain brown carson
    chandrasekhar colden cori cray curie darwin davinci dijkstra dubinsky easley einstein elion
    engelbart euclid fermat fermi feynman franklin galileo goldberg goldstine goodall hamilton
    hawking heisenberg hodgkin hoover hopper hugle hypatia jang jennings jepsen joliot jones
    kalam kare keller khorana kilby kirch knuth kowalevski lalande lamarr leakey leavitt
    lichterman liskov lovelace lumiere mahavira mayer mccarthy mcclintock mclean mcnulty meitner
    mestorf mirzakhani morse murdock newton nightingale nobel noether northcutt noyce panini
    pare pasteur payne perlman pike poincare poitras ptolemy raman ramanujan ride ritchie
    roentgen rosalind saha sammet shaw shirley shockley sinoussi snyder spence stallman
    stonebraker swanson swartz swirles tesla thompson torvalds turing varahamihira visvesvaraya
    volhard wescoff williams wilson wing wozniak wright yalow yonath
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


def validate_name(name: str) -> str:
    """Check a user-given name and return its stored form (with a leading `/`); the error
    shows the name as it was passed in.

    moby: daemon/names.go reserveName / validContainerNamePattern
    """
    bare = name[1:] if name.startswith("/") else name
    if not _VALID_NAME.match(bare):
        raise InvalidParameter(
            f"Invalid container name ({name}), only {RESTRICTED_NAME_CHARS} are allowed"
        )
    return "/" + bare


def get_random_name(rng: random.Random, retry: int) -> str:
    """`adjective_surname`, with a digit appended on retries; never boring_wozniak.

    moby: pkg/namesgenerator/names-generator.go GetRandomName
    """
    while True:
        name = f"{rng.choice(_LEFT)}_{rng.choice(_RIGHT)}"
        if name == "boring_wozniak":  # Steve Wozniak is not boring
            continue
        if retry > 0:
            name += str(rng.randrange(10))
        return name


def conflict(name: str, holder_id: str) -> Conflict:
    """moby: daemon/names.go (the text of a name reservation conflict)"""
    return Conflict(
        f'Conflict. The container name "{name}" is already in use by container "{holder_id}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
