# SPDX-License-Identifier: GPL-2.0-or-later
"""One test per case file in cases/: a scripted dialogue over a raw socket."""

import glob
import os

from harness import runner, transcript

CASES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cases")


def _make(path):
    def run_one(ctx):
        transcript.run_case(ctx, path)
    return run_one


for _path in sorted(glob.glob(os.path.join(CASES, "*.pop"))):
    runner.register("transcript." + os.path.splitext(os.path.basename(_path))[0],
                    _make(_path))
