"""asl: one command for every tool of the ASL fingerspelling recognizer.

    asl run        the live recognizer: a webcam or a video file (run.py)
    asl train      train a model, or cross-validate it by signer (python -m train)
    asl evaluate   score a model on a folder of letter photos (python -m train.evaluate)
    asl label      label a recorded session, export its crops (python -m train.label)
    asl calibrate  personalise a model to your hands (calibrate.py)
    asl bench      the live loop's speed and latency on a clip (python -m realtime.bench)
    asl serve      the live web page and the HTTP API (run.py --serve, python -m web.serve)

``asl COMMAND --help`` shows a command's options. Exit codes, the same for every command: 0 done, 1 failed part
way, 2 bad input (flags, files, checkpoints, datasets), 130 interrupted.
"""

from __future__ import annotations

import importlib
import sys

from core.cli import quiet_native_logs
from core.errors import EXIT_BAD_INPUT, EXIT_OK

# command -> module whose main(argv) runs it; imported only when asked for, so `asl --help` is instant
COMMANDS = {
    "run": "run",
    "train": "train.__main__",
    "evaluate": "train.evaluate",
    "label": "train.label",
    "calibrate": "calibrate",
    "bench": "realtime.bench",
    "serve": "web.serve",
}


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return EXIT_OK if argv else EXIT_BAD_INPUT
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}: choose one of {', '.join(COMMANDS)} (asl --help)", file=sys.stderr)
        return EXIT_BAD_INPUT
    if from_command_line:
        quiet_native_logs(verbose=bool({"-v", "--verbose"} & set(rest)))
    tool = importlib.import_module(COMMANDS[command])
    return int(tool.main(rest, prog=f"asl {command}"))


if __name__ == "__main__":
    sys.exit(main())
