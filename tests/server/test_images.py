"""The embedded server and ``input_image`` parts (issue 12 point 5).

Every event the state machine emits is validated by the JSON schema and the openai SDK's models
(``StateDriver``). The server stores images (bounded), refuses a non-image or an oversized one
with ``invalid_value`` naming ``item.content[i].image_url`` and stays usable, the echo brain says
what it saw, and the local pipeline tells its model that it cannot see images.
"""

from __future__ import annotations

import base64
import threading

import numpy as np
import pytest

from realtime_widget.images import MAX_IMAGE_BYTES, image_data_url
from realtime_widget.server._items import Conversation, Record
from realtime_widget.server.brains import BrainContext, EchoBrain, Say
from realtime_widget.server.llm import IMAGE_NOTE, chat_messages
from realtime_widget.server.local import CANNOT_SEE, LocalBrain
from tests.server.driver import StateDriver, assert_alive, of_type
from tests.server.test_local_brain import ScriptedLLM

PNG_URL = image_data_url(np.zeros((48, 64, 3), np.uint8))


def image_message(*parts: dict) -> dict:
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": list(parts)},
    }


def text_answer(driver: StateDriver) -> str:
    driver.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    done = of_type(driver.drain(), "response.done")
    return done[0]["response"]["output"][0]["content"][0]["text"]


def test_server_stores_an_image_part_and_the_echo_brain_describes_it():
    driver = StateDriver()
    added = driver.send(
        image_message(
            {"type": "input_text", "text": "what is this?"},
            {"type": "input_image", "image_url": PNG_URL, "detail": "low"},
        )
    )
    item = of_type(added, "conversation.item.added")[0]["item"]
    assert item["content"][1] == {"type": "input_image", "image_url": PNG_URL, "detail": "low"}
    assert text_answer(driver) == "I see an image (PNG 64x48). You said: what is this?"
    retrieved = driver.send({"type": "conversation.item.retrieve", "item_id": item["id"]})
    assert retrieved[0]["item"]["content"][1]["image_url"] == PNG_URL


def test_server_takes_an_image_bigger_than_its_per_item_text_limit():
    # ~3.9 MB of data URL: image data is capped by the image checks, not by max_item_bytes
    # (1 MiB of JSON) or max_conversation_bytes, which would refuse any real photo.
    noise = np.random.default_rng(0).integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    url = image_data_url(noise)
    assert len(url) > 3_000_000
    driver = StateDriver()
    added = driver.send(image_message({"type": "input_image", "image_url": url}))
    assert not of_type(added, "error")
    assert text_answer(driver) == "I see an image (PNG 1000x1000)."
    assert_alive(driver)


def test_echo_brain_counts_several_images_and_jpeg_sizes():
    jpeg = bytes.fromhex("ffd8ffc0000b080015002103012200ffd9")  # SOF0: 21 high, 33 wide
    url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    items = [
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_image", "image_url": PNG_URL},
                {"type": "input_image", "image_url": url},
            ],
        }
    ]
    plan = EchoBrain().respond(BrainContext(items=items))
    assert plan == [Say("I see 2 images (PNG 64x48; JPEG 33x21).")]


@pytest.mark.parametrize(
    ("part", "code", "says"),
    [
        ({"type": "input_image"}, "missing_required_parameter", "data:image/png;base64"),
        ({"type": "input_image", "image_url": "https://x/a.png"}, "invalid_value", "data URL"),
        (
            {"type": "input_image", "image_url": "data:image/png;base64,aGVsbG8="},
            "invalid_value",
            "not a PNG or JPEG image",
        ),
        (
            {
                "type": "input_image",
                "image_url": "data:image/png;base64," + "A" * (MAX_IMAGE_BYTES * 4 // 3 + 8),
            },
            "invalid_value",
            "over the 8.4 MB limit",
        ),
        ({"type": "input_image", "image_url": PNG_URL, "detail": "max"}, "invalid_value", "max"),
    ],
)
def test_server_refuses_a_bad_image_naming_the_field_and_stays_usable(part, code, says):
    driver = StateDriver()
    answer = driver.send(image_message({"type": "input_text", "text": "look"}, part))
    [error] = of_type(answer, "error")
    field = "detail" if "detail" in part else "image_url"
    assert error["error"]["code"] == code
    assert error["error"]["param"] == f"item.content[1].{field}"
    assert says in error["error"]["message"]
    assert not of_type(answer, "conversation.item.added")  # nothing half-stored
    assert_alive(driver)


def test_server_checks_images_inlined_in_response_input():
    driver = StateDriver()
    answer = driver.send(
        {
            "type": "response.create",
            "response": {
                "conversation": "none",
                "output_modalities": ["text"],
                "input": [image_message({"type": "input_image", "image_url": "data:,"})["item"]],
            },
        }
    )
    [error] = of_type(answer, "error")
    assert error["error"]["param"] == "response.input[0].content[0].image_url"


def test_server_keeps_image_data_within_its_budget_newest_first():
    conversation = Conversation("conv_1", max_image_bytes=3 * len(PNG_URL))
    for n in range(5):
        item = image_message({"type": "input_image", "image_url": PNG_URL})["item"]
        conversation.add(Record({**item, "id": f"item_{n}"}))
    urls = [r.item["content"][0]["image_url"] for r in conversation.records()]
    assert urls == [None, None, PNG_URL, PNG_URL, PNG_URL]
    plan = EchoBrain().respond(BrainContext(items=conversation.brain_view()[:1]))
    assert plan == [Say("I see an image (no longer stored).")]


def test_local_pipeline_tells_its_model_it_cannot_see_images():
    items = [
        image_message(
            {"type": "input_text", "text": "what is in this plot?"},
            {"type": "input_image", "image_url": PNG_URL},
        )["item"]
    ]
    messages, _ = chat_messages(BrainContext(items=items))
    assert messages[0]["role"] == "system" and messages[0]["content"].endswith(IMAGE_NOTE)
    assert messages[1]["content"] == (
        "what is in this plot? [an image, which this local model cannot see]"
    )
    without, _ = chat_messages(
        BrainContext(items=[{**items[0], "content": items[0]["content"][:1]}])
    )
    assert all(IMAGE_NOTE not in m["content"] for m in without)


def test_local_brain_says_it_cannot_see_an_image_and_answers_the_words():
    llm = ScriptedLLM("It is a question about a plot.")
    question = image_message(
        {"type": "input_text", "text": "what is in this plot?"},
        {"type": "input_image", "image_url": PNG_URL},
    )["item"]
    out = LocalBrain(llm).stream(BrainContext(items=[question]), threading.Event())
    assert "".join(out) == f"{CANNOT_SEE} It is a question about a plot."
    [(messages, _)] = llm.requests
    assert IMAGE_NOTE in messages[0]["content"]


def test_local_brain_asks_for_a_description_of_an_image_alone_without_the_model():
    llm = ScriptedLLM()  # no answer scripted: the model must not be asked
    alone = image_message({"type": "input_image", "image_url": PNG_URL})["item"]
    out = LocalBrain(llm).stream(BrainContext(items=[alone]), threading.Event())
    assert "".join(out) == f"{CANNOT_SEE} Please tell me what the image shows."
    assert llm.requests == []
