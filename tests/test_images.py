"""``realtime_widget.images``: every kind of input to a PNG/JPEG data URL, and bad input refused.

Decoded back with real PIL (and matplotlib makes a real figure) where installed: the encoder's
PNG is checked by an independent decoder, not by our own header reader.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import subprocess
import sys

import numpy as np
import pytest

from realtime_widget.images import (
    MAX_IMAGE_BYTES,
    ImageError,
    describe_image,
    encode_png,
    image_data_url,
    image_part,
    parse_data_url,
)
from tests.helpers import require

HAVE_PIL = importlib.util.find_spec("PIL") is not None
HAVE_MPL = importlib.util.find_spec("matplotlib") is not None


def decoded(url: str) -> np.ndarray:
    """The pixels of a data URL, decoded by PIL."""
    require(HAVE_PIL, "Pillow (test extra)")
    from PIL import Image

    info, data = parse_data_url(url)
    image = Image.open(io.BytesIO(data))
    assert image.format == info.format
    assert image.size == (info.width, info.height)
    return np.asarray(image)


@pytest.mark.parametrize(
    ("shape", "mode_channels"),
    [((5, 7), None), ((5, 7, 1), None), ((5, 7, 2), 2), ((5, 7, 3), 3), ((5, 7, 4), 4)],
)
def test_numpy_uint8_arrays_round_trip_through_pil(shape, mode_channels):
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    back = decoded(image_data_url(pixels))
    assert np.array_equal(back.reshape(pixels.shape), pixels)


def test_numpy_float_image_in_unit_range_is_scaled_to_bytes():
    pixels = np.linspace(0, 1, 12).reshape(3, 4)
    back = decoded(image_data_url(pixels))
    assert back[0, 0] == 0 and back[-1, -1] == 255


def test_numpy_bool_and_small_int_images_are_accepted():
    assert decoded(image_data_url(np.eye(3, dtype=bool)))[1, 1] == 255
    assert decoded(image_data_url(np.full((2, 2), 7, dtype=np.int64)))[0, 0] == 7


def test_header_reader_gives_png_format_and_size():
    info = describe_image(encode_png(np.zeros((480, 640, 3), np.uint8)))
    assert (info.format, info.width, info.height, info.mime) == ("PNG", 640, 480, "image/png")
    assert str(info) == "PNG 640x480"


def test_matplotlib_figure_and_axes_become_png():
    require(HAVE_MPL, "matplotlib (test extra)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    ax.plot([1, 3, 2])
    try:
        for source in (fig, ax):
            url = image_data_url(source)
            assert url.startswith("data:image/png;base64,")
            assert decoded(url).shape[2] == 4  # RGBA, as Agg renders
    finally:
        plt.close(fig)


def test_pil_images_become_png_and_jpeg_bytes_stay_jpeg():
    require(HAVE_PIL, "Pillow (test extra)")
    from PIL import Image

    image = Image.new("RGB", (33, 21), (200, 10, 10))
    assert tuple(decoded(image_data_url(image))[0, 0]) == (200, 10, 10)
    assert parse_data_url(image_data_url(Image.new("CMYK", (4, 4))))[0].format == "PNG"
    out = io.BytesIO()
    image.save(out, "JPEG")
    url = image_data_url(out.getvalue())
    assert url.startswith("data:image/jpeg;base64,")
    assert str(parse_data_url(url)[0]) == "JPEG 33x21"  # read from the SOF marker


def test_paths_bytes_and_data_urls_are_accepted(tmp_path):
    png = encode_png(np.zeros((2, 3), np.uint8))
    path = tmp_path / "plot.png"
    path.write_bytes(png)
    url = f"data:image/png;base64,{base64.b64encode(png).decode()}"
    assert image_data_url(path) == url
    assert image_data_url(str(path)) == url
    assert image_data_url(bytearray(png)) == url
    assert image_data_url(memoryview(png)) == url
    assert image_data_url(url) is url


def test_objects_with_repr_png_are_accepted():
    png = encode_png(np.zeros((2, 2), np.uint8))

    class Rendered:  # IPython's display protocol, as sympy and many plotting libraries have
        def _repr_png_(self):
            return png

    assert parse_data_url(image_data_url(Rendered()))[1] == png


def test_image_part_carries_detail_only_when_given():
    pixels = np.zeros((2, 2), np.uint8)
    assert "detail" not in image_part(pixels)
    assert image_part(pixels, "low")["detail"] == "low"
    with pytest.raises(ImageError, match="detail must be one of auto, low, high; got 'tiny'"):
        image_part(pixels, "tiny")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "expected a matplotlib figure, .* got int"),
        ({"a": 1}, "got dict"),
        (b"GIF89a....", r"not a PNG or JPEG image \(10 bytes starting b'GIF89a..'\)"),
        ("no/such/file.png", "cannot read image file 'no/such/file.png'"),
        ("https://example.com/a.png", "not by URL: download it"),
        ("data:image/gif;base64,R0lG", "only image/png and image/jpeg"),
        ("data:image/png,rawbytes", "expected a base64 data URL"),
        ("data:image/png;base64,%%%%", "not valid base64"),
        (
            "data:image/jpeg;base64," + base64.b64encode(encode_png(np.zeros((1, 1)))).decode(),
            "says image/jpeg but the bytes are PNG",
        ),
        ("data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode(), "broken PNG"),
        (
            np.zeros((2, 2, 5)),
            r"HxW \(grey\), HxWx3 \(RGB\) or HxWx4 \(RGBA\); got shape \(2, 2, 5\)",
        ),
        (np.zeros((0, 4)), "got shape"),
        (np.full((2, 2), 3.0), r"float images must be in \[0, 1\]; got values from 3 to 3"),
        (np.array([[np.nan]]), "NaN"),
        (np.full((2, 2), 300), "within 0..255"),
        (np.array([["a"]]), "must hold numbers"),
    ],
)
def test_bad_inputs_raise_image_errors_saying_what_was_wrong(value, message):
    with pytest.raises(ImageError, match=message):
        image_data_url(value)


def test_images_over_the_cap_are_refused_with_how_to_shrink(tmp_path):
    big = np.random.default_rng(0).integers(0, 256, (1800, 1800, 3), dtype=np.uint8)  # ~9.7 MB PNG
    with pytest.raises(ImageError, match=r"over the 8\.4 MB limit .* array\[::2, ::2\]"):
        image_data_url(big)
    assert image_data_url(big[::2, ::2])  # the advice works
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:  # 50 MB: refused from its size, before it is read
        f.write(encode_png(np.zeros((1, 1), np.uint8)))
        f.truncate(50 * 1024 * 1024)
    with pytest.raises(ImageError, match=r"image file 'huge.png' is 52\.4 MB"):
        image_data_url(huge)
    url = "data:image/png;base64," + "A" * (MAX_IMAGE_BYTES * 4 // 3 + 8)
    with pytest.raises(ImageError, match="over the"):
        parse_data_url(url)
    with pytest.raises(ImageError, match="too large to send"):
        image_data_url(np.zeros((8000, 8000, 3), np.uint8))


def test_importing_images_loads_neither_pil_nor_matplotlib():
    code = (
        "import sys, numpy, realtime_widget.images as m; "
        "m.image_data_url(numpy.zeros((2, 2))); "
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('PIL', 'matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
