from django.db import models


class PublishState(models.TextChoices):
    """Where a publishing job is; kept in the cache under the job's id for the progress bar."""

    QUEUED = "queued", "Queued"
    COMPUTING = "computing", "Computing the figures"
    RENDERING = "rendering", "Printing the PDF"
    SAVING = "saving", "Saving the snapshot"
    DONE = "done", "Published"
    FAILED = "failed", "Failed"
