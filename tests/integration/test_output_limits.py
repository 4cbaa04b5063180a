"""A cell that prints far more than anyone can keep: the gateway's memory stays bounded, the context
lives on, and the Execution says it was cut (truncated + a visible marker line)."""
import os
import threading


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_300_mb_of_output_is_cut_not_buffered(gateway, client):
    sb = client.create()["id"]
    client.code(sb, "kept = 'yes'")
    base = rss_kib(gateway.proc.pid)
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_kib(gateway.proc.pid))

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        ex = client.code(sb, "import sys\nblock = 'x' * (1 << 20)\nfor _ in range(300):\n    sys.stdout.write(block)\n"
                             "print('finished', file=sys.stderr)", timeout=120)
    finally:
        done.set()
        t.join(5)
    assert ex["error"] is None and ex.get("truncated") is True
    stdout = "".join(ex["logs"]["stdout"])
    assert 0 < len(stdout) <= 8 << 20
    assert "output truncated" in "".join(ex["logs"]["stderr"])
    assert peak[0] - base < 200 * 1024, f"gateway RSS grew by {(peak[0] - base) // 1024} MiB"
    assert client.code(sb, "kept")["text"] == "'yes'"
    assert os.path.exists(f"/proc/{gateway.proc.pid}")
