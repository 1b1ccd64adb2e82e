"""Images as conversation input: anything image-like -> a ``data:`` URL the Realtime API takes.

A user message may carry ``{"type": "input_image", "image_url": "data:image/png;base64,...",
"detail": "auto" | "low" | "high"}`` parts (``RealtimeConversationItemUserMessage.Content`` in the
``openai`` SDK: "Supported formats are PNG and JPEG"). :func:`image_data_url` turns what a
notebook has at hand into such a URL:

* a matplotlib ``Figure`` (or ``Axes``): saved as PNG; matplotlib is never imported here, the
  object's own ``savefig`` does the work;
* a PIL ``Image``: saved as PNG (PIL is only used when the caller already has it);
* anything with IPython's ``_repr_png_`` / ``_repr_jpeg_`` (sympy, PIL, many plotting libraries);
* a numpy array: ``HxW`` grey, ``HxWx3`` RGB or ``HxWx4`` RGBA, ``uint8`` or float in [0, 1];
  encoded as PNG here with ``zlib`` (no new dependency);
* PNG or JPEG ``bytes`` (recognised by their magic numbers), a ``pathlib.Path`` or ``str`` path to
  such a file, or an existing ``data:image/png|jpeg;base64,`` URL.

Size cap: :data:`MAX_IMAGE_BYTES` (8 MiB of PNG/JPEG, about 11 MB once base64-encoded) keeps one
``conversation.item.create`` well under the websocket frame limits of both ends and the kernel's
memory bounded. Nothing is downscaled silently: an image over the cap raises :class:`ImageError`
saying how to make it smaller (``fig.savefig(dpi=...)``, ``Image.thumbnail``, ``array[::2, ::2]``,
JPEG). The embedded server applies the same cap and format check (:func:`parse_data_url`).

Pure: no I/O except reading the file a path names (its size is checked before reading).
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DETAILS",
    "MAX_IMAGE_BYTES",
    "ImageError",
    "ImageInfo",
    "describe_data_url",
    "describe_image",
    "encode_png",
    "image_data_url",
    "image_part",
    "parse_data_url",
]

MAX_IMAGE_BYTES = 8 * 1024 * 1024
"""Largest image accepted, in bytes of PNG/JPEG (before base64)."""

DETAILS = ("auto", "low", "high")
"""The ``detail`` values the protocol allows (``auto`` means ``high``)."""

# Raw pixels an array may have before encoding (PNG compresses plots ~10x; photos less).
_MAX_RAW_PIXELS_BYTES = 8 * MAX_IMAGE_BYTES
_MIMES = {"PNG": "image/png", "JPEG": "image/jpeg"}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_EXPECTED = (
    "a matplotlib figure, a PIL image, a numpy array (HxW, HxWx3 or HxWx4), PNG/JPEG bytes, "
    "a path to a PNG/JPEG file, or a data:image/png|jpeg;base64 URL"
)
_SHRINK = (
    "make it smaller: fig.savefig(..., dpi=72) or a smaller figsize, PIL's Image.thumbnail(), "
    "array[::2, ::2], or save it as JPEG"
)


class ImageError(ValueError):
    """Input that is not a usable image (wrong type, not PNG/JPEG, broken, or too large)."""


@dataclass(frozen=True)
class ImageInfo:
    """What an image is, read from its header (no decoding).

    Attributes:
        format: ``"PNG"`` or ``"JPEG"``.
        width: pixels, or 0 when the header does not say (a truncated JPEG).
        height: pixels, or 0 when unknown.
        size: bytes of the encoded image.
    """

    format: str
    width: int
    height: int
    size: int

    @property
    def mime(self) -> str:
        """``image/png`` or ``image/jpeg``."""
        return _MIMES[self.format]

    def __str__(self) -> str:
        dims = f" {self.width}x{self.height}" if self.width and self.height else ""
        return f"{self.format}{dims}"


# -- sniffing -----------------------------------------------------------------------------------
def _png_size(data: bytes) -> tuple[int, int]:
    # IHDR is always the first chunk: length(4) "IHDR"(4) width(4) height(4).
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageError("broken PNG: no IHDR header after the signature")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    # Walk the marker segments to the first start-of-frame (SOF0..SOF15 except DHT/JPG/DAC).
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 <= len(data):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            break
        i += 2 + length
    return 0, 0


def describe_image(data: bytes) -> ImageInfo:
    """Format and size of PNG/JPEG bytes, from their header.

    Raises:
        ImageError: the bytes are neither PNG nor JPEG.
    """
    data = bytes(data)
    if data.startswith(_PNG_MAGIC):
        width, height = _png_size(data)
        return ImageInfo("PNG", width, height, len(data))
    if data.startswith(_JPEG_MAGIC):
        width, height = _jpeg_size(data)
        return ImageInfo("JPEG", width, height, len(data))
    head = data[:8]
    raise ImageError(
        f"not a PNG or JPEG image ({len(data)} bytes starting {head!r}); the Realtime API "
        "takes PNG and JPEG only: convert it first (e.g. PIL: Image.open(f).save(out, 'PNG'))"
    )


def _check_size(size: int, what: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise ImageError(
            f"{what} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit for one "
            f"image; {_SHRINK}"
        )


def parse_data_url(url: str, *, max_bytes: int = MAX_IMAGE_BYTES) -> tuple[ImageInfo, bytes]:
    """Check a ``data:image/png|jpeg;base64,...`` URL and return what it holds.

    Raises:
        ImageError: not a base64 data URL, not PNG/JPEG (whatever its MIME type says), or
            more than ``max_bytes``.
    """
    if not isinstance(url, str) or not url.startswith("data:"):
        raise ImageError(
            "expected a data URL (data:image/png;base64,...); remote http(s) URLs are not "
            "accepted by the Realtime API: download the image and pass its bytes"
        )
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise ImageError("expected a base64 data URL: data:image/png;base64,<base64 bytes>")
    mime = header[5:-7].lower()
    if mime not in _MIMES.values():
        raise ImageError(f"data URL has type {mime or 'none'!r}; only image/png and image/jpeg")
    # base64 is 4/3 of the bytes: refuse before decoding a huge payload.
    _check_size(len(payload) * 3 // 4, "the image", max_bytes)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError(f"data URL payload is not valid base64: {exc}") from None
    info = describe_image(data)
    if info.mime != mime:
        raise ImageError(f"data URL says {mime} but the bytes are {info.format}")
    return info, data


def describe_data_url(url: str) -> ImageInfo | None:
    """Format and size of a data URL's image from a prefix of it (cheap: for labels).

    Decodes at most 64 KiB (a JPEG's size marker may sit after its EXIF block); ``size`` is
    estimated from the URL's length. ``None`` when it is not a PNG/JPEG base64 data URL.
    """
    if not isinstance(url, str) or not url.startswith("data:"):
        return None
    payload = url.partition(",")[2]
    head = payload[: 64 * 1024 // 3 * 4]
    try:
        data = base64.b64decode(head[: len(head) // 4 * 4], validate=True)
        info = describe_image(data)
    except (binascii.Error, ValueError):
        return None
    return ImageInfo(info.format, info.width, info.height, len(payload) * 3 // 4)


# -- encoding -----------------------------------------------------------------------------------
def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(array: Any) -> bytes:
    """A numpy image as PNG bytes (8-bit grey, grey+alpha, RGB or RGBA).

    Args:
        array: ``HxW``, ``HxWx1``, ``HxWx2``, ``HxWx3`` or ``HxWx4``; ``uint8``/``bool``, other
            integers within 0..255, or floats in [0, 1].

    Raises:
        ImageError: another shape, NaN, or values out of range (says how to scale).
    """
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ImageError(
            f"a numpy image must be HxW (grey), HxWx3 (RGB) or HxWx4 (RGBA); got shape {a.shape}"
        )
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ImageError("the numpy image has NaN or infinite values; replace them first")
        if a.size and (a.min() < 0 or a.max() > 1):
            raise ImageError(
                f"float images must be in [0, 1]; got values from {a.min():g} to {a.max():g}: "
                "divide by the maximum (or by 255 for 0..255 data)"
            )
        a = np.round(a * 255).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer):
        if a.dtype != np.uint8:
            if a.size and (a.min() < 0 or a.max() > 255):
                raise ImageError(
                    f"integer images must be within 0..255; got {a.min()} to {a.max()}: "
                    "scale to uint8 (e.g. (a / a.max() * 255).astype('uint8'))"
                )
            a = a.astype(np.uint8)
    else:
        raise ImageError(f"a numpy image must hold numbers; got dtype {a.dtype}")
    height, width, channels = a.shape
    if a.size > _MAX_RAW_PIXELS_BYTES:
        # Refuse before copying: a huge array would double in memory to be compressed.
        raise ImageError(f"a {height}x{width} image is too large to send; {_SHRINK}")
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    # Filter type 0 (None) on every row: a zero byte before each scanline.
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = np.ascontiguousarray(a).reshape(height, width * channels)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        _PNG_MAGIC
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _png_chunk(b"IEND", b"")
    )


def _is_pil_image(obj: Any) -> bool:
    module = sys.modules.get("PIL.Image")  # loaded only if the caller uses PIL
    return module is not None and isinstance(obj, module.Image)


def _is_figure(obj: Any) -> bool:
    return type(obj).__module__.startswith("matplotlib") and callable(getattr(obj, "savefig", None))


def _to_bytes(image: Any, max_bytes: int) -> bytes:
    """The PNG/JPEG bytes of ``image`` (not yet checked)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        _check_size(len(image), "the image", max_bytes)  # before copying or parsing it
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        try:
            size = os.stat(path).st_size
        except OSError as exc:
            shown = path if len(path) < 120 else path[:117] + "..."
            raise ImageError(f"cannot read image file {shown!r}: {exc.strerror}") from None
        _check_size(size, f"image file {os.path.basename(path)!r}", max_bytes)
        with open(path, "rb") as f:
            return f.read()
    if isinstance(image, np.ndarray):
        return encode_png(image)
    if _is_figure(image) or (
        type(image).__module__.startswith("matplotlib") and _is_figure(getattr(image, "figure", 0))
    ):
        figure = image if _is_figure(image) else image.figure
        out = io.BytesIO()
        figure.savefig(out, format="png", bbox_inches="tight")
        return out.getvalue()
    if _is_pil_image(image):
        out = io.BytesIO()
        frame = (
            image if image.mode in ("1", "L", "LA", "RGB", "RGBA", "P") else image.convert("RGBA")
        )
        frame.save(out, format="PNG")
        return out.getvalue()
    for method in ("_repr_png_", "_repr_jpeg_"):
        render = getattr(image, method, None)
        if callable(render):
            data = render()
            if isinstance(data, tuple):  # (data, metadata)
                data = data[0]
            if isinstance(data, str):  # IPython allows base64 text
                data = base64.b64decode(data)
            if isinstance(data, (bytes, bytearray)):
                return bytes(data)
    if hasattr(image, "__array_interface__") or hasattr(image, "__array__"):
        return encode_png(np.asarray(image))
    raise ImageError(f"expected {_EXPECTED}; got {type(image).__name__}")


def image_data_url(image: Any, *, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """``image`` as a ``data:image/png|jpeg;base64,...`` URL (see the module docstring).

    Args:
        image: a matplotlib figure or axes, a PIL image, an object with ``_repr_png_``, a numpy
            array, PNG/JPEG bytes, a path, or a data URL (checked and returned as is).
        max_bytes: the size cap (default :data:`MAX_IMAGE_BYTES`).

    Returns:
        The data URL.

    Raises:
        ImageError: what was passed is not an image, not PNG/JPEG, or too large; the message
            says what to do.
    """
    if isinstance(image, str) and image.startswith("data:"):
        parse_data_url(image, max_bytes=max_bytes)
        return image
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        raise ImageError(
            "the Realtime API takes images inline, not by URL: download it and pass the bytes"
        )
    data = _to_bytes(image, max_bytes)
    info = describe_image(data)
    _check_size(info.size, f"the {info.format} image", max_bytes)
    return f"data:{info.mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_part(image: Any, detail: str | None = None, *, max_bytes: int = MAX_IMAGE_BYTES) -> dict:
    """An ``input_image`` content part for a user message.

    Args:
        image: anything :func:`image_data_url` takes.
        detail: ``"auto"``, ``"low"`` or ``"high"``; ``None`` leaves it to the server (auto).
        max_bytes: the size cap.

    Raises:
        ImageError: not an image, too large, or an unknown ``detail``.
    """
    if detail is not None and detail not in DETAILS:
        raise ImageError(f"detail must be one of {', '.join(DETAILS)}; got {detail!r}")
    part = {"type": "input_image", "image_url": image_data_url(image, max_bytes=max_bytes)}
    if detail is not None:
        part["detail"] = detail
    return part
