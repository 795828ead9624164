"""heatops' web server: Daphne, with secrets in URL paths masked in its access log.

Calendar apps subscribe to an address and send no header, so a calendar feed's token is
in its path (``/on-call/<id>/feed/hcal_….ics``). Every other token travels in a header,
which Daphne's access log never records; this log writes such a path with the token cut
to its kind (``hcal_…``). Run as ``python -m heatops.web`` with Daphne's own arguments.
"""

from __future__ import annotations

import re

import daphne.cli
from daphne.access import AccessLogGenerator

SECRET_IN_PATH = re.compile(r"(?<=/feed/)(hcal_)[A-Za-z0-9_-]*")  # token_new's alphabet


def mask(path: str) -> str:
    return SECRET_IN_PATH.sub(r"\1…", path)


class MaskingAccessLog(AccessLogGenerator):
    def __call__(self, protocol, action, details):
        if isinstance(details.get("path"), str):
            details = {**details, "path": mask(details["path"])}
        super().__call__(protocol, action, details)


def main() -> None:
    daphne.cli.AccessLogGenerator = MaskingAccessLog  # the name Daphne's command line builds its log from
    daphne.cli.CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
