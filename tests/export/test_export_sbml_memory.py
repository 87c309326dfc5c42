"""to_sbml builds large networks a chunk at a time (issue 14, item 11b).

One libsbml document holds about 20 kB per species and reaction, so exporting a
100k-species network peaked at 3.2 GB; the chunked writer stays near the size of the text.
Measured in a fresh process (libsbml's memory is invisible to tracemalloc).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("libsbml")

SCRIPT = textwrap.dedent(
    """
    from nncrn.export import to_sbml
    from nncrn.network import Reaction, ReactionNetwork, Species

    n = 8000
    species = [Species(f"S{i}", "auxiliary", 0.5) for i in range(n)]
    reactions = [Reaction({f"S{i}": 1, f"S{(7 * i + 3) % n}": 1}, {f"S{(i + 1) % n}": 2},
                          0.1 + i * 1e-6, f"layer 1 r{i}") for i in range(n)]
    net = ReactionNetwork(species, reactions)

    def status(key):
        return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) // 1024

    import libsbml  # noqa: F401  (its library is not part of the peak)

    base = status("VmRSS")
    text = to_sbml(net)
    print(status("VmHWM") - base, len(text) // 2**20)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_sbml_export_memory_stays_near_the_text_size():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True, timeout=300).stdout.split()  # fmt: skip
    peak_mb, text_mb = int(out[0]), int(out[1])
    # one libsbml document of all 16000 elements took ~170 MB more than the chunked build
    assert peak_mb < 100 + 4 * text_mb, (peak_mb, text_mb)
