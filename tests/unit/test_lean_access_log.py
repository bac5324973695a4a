"""uvicorn's access log stays as uvicorn was told: off with ``--no-access-log``."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shared.observability import configure_logging

ACCESS = "uvicorn.access"


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    logger, root = logging.getLogger(ACCESS), logging.getLogger()
    saved = (logger.handlers[:], logger.propagate, logger.level)
    saved_root = (root.handlers[:], root.level)
    yield logger
    logger.handlers[:], logger.propagate = saved[0], saved[1]
    logger.setLevel(saved[2])
    root.handlers[:] = saved_root[0]
    root.setLevel(saved_root[1])


def test_an_access_log_switched_off_stays_off(access_logger: logging.Logger) -> None:
    # What uvicorn's ``--no-access-log`` leaves before the app is imported.
    access_logger.handlers[:] = []
    access_logger.propagate = False
    configure_logging("test", "INFO")
    # uvicorn writes a request's line only when the logger has somewhere to write it.
    assert not access_logger.hasHandlers()


def test_an_access_log_asked_for_goes_through_the_service_formatter(
    access_logger: logging.Logger,
) -> None:
    access_logger.handlers[:] = [logging.StreamHandler()]
    access_logger.propagate = False
    configure_logging("test", "INFO")
    assert access_logger.hasHandlers() and access_logger.handlers == []
    assert access_logger.isEnabledFor(logging.INFO)
    configure_logging("test", "WARNING")
    # At WARNING a service writes no line per request.
    assert not access_logger.isEnabledFor(logging.INFO)
