"""langchain.tools.tool stand-in: the decorated coroutine gets ainvoke({args}) like a LangChain tool."""
from typing import Any, Callable, Dict


class _Tool:
    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.description = fn.__doc__

    async def ainvoke(self, args: Dict[str, Any]) -> Any:
        return await self.fn(**args)


def tool(fn: Callable) -> _Tool:
    return _Tool(fn)
