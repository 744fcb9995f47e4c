"""Clinic settings from the environment, and the admission limit they set."""

from __future__ import annotations

import asyncio

import pytest

from equipoise.cli.main import main
from equipoise.clinic.app import Admission
from equipoise.clinic.settings import Settings
from equipoise.errors import ClinicError


def test_environment_sets_threads_and_requests_in_progress(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setenv("EQUIPOISE_CLINIC_THREADS", "6")
    monkeypatch.setenv("EQUIPOISE_CLINIC_IN_PROGRESS", "3")
    cfg = Settings.from_env(database_url="sqlite://")
    assert (cfg.threads, cfg.in_progress) == (6, 3)
    assert Settings(database_url="sqlite://").in_progress == 2


@pytest.mark.parametrize(("threads", "in_progress"), [(4, 4), (4, 7), (4, 0)])
def test_requests_in_progress_must_be_fewer_than_threads(threads: int, in_progress: int
                                                         ) -> None:
    with pytest.raises(ClinicError, match="in_progress") as caught:
        Settings(database_url="sqlite://", threads=threads, in_progress=in_progress)
    assert caught.value.field == "in_progress"


def test_a_bad_environment_value_is_named(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EQUIPOISE_CLINIC_IN_PROGRESS", "two")
    with pytest.raises(ClinicError, match="EQUIPOISE_CLINIC_IN_PROGRESS='two'"):
        Settings.from_env(database_url="sqlite://")
    # The command line says so in one line, without a traceback, and starts nothing.
    assert main(["clinic", "migrate", "--database-url", "sqlite://"]) == 1
    err = capsys.readouterr().err
    assert "EQUIPOISE_CLINIC_IN_PROGRESS='two' is not a whole number" in err
    assert "Traceback" not in err


def test_admission_holds_requests_in_progress_to_its_limit() -> None:
    """Requests beyond the limit wait, and are let in first come first served."""
    running = 0
    peak = 0
    order: list[int] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        order.append(int(str(scope["path"]).strip("/")))
        await asyncio.sleep(0.01)
        running -= 1

    async def run() -> None:
        gate = Admission(app, limit=2)    # type: ignore[arg-type]
        await asyncio.gather(*(gate({"type": "http", "path": f"/{k}"}, None, None)  # type: ignore[arg-type]
                               for k in range(7)))

    asyncio.run(run())
    assert peak == 2
    assert order == list(range(7))
