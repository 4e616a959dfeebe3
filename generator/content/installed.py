"""The distributions installed beside press, as `name==version`: read once per process.

What press writes depends on them, so its caches are keyed by them: the render cache of article
bodies and the record of the last build. One scan of the environment's metadata serves both
(about 0.04 s; finding which distribution provides a given module took 0.16 s more, in the
critical path of every build).
"""

from __future__ import annotations

import importlib.metadata
from functools import cache


@cache
def installed_distributions() -> frozenset[str]:
    return frozenset(
        f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
    )
