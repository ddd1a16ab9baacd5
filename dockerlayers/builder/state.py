"""The state a build step works on: the stage's run config and image, and the request a
dispatcher receives.

moby: builder/dockerfile/evaluator.go dispatchState, dispatchRequest, stagesBuildResults
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockerlayers.builder.buildargs import BuildArgs
from dockerlayers.builder.parser import Instruction, ShellLex
from dockerlayers.image.image import ContainerConfig, Image

if TYPE_CHECKING:
    from dockerlayers.builder.builder import Builder

DEFAULT_SHELL = ["/bin/sh", "-c"]
#: moby: pkg/system DefaultPathEnv (Linux)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class StepError(Exception):
    """An error of the current step (printed as is, no `Error response from daemon`)."""


@dataclass
class Stage:
    """One `FROM` and what follows it (moby: instructions.Stage)."""

    index: int
    base: str
    name: str
    from_instruction: Instruction
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class DispatchState:
    """The build state of the current stage (moby: evaluator.go dispatchState)."""

    image: Image | None
    image_id: str
    run_config: ContainerConfig
    build_args: BuildArgs
    stage_name: str = ""
    cmd_set: bool = False
    maintainer: str = ""
    scratch: bool = False

    @property
    def shell(self) -> list[str]:
        """moby: internals.go getShell"""
        return list(self.run_config.shell or DEFAULT_SHELL)

    def expansion_env(self) -> dict[str, str]:
        """The variables an instruction's words see: Env first, then the allowed build args.

        moby: evaluator.go dispatch (runConfigEnv + buildArgs.FilterAllowed)
        """
        env: dict[str, str] = {}
        for e in [
            *(self.run_config.env or []),
            *self.build_args.filter_allowed(self.run_config.env),
        ]:
            k, _, v = e.partition("=")
            env.setdefault(k, v)
        return env


@dataclass
class StageResults:
    """The image of every finished stage, by name and by index ("" = scratch).

    moby: evaluator.go stagesBuildResults
    """

    by_name: dict[str, str] = field(default_factory=dict)
    by_index: list[str] = field(default_factory=list)

    def add(self, name: str, image_id: str) -> None:
        self.by_index.append(image_id)
        if name:
            self.by_name[name] = image_id


@dataclass
class DispatchRequest:
    """What a dispatcher works with: the stage's state, the word expander, the builder.

    moby: evaluator.go dispatchRequest
    """

    state: DispatchState
    lex: ShellLex
    builder: Builder

    def word(self, word: str) -> str:
        """One word with `$VAR`s expanded against the state's env."""
        return self.lex.process_word(word, self.state.expansion_env())
