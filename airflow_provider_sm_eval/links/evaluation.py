"""Extra links of the evaluation operators: the execution's console page and its results in S3.

Operators compute each URL once, while they run, and store it in XCom under the link's key
(:meth:`persist`); the UI then reads the stored URL back without calling AWS. Like the amazon
provider's ``BaseAwsLink``: nothing is stored when the operator does not push XCom, and a link
whose XCom is missing or unreadable renders empty instead of failing the page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from airflow_provider_sm_eval.version_compat import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow_provider_sm_eval.version_compat import BaseOperator, Context, TaskInstanceKey

log = logging.getLogger(__name__)


class _StoredUrlLink(BaseOperatorLink):
    """A link whose URL the operator stored in XCom under ``key``."""

    name: ClassVar[str]
    key: ClassVar[str]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        try:
            url = XCom.get_value(key=self.key, ti_key=ti_key)
        except Exception:
            log.debug("No stored URL for the %r link of %s", self.name, ti_key, exc_info=True)
            return ""
        return url if isinstance(url, str) else ""

    @classmethod
    def persist(cls, context: Context, operator: BaseOperator, url: str | None) -> None:
        """Store ``url`` for the UI; nothing to store when it is unknown or the operator pushes no XCom."""
        if url and operator.do_xcom_push:
            context["ti"].xcom_push(key=cls.key, value=url)


class EvaluationExecutionLink(_StoredUrlLink):
    """The execution in SageMaker Studio (given a Studio domain) or the SageMaker console."""

    name = "Evaluation execution"
    key = "evaluation_execution_url"


class EvaluationResultsLink(_StoredUrlLink):
    """The execution's S3 output folder in the S3 console."""

    name = "Evaluation results (S3)"
    key = "evaluation_results_url"
