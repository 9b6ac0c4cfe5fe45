"""Issue 21 item 4: the README's "Connect ChatGPT, Claude, VS Code and GPT
Actions" section runs as written. Each `./build/plugauth` line of its code
blocks is run by the shell in a fresh directory where ./build/plugauth is the
binary under test and ./plugauth-data the data directory the tour's
`plugauth serve` created (only serve creates one); CLIENT_ID is the
client_id the line before printed, as the README says."""

import os
import pathlib
import subprocess

from conftest import BINARY

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def section_commands():
    text = README.read_text()
    start = text.index("### Connect ChatGPT, Claude, VS Code and GPT Actions")
    end = text.index("\n### ", start + 1)
    commands, in_block = [], False
    for line in text[start:end].splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif in_block and line.startswith("./build/plugauth "):
            commands.append(line)
    return commands


def fields(text):
    """`client add`'s text output: "name:   value" lines, a name may repeat."""
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and value.startswith(" ") and " " not in name:
            out.setdefault(name, []).append(value.strip())
    return out


def test_the_connect_section_runs_as_written(tmp_path):
    (tmp_path / "build").mkdir()
    os.symlink(os.path.abspath(BINARY), tmp_path / "build" / "plugauth")
    (tmp_path / "plugauth-data").mkdir(mode=0o700)
    commands = section_commands()
    assert len(commands) == 6, commands
    outputs, last_id = [], None
    for command in commands:
        if "CLIENT_ID" in command:
            assert last_id, command
            command = command.replace("CLIENT_ID", last_id)
        r = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (command, r.stdout, r.stderr)
        outputs.append(r.stdout + r.stderr)
        last_id = fields(r.stdout).get("client_id", [last_id])[0]
    chatgpt, claude, gpt = (fields(o) for o in outputs[:3])
    assert chatgpt["redirect_uri"] == ["https://chatgpt.com/connector_platform_oauth_redirect"], outputs[0]
    assert claude["redirect_uri"] == ["https://claude.ai/api/mcp/auth_callback",
                                      "https://claude.com/api/mcp/auth_callback"], outputs[1]
    assert "client_secret" not in chatgpt, outputs[0]
    assert gpt["client_secret"] and "https://chat.openai.com/aip/g-abc123/oauth/callback" in gpt["redirect_uri"]
    assert "Client ID:              " + gpt["client_id"][0] in outputs[3], outputs[3]
    assert "VS Code:       a client ID metadata document" in outputs[3], outputs[3]
    moved, renamed = fields(outputs[4]), fields(outputs[5])
    assert moved["client_id"] == gpt["client_id"], outputs[4]
    assert "https://chat.openai.com/aip/g-def456/oauth/callback" in moved["redirect_uri"], outputs[4]
    assert not any("g-abc123" in u for u in moved["redirect_uri"]), outputs[4]
    assert renamed["name"] == ["My GPT"] and renamed["redirect_uri"] == moved["redirect_uri"], outputs[5]
