"""The hub probe: one request without retries decides whether a download can start at all."""

from __future__ import annotations

import time

import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.errors import RepositoryNotFoundError

from pipeline.core.hub import unreachable


@pytest.fixture()
def online(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def _answer(error: Exception | None):
    def repo_info(self, repo_id, **kwargs):
        assert kwargs["timeout"] > 0  # never the library's default wait
        if error is not None:
            raise error

    return repo_info


def test_offline_mode_is_unreachable_without_a_request(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(HfApi, "repo_info", _answer(AssertionError("no request in offline mode")))
    assert unreachable("some/model") == "HF_HUB_OFFLINE is set"


@pytest.mark.usefixtures("online")
def test_a_failed_connection_is_its_first_line(monkeypatch):
    monkeypatch.setattr(HfApi, "repo_info", _answer(ConnectionError("[Errno -2] Name or service not known\nmore")))
    assert unreachable("some/model") == "[Errno -2] Name or service not known"


@pytest.mark.usefixtures("online")
def test_any_answer_of_the_hub_is_reachable(monkeypatch):
    not_found = RepositoryNotFoundError.__new__(RepositoryNotFoundError)  # a 404 (its response is not needed here)
    monkeypatch.setattr(HfApi, "repo_info", _answer(not_found))
    assert unreachable("some/model") is None
    monkeypatch.setattr(HfApi, "repo_info", _answer(None))
    assert unreachable("some/model", repo_type="dataset") is None


@pytest.mark.usefixtures("online")
def test_an_unresolvable_endpoint_fails_in_seconds_not_retries(monkeypatch):
    # The real request, to a host that cannot exist (RFC 2606): no DNS answer, no retry loop.
    monkeypatch.setattr(constants, "ENDPOINT", "https://hub.invalid")
    start = time.monotonic()
    assert unreachable("some/model")
    assert time.monotonic() - start < 5
