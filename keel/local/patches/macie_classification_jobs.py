"""Macie2 classification jobs for moto (Create/Describe/List/UpdateClassificationJob), plus Macie's
enablement as in AWS: an account starts with Macie disabled, and Macie calls made while it is disabled
answer AccessDeniedException ("Macie is not enabled").

Disabling Macie deletes its jobs, as in AWS. Jobs do not run locally: a ONE_TIME job (or a SCHEDULED
one with `initialRun`) stays RUNNING, other scheduled jobs are IDLE; updates move a job to RUNNING,
USER_PAUSED or (terminal) CANCELLED.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from moto.core.utils import utcnow
from moto.macie2 import urls
from moto.macie2.exceptions import AccessDeniedException, ResourceNotFoundException, ValidationException
from moto.macie2.models import MacieBackend
from moto.macie2.responses import MacieResponse

from keel.local.extensions import Extension

JOB_TYPES = ("ONE_TIME", "SCHEDULED")
UPDATABLE_STATUSES = ("RUNNING", "USER_PAUSED", "CANCELLED")
_SUMMARY_FIELDS = (
    "bucketCriteria",
    "bucketDefinitions",
    "createdAt",
    "jobId",
    "jobStatus",
    "jobType",
    "lastRunErrorStatus",
    "name",
    "userPausedDetails",
)
_STRING_COMPARATORS = {
    "EQ": lambda actual, values: actual in values,
    "NE": lambda actual, values: actual not in values,
    "CONTAINS": lambda actual, values: any(v in actual for v in values),
    "STARTS_WITH": lambda actual, values: any(actual.startswith(v) for v in values),
}


def _jobs(backend: MacieBackend) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "keel_jobs"):
        backend.keel_jobs = {}  # type: ignore[attr-defined]
    return backend.keel_jobs  # type: ignore[attr-defined]


def _require_enabled(backend: MacieBackend) -> None:
    if backend.macie_session is None:
        raise AccessDeniedException("Macie is not enabled.")


# -- backend ------------------------------------------------------------------------------------------
def create_classification_job(self: MacieBackend, request: dict[str, Any]) -> dict[str, Any]:
    _require_enabled(self)
    for field in ("name", "jobType", "s3JobDefinition", "clientToken"):
        if not request.get(field):
            raise ValidationException(f"{field} is required")
    job_type = request["jobType"]
    if job_type not in JOB_TYPES:
        raise ValidationException(f"jobType must be one of {', '.join(JOB_TYPES)}")
    if (job_type == "SCHEDULED") != bool(request.get("scheduleFrequency")):
        raise ValidationException(
            "scheduleFrequency is required for SCHEDULED jobs and invalid for ONE_TIME jobs"
        )
    for job in _jobs(self).values():  # clientToken makes creation idempotent
        if job["clientToken"] == request["clientToken"]:
            return job
    job_id = uuid.uuid4().hex
    initial_run = bool(request.get("initialRun", job_type == "ONE_TIME"))
    job = copy.deepcopy(request) | {
        "jobId": job_id,
        "jobArn": f"arn:aws:macie2:{self.region_name}:{self.account_id}:classification-job/{job_id}",
        "jobStatus": "RUNNING" if job_type == "ONE_TIME" or initial_run else "IDLE",
        "initialRun": initial_run,
        "createdAt": utcnow().isoformat(),
        "lastRunErrorStatus": {"code": "NONE"},
        "statistics": {"approximateNumberOfObjectsToProcess": 0, "numberOfRuns": 0},
        "samplingPercentage": request.get("samplingPercentage", 100),
        "tags": request.get("tags") or {},
    }
    _jobs(self)[job_id] = job
    return job


def describe_classification_job(self: MacieBackend, job_id: str) -> dict[str, Any]:
    _require_enabled(self)
    job = _jobs(self).get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"The classification job {job_id} does not exist.")
    return job


def update_classification_job(self: MacieBackend, job_id: str, job_status: str) -> None:
    job = describe_classification_job(self, job_id)
    if job_status not in UPDATABLE_STATUSES:
        raise ValidationException(f"jobStatus must be one of {', '.join(UPDATABLE_STATUSES)}")
    if job["jobStatus"] == "CANCELLED":
        raise ValidationException("A cancelled job cannot be updated.")
    job["jobStatus"] = job_status
    if job_status == "USER_PAUSED":
        job["userPausedDetails"] = {"jobPausedAt": utcnow().isoformat()}
    else:
        job.pop("userPausedDetails", None)


def _matches(job: dict[str, Any], criterion: dict[str, Any]) -> bool:
    compare = _STRING_COMPARATORS.get(criterion.get("comparator", "EQ"))
    if compare is None:
        raise ValidationException(f"comparator {criterion.get('comparator')} is not supported locally")
    return bool(compare(str(job.get(criterion["key"], "")), [str(v) for v in criterion.get("values", [])]))


def list_classification_jobs(
    self: MacieBackend,
    filter_criteria: dict[str, Any],
    sort_criteria: dict[str, Any],
    max_results: int,
    next_token: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    _require_enabled(self)
    jobs = [
        job
        for job in _jobs(self).values()
        if all(_matches(job, c) for c in filter_criteria.get("includes", []))
        and not any(_matches(job, c) for c in filter_criteria.get("excludes", []))
    ]
    attribute = sort_criteria.get("attributeName", "createdAt")
    jobs.sort(key=lambda job: str(job.get(attribute, "")), reverse=sort_criteria.get("orderBy") == "DESC")
    start = int(next_token or 0)
    page = jobs[start : start + max_results]
    summaries = [
        {key: job[key] for key in _SUMMARY_FIELDS if key in job}
        | {"bucketDefinitions": job["s3JobDefinition"].get("bucketDefinitions", [])}
        for job in page
    ]
    more = start + max_results < len(jobs)
    return summaries, str(start + max_results) if more else None


def _start_disabled(original_init: Any) -> Any:
    def init(self: MacieBackend, region_name: str, account_id: str) -> None:
        original_init(self, region_name, account_id)
        self.macie_session = None  # as in AWS: Macie is off until EnableMacie / AWS::Macie::Session

    return init


def _delete_jobs_on_disable(original_disable: Any) -> Any:
    def disable_macie(self: MacieBackend) -> None:
        original_disable(self)
        _jobs(self).clear()  # disabling Macie deletes its jobs, as in AWS

    return disable_macie


def get_macie_session(self: MacieBackend) -> dict[str, Any]:
    _require_enabled(self)
    return _original_get_macie_session(self)


_original_get_macie_session = MacieBackend.get_macie_session


# -- request handlers ---------------------------------------------------------------------------------
def _job_id(response: MacieResponse) -> str:
    return response.path.rstrip("/").rsplit("/", 1)[-1]


def handle_create_classification_job(self: MacieResponse) -> str:
    request = json.loads(self.body or "{}")
    request.setdefault("clientToken", str(uuid.uuid4()))
    job = self.macie_backend.create_classification_job(request)  # type: ignore[attr-defined]
    return json.dumps({"jobArn": job["jobArn"], "jobId": job["jobId"]})


def handle_describe_classification_job(self: MacieResponse) -> str:
    return json.dumps(self.macie_backend.describe_classification_job(_job_id(self)))  # type: ignore[attr-defined]


def handle_update_classification_job(self: MacieResponse) -> str:
    request = json.loads(self.body or "{}")
    self.macie_backend.update_classification_job(_job_id(self), request.get("jobStatus"))  # type: ignore[attr-defined]
    return "{}"


def handle_list_classification_jobs(self: MacieResponse) -> str:
    request = json.loads(self.body or "{}")
    items, next_token = self.macie_backend.list_classification_jobs(  # type: ignore[attr-defined]
        request.get("filterCriteria") or {},
        request.get("sortCriteria") or {},
        int(request.get("maxResults") or 100),
        request.get("nextToken"),
    )
    return json.dumps({"items": items, "nextToken": next_token})


def install() -> None:
    MacieBackend.__init__ = _start_disabled(MacieBackend.__init__)  # type: ignore[method-assign]
    MacieBackend.get_macie_session = get_macie_session  # type: ignore[method-assign]
    MacieBackend.disable_macie = _delete_jobs_on_disable(MacieBackend.disable_macie)  # type: ignore[method-assign]
    MacieBackend.create_classification_job = create_classification_job  # type: ignore[attr-defined]
    MacieBackend.describe_classification_job = describe_classification_job  # type: ignore[attr-defined]
    MacieBackend.update_classification_job = update_classification_job  # type: ignore[attr-defined]
    MacieBackend.list_classification_jobs = list_classification_jobs  # type: ignore[attr-defined]
    MacieResponse.create_classification_job = handle_create_classification_job  # type: ignore[attr-defined]
    MacieResponse.describe_classification_job = handle_describe_classification_job  # type: ignore[attr-defined]
    MacieResponse.update_classification_job = handle_update_classification_job  # type: ignore[attr-defined]
    MacieResponse.list_classification_jobs = handle_list_classification_jobs  # type: ignore[attr-defined]
    urls.url_paths.update(
        {
            "{0}/jobs$": MacieResponse.dispatch,
            "{0}/jobs/list$": MacieResponse.dispatch,
            "{0}/jobs/(?P<jobId>[^/]+)$": MacieResponse.dispatch,
        }
    )


EXTENSION = Extension(
    name="macie2-classification-jobs",
    kind="api",
    what="Macie2 Create/Describe/List/UpdateClassificationJob (validation, clientToken idempotency, "
    "status transitions, CANCELLED terminal); accounts start with Macie disabled (AccessDenied until "
    "enabled)",
    why="moto's macie2 has no classification-job API; Keel's Macie job provider needs it",
    upstream=True,
    install=install,
)
