"""Can the Hugging Face hub be reached now? One request, before anything downloads.

huggingface_hub's downloads retry a failed connection five times with back-off (about
23 s per file, 50+ s for a model's few files) before saying they are offline. A stage
allowed to download asks here first, once and without retries, whether a repository
missing from the local cache can be fetched at all, and otherwise fails in a second.
"""

from __future__ import annotations

PROBE_TIMEOUT_S = 10  # a connection that hangs (a blackholed network) costs this, once


def unreachable(repo_id: str, repo_type: str = "model") -> str | None:
    """Why the hub cannot serve `repo_id` now (one line), or None when it answers.

    Any answer of the hub counts as reachable, a 404 or a gated repository included: the
    download that follows reports those in its own words.
    """
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    try:
        HfApi().repo_info(repo_id, repo_type=repo_type, timeout=PROBE_TIMEOUT_S)
    except OfflineModeIsEnabled:
        return "HF_HUB_OFFLINE is set"
    except HfHubHTTPError:
        return None
    except Exception as error:  # noqa: BLE001 - no DNS, refused, timed out, proxy...: one line either way
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__
    return None
