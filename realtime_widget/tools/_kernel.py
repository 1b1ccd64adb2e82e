"""The IPython kernel's main thread as a place to run ``thread="main"`` tools.

Tools that touch notebook state that is not thread-safe (a displayed matplotlib figure, an
ipywidget's value) must run on the kernel's main thread. The kernel's main thread runs an asyncio
loop (``kernel.io_loop.asyncio_loop``); scheduling onto it works while no *synchronous* cell runs
(an ``await``-ing cell is fine). While a synchronous cell blocks, such a tool waits, and its
timeout still applies.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from realtime_widget.tools.invoke import MainThreadExecutor, loop_executor

__all__ = ["kernel_main_thread_executor"]

logger = logging.getLogger("realtime_widget.tools")


def _kernel_loop() -> asyncio.AbstractEventLoop | None:
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:  # not imported: certainly not inside a kernel
        return None
    shell = ipython_module.get_ipython()
    io_loop = getattr(getattr(shell, "kernel", None), "io_loop", None)
    loop = getattr(io_loop, "asyncio_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) else None


def kernel_main_thread_executor() -> MainThreadExecutor | None:
    """An executor running callables on the current IPython kernel's main loop.

    Set it as ``registry.main_thread_executor`` (the widget does) so ``thread="main"`` tools run
    on the kernel's main thread.

    Returns:
        The executor, or None when not running inside an IPython kernel.
    """
    loop = _kernel_loop()
    if loop is None:
        logger.debug("= no IPython kernel loop found; thread='main' tools use a worker thread")
        return None
    return loop_executor(loop)
