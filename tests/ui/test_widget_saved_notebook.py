"""What a saved notebook keeps after a voice conversation: no audio and no API key.

The key is a recognisable fake (``sk-test-LEAKCHECK-...``) that only the kernel's environment
holds; the notebook uses it to authenticate to an embedded server that refuses any other key, so
the conversation really went through it. The notebook is saved through JupyterLab's own Save with
widget state saving switched on, so synced traits are in the file too.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

RATE = 24000

CELLS = [
    """
import os
from realtime_widget import LocalRealtimeServer, RealtimeWidget

os.environ["OPENAI_API_KEY"] = os.environ["RTW_FAKE_API_KEY"]
server = LocalRealtimeServer(api_key=os.environ["OPENAI_API_KEY"])
server.start()
w = RealtimeWidget(url=server.url)
w
""",
]

# Any long run of base64 characters: 600 chars is 450 bytes, ~9 ms of 24 kHz PCM16. Item ids,
# hashes and the widget's model ids are far shorter.
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{600,}={0,2}")


def test_saved_notebook_holds_no_audio_and_no_key(open_notebook, lab_server, leak_key):
    nb = open_notebook(CELLS, wav="question")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.listen_hands_free()
    # A spoken turn and its spoken reply: audio really went both ways before saving.
    view.wait_turn("user", timeout=30 * UNIT)
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    view.wait_data_at_least("played-samples", RATE // 2, timeout=20 * UNIT)
    view.send_message("and one typed line")
    view.wait_turn("assistant", text="and one typed line", timeout=30 * UNIT)
    assert nb.kernel.value("bool(w.client)") and nb.kernel.value(
        "os.environ['OPENAI_API_KEY'] == os.environ['RTW_FAKE_API_KEY']"
    )

    # The browser writes its saved copy of the conversation at most once a second.
    nb.page.wait_for_timeout(int(2000 * UNIT))
    nb.save()
    nb.screenshot("saved")
    text = (lab_server.root / nb.name).read_text()
    saved = json.loads(text)

    assert leak_key not in text
    assert "LEAKCHECK" not in text
    runs = BASE64_RUN.findall(text)
    assert not runs, f"{len(runs)} base64 blob(s) in the saved notebook, first: {runs[0][:80]}..."

    # The check covered the widget's synced state, not just cell outputs.
    state = saved["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    assert state and state["state"], "widget state was not saved; the check would be vacuous"
    widget_states = [m["state"] for m in state["state"].values() if "event_log" in m["state"]]
    assert widget_states and widget_states[0]["event_log"], "no saved event log to check"
    # The saved conversation is the one on screen: the kernel sent it only when the view opened
    # (empty then); the browser kept it current from the live patches.
    saved_items = widget_states[0]["items_snapshot"]
    assert any(
        i["role"] == "assistant" and "and one typed line" in (i["transcript"] or i["text"])
        for i in saved_items
    ), f"the latest turn is missing from the saved conversation ({len(saved_items)} items)"
    # And the key never reached the page either.
    assert leak_key not in nb.page.content()
