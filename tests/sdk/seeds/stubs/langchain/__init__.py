"""A stand-in for langchain (not installed): only langchain.tools.tool."""
