"""Dockerfiles shared by the builder suites (tests/builder) and the hostile-input corpus
(tests/reliability/corpus.py): the many-steps build, the multi-stage build, and the
Dockerfiles the builder must refuse, each with Docker 20.10's message.
"""

from __future__ import annotations

from dockerlayers.errors import PULL_ERROR

#: every instruction once (tests/builder/test_build.py holds the engine's history of it)
STEPS_DOCKERFILE = """\
FROM base:1
ARG V=1
ENV A=1 B="two words"
LABEL k=v
WORKDIR /app/sub
RUN echo hi > f && echo out
COPY a.txt .
COPY a.txt /dst/
COPY d /dd
COPY d/ /dd2/
ADD a.txt /added
RUN ["sh", "-c", "echo $V"]
EXPOSE 80 53/udp
USER root
VOLUME /v
SHELL ["/bin/sh", "-ec"]
RUN echo shell
ENTRYPOINT ["echo"]
CMD echo hi
STOPSIGNAL SIGTERM
"""
STEPS_FILES = {"a.txt": "hello\n", "d/x": "x\n", "d/sub/y": "y\n"}

#: two stages, the second copying from the first by name and by index (test_multistage)
MULTISTAGE_DOCKERFILE = """\
ARG BASE=base:1
ARG UNUSED=x
FROM $BASE AS builder
ARG BASE
RUN echo "base is $BASE"
COPY secret.txt /secret.txt
RUN mkdir /out && cat /secret.txt > /out/built && echo art > /out/artifact
FROM ${BASE}
COPY --from=builder /out/artifact /app/artifact
COPY --from=0 /out /out2
RUN ls /app
"""
MULTISTAGE_FILES = {"secret.txt": "s3cret\n"}

#: what a secret file holds (test_secrets)
SECRET = "s3cr3t-token\n"

#: Dockerfiles the builder refuses, with Docker's message
BUILD_ERRORS = [
    ("FROM base:1\nFOO bar\n", "dockerfile parse error line 2: unknown instruction: FOO"),
    ("FROM base:1\nRUN false\n", "The command '/bin/sh -c false' returned a non-zero code: 1"),
    ('FROM base:1\nRUN ["false"]\n', "The command 'false' returned a non-zero code: 1"),
    ("FROM base:1\nRUN exit 3\n", "The command '/bin/sh -c exit 3' returned a non-zero code: 3"),
    (
        "FROM base:1\nCOPY a b /x\n",
        (
            "When using COPY with more than one source file, the destination must "
            "be a directory and end with a /"
        ),
    ),
    (
        "FROM base:1\nCOPY a b .\n",
        (
            "When using COPY with more than one source file, the destination must "
            "be a directory and end with a /"
        ),
    ),
    (
        "FROM base:1\nCOPY nonexist /x\n",
        (
            "COPY failed: file not found in build context or excluded by "
            ".dockerignore: stat nonexist: file does not exist"
        ),
    ),
    ("FROM base:1\nCOPY nomatch* /x\n", "COPY failed: no source files were specified"),
    (
        "FROM base:1\nCOPY ../a /x\n",
        "COPY failed: forbidden path outside the build context: ../a ()",
    ),
    ("RUN true\n", "no build stage in current context"),
    (
        "FROM base:1 AS 1x\n",
        'dockerfile parse error line 1: invalid name for build stage: "1x", '
        "name can't start with a number or contain symbols",
    ),
    (
        "FROM base:1\nCOPY a\n",
        (
            "dockerfile parse error line 2: COPY requires at least two arguments, "
            "but only one was provided. Destination could not be determined"
        ),
    ),
    ("", "the Dockerfile (Dockerfile) cannot be empty"),
    ("# just a comment\n", "failed to parse Dockerfile: file with no instructions"),
    (
        "FROM base:1\nRUN --mount=type=cache echo\n",
        (
            "the --mount option requires BuildKit. Refer to "
            "https://docs.docker.com/go/buildkit/ to learn how to build images "
            "with BuildKit enabled"
        ),
    ),
    (
        "FROM nosuch:1\n",
        PULL_ERROR,
    ),
]

#: multi-stage Dockerfiles the builder refuses, with Docker's message
STAGE_ERRORS = [
    (
        "FROM base:1\nCOPY --from=nostage /x /y\n",
        f"invalid from flag value nostage: {PULL_ERROR}",
    ),
    (
        "FROM base:1 AS a\nFROM base:1\nCOPY --from=a /nonexist /y\n",
        "COPY failed: stat nonexist: file does not exist",
    ),
    ("FROM base:1\nCOPY --from=3 /x /y\n", "invalid from flag value 3: index out of bounds"),
    ("FROM base:1\nCOPY --from=0 /x /y\n", "invalid from flag value 0: index out of bounds"),
    (
        "FROM base:1\nCOPY --from=base:1 /etc/passwdx /y\n",
        "COPY failed: stat etc/passwdx: file does not exist",
    ),
    ("FROM base:1 AS a\nFROM base:1 AS a\n", "a stage name already used"),
]
