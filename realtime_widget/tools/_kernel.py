"""The notebook kernel's own thread as a place to run ``thread="main"`` tools.

Tools that touch notebook state that is not thread-safe (a displayed matplotlib figure, an
ipywidget's value) must run on the kernel's main thread. The kernel's main thread runs an asyncio
loop (``kernel.io_loop.asyncio_loop``); scheduling onto it works while no *synchronous* cell runs
(an ``await``-ing cell is fine). While a synchronous cell blocks, such a tool waits, and its
timeout still applies.

marimo has no IPython kernel: each session's kernel is a thread (``marimo run``) or a process
(``marimo edit``) whose cells run inside ``asyncio.run(...)``, and marimo's runtime context (what
``mo.output``, ``mo.state`` and UI elements need) belongs to that thread. So there the loop of the
thread that creates the widget, a cell's thread, plays the same part.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from realtime_widget.tools.invoke import MainThreadExecutor, loop_executor

__all__ = ["kernel_main_thread_executor"]

logger = logging.getLogger("realtime_widget.tools")


def _kernel_loop() -> asyncio.AbstractEventLoop | None:
    return _ipython_loop() or _marimo_loop()


def _ipython_loop() -> asyncio.AbstractEventLoop | None:
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:  # not imported: certainly not inside a kernel
        return None
    shell = ipython_module.get_ipython()
    io_loop = getattr(getattr(shell, "kernel", None), "io_loop", None)
    loop = getattr(io_loop, "asyncio_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) else None


def _marimo_loop() -> asyncio.AbstractEventLoop | None:
    marimo = sys.modules.get("marimo")
    if marimo is None:  # not imported: certainly not inside a marimo kernel
        return None
    try:
        # True only on a marimo kernel's thread (its runtime context is thread-local); False in
        # a script that imports marimo, and on any other thread.
        if not marimo.running_in_notebook():
            return None
        return asyncio.get_running_loop()
    except Exception:  # RuntimeError: no running loop; anything else: a marimo we do not know
        return None


def kernel_main_thread_executor() -> MainThreadExecutor | None:
    """An executor running callables on the current notebook kernel's loop.

    Set it as ``registry.main_thread_executor`` (the widget does) so ``thread="main"`` tools run
    on the kernel's main thread: IPython's main loop in Jupyter, or, in marimo, the loop of the
    kernel thread this is called on (call it from a cell, as the widget's constructor is).

    Returns:
        The executor, or None when not running inside an IPython or marimo kernel.
    """
    loop = _kernel_loop()
    if loop is None:
        logger.debug("= no notebook kernel loop found; thread='main' tools use a worker thread")
        return None
    return loop_executor(loop)
