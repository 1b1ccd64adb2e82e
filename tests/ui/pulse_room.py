"""A PulseAudio "room": Chromium's real capture hears Chromium's real playback (the echo tier).

Chromium's fake audio device (``--use-fake-device-for-media-stream``) and Playwright's default
``--mute-audio`` hide echo entirely (DESIGN §4). The echo tier instead runs a private PulseAudio
daemon with three null sinks and no hardware (no ``/dev/snd`` needed)::

    Chromium playback --> [speaker] --monitor--> loopback (echo path) --+
                                                                       +--> [room] --monitor--> mic
    play_user(wav)    --> [user]    --monitor--> loopback ------------+       (remap-source,
                                                                              Chromium's default
                                                                              source)

* ``speaker`` is the default sink: everything the page plays lands there.
* ``user`` is a second sink for a simulated talker (``play_user`` runs ``paplay`` into it).
* Two ``module-loopback`` streams mix both monitors into ``room`` at unity gain, with
  ``ECHO_DELAY_MS`` of buffering standing in for the acoustic path and the device latencies.
  ``source_dont_move``/``sink_dont_move`` pin them: without those, PulseAudio moves a loopback's
  input onto the new default source when ``mic`` appears, and the loop records itself (silence).
* ``mic`` (``module-remap-source`` of ``room.monitor``) is the default source Chromium records.

Unity gain means that with echo cancellation off the page captures its own playback at about the
level it played it (0 dB echo return), a worst case louder than a laptop's speakers and mic
(typically 10-20 dB of acoustic loss); with cancellation on, what is left is the canceller's work
alone.

The daemon runs as a child process (``--daemonize=no``, our own pid to stop), root allowed, with a
private ``HOME``/``XDG_RUNTIME_DIR`` and a private socket, no D-Bus, no idle exit. Chromium reaches
it through ``PULSE_SERVER`` (``env``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

ECHO_DELAY_MS = 40
"""Buffering of the speaker -> mic loopback: about a laptop's acoustic path plus device latency."""

RATE = 48000
"""Sample rate of the room's sinks (a typical device rate)."""


def pulse_available() -> bool:
    """Whether ``pulseaudio``, ``pactl`` and ``paplay`` are on PATH (Debian ``pulseaudio``)."""
    return all(shutil.which(tool) for tool in ("pulseaudio", "pactl", "paplay"))


class PulseRoom:
    """A private PulseAudio daemon wired as the module docstring shows.

    Use as a context manager::

        with PulseRoom(tmp_path) as room:
            browser = launch_chromium_in_room(playwright, room)

    Args:
        base: an empty directory for the daemon's socket, runtime dir and log.
        echo_delay_ms: buffering of the echo path (see ``ECHO_DELAY_MS``).
    """

    def __init__(self, base: Path, *, echo_delay_ms: int = ECHO_DELAY_MS) -> None:
        self.base = Path(base)
        self.socket = self.base / "native"
        self.echo_delay_ms = echo_delay_ms
        self._proc: subprocess.Popen | None = None
        self._log = self.base / "pulseaudio.log"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client of this room (Chromium, paplay): ``PULSE_SERVER`` and a
        private ``HOME`` so no user's PulseAudio config or cookie is read."""
        return {
            **os.environ,
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(self.base / "run"),
        }

    def _modules(self) -> list[str]:
        loop = (
            f"latency_msec={self.echo_delay_ms} source_dont_move=true sink_dont_move=true"
            " remix=true"
        )
        return [
            f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            f"module-null-sink sink_name=speaker rate={RATE} channels=2"
            " sink_properties=device.description=Speaker",
            f"module-null-sink sink_name=user rate={RATE} channels=1"
            " sink_properties=device.description=User",
            f"module-null-sink sink_name=room rate={RATE} channels=1"
            " sink_properties=device.description=Room",
            f"module-loopback source=speaker.monitor sink=room {loop}",
            f"module-loopback source=user.monitor sink=room {loop}",
            "module-remap-source master=room.monitor source_name=mic"
            " source_properties=device.description=Microphone",
        ]

    def start(self) -> None:
        """Start the daemon and wait until its socket answers.

        Raises:
            RuntimeError: the daemon exited or did not answer within 10 s; the message has the
                tail of its log.
        """
        (self.base / "run").mkdir(parents=True, exist_ok=True)
        (self.base / "home").mkdir(exist_ok=True)
        env = {
            **os.environ,
            "HOME": str(self.base / "home"),
            "XDG_RUNTIME_DIR": str(self.base / "run"),
            "PULSE_RUNTIME_PATH": str(self.base / "run"),
        }
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        cmd = [
            "pulseaudio",
            "-n",  # no default.pa: only the modules below (no hardware, no X11, no D-Bus)
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--disable-shm=yes",
            "--log-target=stderr",
        ]
        for module in self._modules():
            cmd += ["-L", module]
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if self.socket.exists() and self._pactl("info").returncode == 0:
                self._pactl("set-default-sink", "speaker")
                self._pactl("set-default-source", "mic")
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pulseaudio did not start: {self.log_tail()}")

    def _pactl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, check=False
        )

    def play_user(self, wav: Path) -> subprocess.Popen:
        """Play ``wav`` into the room as the user's voice (returns the ``paplay`` process)."""
        return subprocess.Popen(
            ["paplay", "--device=user", str(wav)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the daemon's log (for failure messages)."""
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the daemon (our child process, by its pid)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> PulseRoom:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
