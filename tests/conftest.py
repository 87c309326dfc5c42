"""Test-wide settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Run torch on one thread: the tests' tensors are small, and on a 2-core machine with
    any other load, two intra-op threads made the suite several times slower (measured:
    244 s against 60-90 s for tests/simulate + tests/cli/test_cli.py)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a runtime dependency
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
