"""The code route as a notebook user sees it: IPython by default (magics, shell escapes, rich display),
counts, errors, input() without a client, and the standard-library fallback."""
import re

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def tb_text(err):
    tb = err["traceback"]
    return ANSI.sub("", "\n".join(tb) if isinstance(tb, list) else tb)


def test_ipython_features(client):
    sb = client.create()["id"]
    ex = client.code(sb, "!echo from-shell")
    assert ex["error"] is None and "".join(ex["logs"]["stdout"]) == "from-shell\n"
    ex = client.code(sb, "%time y = 2 ** 10")
    assert ex["error"] is None
    assert client.code(sb, "y")["text"] == "1024"
    ex = client.code(sb, "from IPython.display import display, HTML, clear_output\n"
                         "display(HTML('<i>a</i>'))\nclear_output()\ndisplay(HTML('<i>b</i>'))")
    assert [r.get("html") for r in ex["results"]] == ["<i>b</i>"]


def test_trailing_none_counts_and_errors(client):
    sb = client.create()["id"]
    ex = client.code(sb, "x = 1\nNone")
    assert ex["results"] == [] and ex["text"] is None and ex["error"] is None
    first = ex["execution_count"]
    assert client.code(sb, "x")["execution_count"] == first + 1
    ex = client.code(sb, "1 +")
    assert ex["error"]["name"] == "SyntaxError"
    ex = client.code(sb, "undefined_name")
    assert ex["error"]["name"] == "NameError" and "undefined_name" in tb_text(ex["error"])
    assert client.code(sb, "x + 1")["text"] == "2"  # the context survived both errors
    ex = client.code(sb, "print('a'); 5;")  # a trailing semicolon hides the value, as in Jupyter
    assert ex["results"] == [] and "".join(ex["logs"]["stdout"]) == "a\n"


def test_contexts_count_separately(client):
    a, b = client.create()["id"], client.create()["id"]
    n_a = [client.code(a, "1")["execution_count"] for _ in range(3)]
    n_b = client.code(b, "1")["execution_count"]
    assert n_a == [n_a[0], n_a[0] + 1, n_a[0] + 2] and n_b == n_a[0]


def test_input_without_client_is_eof(client):
    sb = client.create()["id"]
    ex = client.code(sb, "input('name? ')", timeout=20)
    assert ex["error"]["name"] == "EOFError"
    assert "stdin" in ex["error"]["value"] or "input" in ex["error"]["value"]
    assert client.code(sb, "'still here'")["text"] == "'still here'"


def test_stdlib_fallback(client):
    sb = client.create(env={"SLUICE_PY_BACKEND": "stdlib"})["id"]
    ex = client.code(sb, "import sys\n'IPython' in sys.modules")
    assert ex["text"] == "False"
    ex = client.code(sb, "1/0")
    assert ex["error"]["name"] == "ZeroDivisionError"
