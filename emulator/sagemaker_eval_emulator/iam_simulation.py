"""``iam:SimulatePrincipalPolicy``, which the SageMaker SDK calls to check a role before it starts a job.

moto does not implement it. The emulator enforces no IAM policy, so every simulated action is
``allowed``: the answer says what the emulator will do. The response is IAM's query-protocol XML
(``SimulatePrincipalPolicyResult`` with one ``EvaluationResults`` member per action name).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sagemaker_eval_emulator.operations import FORM_CONTENT_TYPE, credential_scope

OPERATION = "SimulatePrincipalPolicy"
_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"


def action_names(form: dict[str, list[str]]) -> list[str]:
    """``ActionNames.member.N`` of a query-protocol request, in N order."""
    members = []
    for key, values in form.items():
        prefix, _, index = key.rpartition(".")
        if prefix == "ActionNames.member" and index.isdigit() and values:
            members.append((int(index), values[0]))
    return [name for _, name in sorted(members)]


def simulate_principal_policy(body: bytes) -> bytes:
    """The XML response to a SimulatePrincipalPolicy request body: every action allowed."""
    form = parse_qs(body.decode("utf-8", "replace"))
    results = "".join(
        "<member>"
        f"<EvalActionName>{escape(name)}</EvalActionName>"
        "<EvalResourceName>*</EvalResourceName>"
        "<EvalDecision>allowed</EvalDecision>"
        "<MatchedStatements/><MissingContextValues/>"
        "</member>"
        for name in action_names(form)
    )
    return (
        f'<SimulatePrincipalPolicyResponse xmlns="{_NAMESPACE}">'
        "<SimulatePrincipalPolicyResult>"
        f"<IsTruncated>false</IsTruncated><EvaluationResults>{results}</EvaluationResults>"
        "</SimulatePrincipalPolicyResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</SimulatePrincipalPolicyResponse>"
    ).encode()


def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
    """Answer a SimulatePrincipalPolicy request (an IAM query-protocol POST); None for any other request."""
    if not environ.get("CONTENT_TYPE", "").startswith(FORM_CONTENT_TYPE):
        return None
    scope = credential_scope(environ)
    if scope is None or scope.service != "iam":
        return None
    stream = environ["wsgi.input"]
    body = stream.read()
    environ["wsgi.input"] = io.BytesIO(body)
    if parse_qs(body.decode("utf-8", "replace")).get("Action") != [OPERATION]:
        return None
    data = simulate_principal_policy(body)
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
    return [data]
