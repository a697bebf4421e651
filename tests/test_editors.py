"""The editor settings the README gives, tried for real: pylsp (the Python
LSP server) with its flake8 plugin, driven over stdio as an editor drives
it, publishes our report for an unsaved buffer."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from commands import BIN, CANONICAL

pytest.importorskip("pylsp")
# the README's settings, as an editor sends them (workspace/didChangeConfiguration)
SETTINGS = {"pylsp": {"plugins": {"flake8": {"enabled": True}, "pycodestyle": {"enabled": False},
                                  "pyflakes": {"enabled": False}, "mccabe": {"enabled": False}}}}


class Client:
    def __init__(self, cwd):
        self.proc = subprocess.Popen([str(BIN / "pylsp")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd)
        self.ids = 0

    def send(self, method, params, request=False):
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.ids += 1
            msg["id"] = self.ids
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def receive(self) -> dict:
        length = None
        while True:
            line = self.proc.stdout.readline().strip()
            if not line:
                break
            name, value = line.decode().split(": ", 1)
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))


def test_pylsp_flake8_plugin_publishes_our_report(tmp_path):
    client = Client(tmp_path)
    try:
        client.send("initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}, request=True)
        while client.receive().get("id") != 1:
            pass
        client.send("initialized", {})
        client.send("workspace/didChangeConfiguration", {"settings": SETTINGS})
        uri = (tmp_path / "model.py").as_uri()  # never saved: the buffer goes through flake8's stdin
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                              "text": CANONICAL}})
        deadline, found = time.time() + 120, []
        while time.time() < deadline and not found:
            msg = client.receive()
            if msg.get("method") == "textDocument/publishDiagnostics":
                found = [d for d in msg["params"]["diagnostics"] if d.get("code") == "CNS001"]
        assert [(d["range"]["start"], d["message"].split(" for input")[0]) for d in found] == [
            ({"line": 21, "character": 12}, "CNS001 nn.Linear expects in_features=64 but receives 3136 (64 x 7 x 7)")]
    finally:
        client.proc.kill()
        client.proc.wait()
