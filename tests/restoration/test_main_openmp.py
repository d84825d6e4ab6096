"""``python -m restoration`` makes torch's idle OpenMP threads sleep (unless the user chose otherwise),
set before torch loads (OpenMP reads it once, then)."""

import os
import subprocess
import sys

# Runs the module as `python -m restoration --help` does and prints the policy in the environment
# at the moment torch was first imported.
PROBE = """
import os, runpy, sys
seen = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.append(str(os.environ.get("OMP_WAIT_POLICY")))
        return None
sys.meta_path.insert(0, Watch())
sys.argv = ["restoration", "--help"]
try:
    runpy.run_module("restoration", run_name="__main__")
except SystemExit:
    pass
print(seen[0] if seen else "torch not imported")
"""


def _policy_when_torch_loads(**env: str) -> str:
    clean = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                          check=True, timeout=120)
    return done.stdout.strip().splitlines()[-1]


def test_command_line_sets_passive_waiting_before_torch_loads():
    assert _policy_when_torch_loads() == "PASSIVE"


def test_command_line_keeps_the_users_choice():
    assert _policy_when_torch_loads(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
