"""Images through the widget in JupyterLab: a pasted and a dropped image (issue 12 point 5).

The page makes a real PNG with a canvas and hands it to the widget the way a user's paste (a
``ClipboardEvent`` carrying a ``DataTransfer`` with the file) or drop (a ``DragEvent``) does;
the widget sends the bytes to the kernel, the embedded server's EchoBrain says what it saw, and
the user turn shows the thumbnail.
"""

from __future__ import annotations

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

# Page JS: a 64x48 PNG (or any file) in a DataTransfer, delivered as a paste or a drop.
DELIVER = """
async (target, [how, kind]) => {
  let file;
  if (kind === "png") {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 48;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#c03";
    ctx.fillRect(0, 0, 64, 48);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    file = new File([blob], "plot.png", { type: "image/png" });
  } else {
    file = new File(["%PDF-1.4 not an image"], "notes.pdf", { type: "application/pdf" });
  }
  const data = new DataTransfer();
  data.items.add(file);
  const init = { bubbles: true, cancelable: true };
  const event = how === "paste"
    ? new ClipboardEvent("paste", { ...init, clipboardData: data })
    : new DragEvent("drop", { ...init, dataTransfer: data });
  target.dispatchEvent(event);
  return event.defaultPrevented;
}
"""


def test_pasted_and_dropped_images_show_as_thumbnails_and_reach_the_model(open_notebook):
    nb = open_notebook(
        ["from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"], wav="silence"
    )
    view = nb.wait_widget()
    view.wait_status("connected")
    box = view.control("textbox", "Message")

    # Paste into the text box: the typed words go with the image, in one user message.
    box.fill("what is this?")
    assert box.evaluate(DELIVER, ["paste", "png"]), "the widget takes the paste"
    user = view.wait_turn("user", text="what is this?")
    thumb = user.get_by_role("img", name="image: PNG 64x48")
    thumb.wait_for(timeout=20 * UNIT * 1000)
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 64, "the thumbnail loads"
    view.wait_turn(
        "assistant", text="I see an image (PNG 64x48). You said: what is this?", timeout=30 * UNIT
    )
    assert box.input_value() == "", "the words went with the image"
    nb.screenshot("pasted-image")

    # A file that is not an image, dropped on the widget: a notice, nothing sent.
    assert view.root.evaluate(DELIVER, ["drop", "pdf"])
    alert = view.alerts.filter(has_text="notes.pdf is application/pdf, not a PNG or JPEG image")
    alert.wait_for(timeout=10 * UNIT * 1000)

    # A dropped image: its own message, answered; the notice goes.
    assert view.root.evaluate(DELIVER, ["drop", "png"])
    view.turns("user").nth(1).get_by_role("img", name="image: PNG 64x48").wait_for(
        timeout=20 * UNIT * 1000
    )
    view.conversation.locator('[data-role="assistant"]').filter(
        has_text="I see an image (PNG 64x48)."
    ).nth(1).wait_for(timeout=30 * UNIT * 1000)
    assert alert.count() == 0
    nb.screenshot("dropped-image")

    users = nb.kernel.value("[i for i in w.items if i.get('role') == 'user']")
    assert [u["text"] for u in users] == ["what is this?", ""]
    assert [[i["label"] for i in u["images"]] for u in users] == [["PNG 64x48"], ["PNG 64x48"]]
    assert nb.kernel.value("[e['code'] for e in w.errors]") == []  # checked in the browser
