"""Command line: ``python -m realtime_widget.server --host 127.0.0.1 --port 8765``.

Prints ``listening on ws://HOST:PORT/v1/realtime`` and serves until interrupted (Ctrl-C).

The key clients must present comes from the ``REALTIME_WIDGET_SERVER_KEY`` environment variable
or from ``--api-key-file PATH`` (the file's first line): a key given as ``--api-key`` is visible
to every user of the machine in the process list, so that option is kept for compatibility only
and warns. The key itself is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from pathlib import Path

from realtime_widget.server.app import LocalRealtimeServer

KEY_ENV = "REALTIME_WIDGET_SERVER_KEY"
"""Environment variable holding the key clients must present (unset or empty: no key)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="realtime-widget-server",
        description="A local Realtime API server (OpenAI GA + beta protocol) for offline use.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0 = any free port)")
    parser.add_argument(
        "--api-key",
        default=None,
        help=f"require this key from clients (visible in the process list: prefer {KEY_ENV} "
        "or --api-key-file)",
    )
    parser.add_argument(
        "--api-key-file",
        default=None,
        metavar="PATH",
        help="require the key on this file's first line from clients",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept browser pages from this origin (repeatable; loopback pages and "
        "non-browser clients are always accepted)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="audio pacing, 0 = unpaced")
    parser.add_argument(
        "--max-session-seconds", type=float, default=3600, help="session length (default 3600)"
    )
    parser.add_argument(
        "--brain",
        default=None,
        help="who answers: 'local' (speech-to-text, a language model and text-to-speech), "
        "'module:attribute' (a Brain or a callable text -> str); default: the deterministic "
        "echo brain",
    )
    parser.add_argument(
        "--vad",
        choices=["auto", "silero", "energy"],
        default=None,
        help="server VAD detector (default auto: Silero when installed, else energy)",
    )
    parser.add_argument("--stt", help="with --brain local: a Whisper model/folder or a URL")
    parser.add_argument("--llm", help="with --brain local: a .gguf file or a chat endpoint URL")
    parser.add_argument("--tts", help="with --brain local: a Piper .onnx, 'espeak' or a URL")
    return parser


def _load_brain(args: argparse.Namespace) -> object:
    spec = args.brain
    if spec is None:
        return None
    if spec == "local":
        from realtime_widget.server.local import StageError, find_pipeline

        try:
            pipeline = find_pipeline(args.stt, args.llm, args.tts)
            for line in pipeline.describe():
                print(line, flush=True)
            return pipeline.load()
        except StageError as exc:
            raise SystemExit(f"the local pipeline is not available: {exc}") from None
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise SystemExit(f"--brain must look like 'package.module:attribute', got {spec!r}")
    target = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target() if isinstance(target, type) else target


def _api_key(args: argparse.Namespace) -> tuple[str | None, str]:
    """The key clients must present and where it came from (for a message without the key)."""
    if args.api_key is not None and args.api_key_file is not None:
        raise SystemExit("give --api-key or --api-key-file, not both")
    if args.api_key is not None:
        print(
            f"warning: --api-key is visible to other users in the process list; set {KEY_ENV} "
            "or use --api-key-file instead",
            file=sys.stderr,
            flush=True,
        )
        key, source = args.api_key, "--api-key"
    elif args.api_key_file is not None:
        try:
            lines = Path(args.api_key_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            # The error names the file and the reason, never its content.
            raise SystemExit(
                f"--api-key-file: cannot read {args.api_key_file!r} ({type(exc).__name__}); "
                "give a readable UTF-8 file whose first line is the key"
            ) from None
        key, source = (lines[0].strip() if lines else ""), "--api-key-file"
        if not key:
            raise SystemExit(f"--api-key-file: {args.api_key_file!r} has no key on its first line")
    else:
        key, source = os.environ.get(KEY_ENV, "").strip(), KEY_ENV
    if not key:
        return None, ""
    return key, source


async def _serve(args: argparse.Namespace) -> None:
    api_key, source = _api_key(args)
    server = LocalRealtimeServer(
        args.host,
        args.port,
        api_key=api_key,
        allowed_origins=args.allowed_origin,
        speed=args.speed,
        max_session_seconds=args.max_session_seconds,
        brain=_load_brain(args),
        vad=args.vad,
    )
    async with server:
        print(f"listening on {server.url}", flush=True)
        if api_key is not None:
            print(f"clients must present the key from {source}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    """Run the server until interrupted; returns the process exit code."""
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
