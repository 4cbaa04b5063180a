"""A stand-in for the OpenAI Agents SDK (not installed, and it needs an LLM): just enough for the seed
example — function_tool keeps the function, Runner.run drives the tools the way a model would for the
prompt "Write a Python script that prints fibonacci numbers"."""
from dataclasses import dataclass, field
from typing import Any, Callable, List


def function_tool(fn: Callable) -> Callable:
    return fn


@dataclass
class Agent:
    name: str
    instructions: str
    tools: List[Callable] = field(default_factory=list)


@dataclass
class RunResult:
    final_output: str


class Runner:
    @staticmethod
    async def run(agent: Agent, prompt: str) -> RunResult:
        tools = {t.__name__: t for t in agent.tools}
        script = "a, b = 0, 1\nfor _ in range(10):\n    print(a)\n    a, b = b, a + b\n"
        await tools["write_file"]("fib.py", script)
        assert (await tools["read_file"]("fib.py")) == script
        out = await tools["exec"]("python3 fib.py")
        return RunResult(final_output=f"Wrote fib.py; running it gave:\n{out}")
