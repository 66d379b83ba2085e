"""The smallest nameko service: the baseline that ``skeleton_throughput.py`` measures."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc


class EchoService:
    name = "benchmark_echo"

    @rpc
    def echo(self, x: Any) -> Any:
        return x
