"""What the SageMaker SDK's evaluators look up around a pipeline: hubs, model packages, MLflow apps, lineage.

The SDK (``sagemaker-train``) resolves a JumpStart model id in the public hub
(``DescribeHubContent``), a fine-tuned model package to its base model (``DescribeModelPackage``:
``InferenceSpecification.Containers[0].BaseModel``), the account's MLflow app
(``ListMlflowApps``), and finds or creates the lineage artifact of the model (``ListArtifacts``,
``CreateArtifact``); the pipeline's ``Lineage`` steps create actions, contexts and associations.
This module answers those operations in the shapes of botocore's SageMaker model, from the data
of ``seed`` plus whatever tests add in process. All state sits behind one lock.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagemaker_eval_emulator.errors import ResourceNotFound, ValidationException
from sagemaker_eval_emulator.params import (
    created_in_window,
    paginate,
    parsed_tags,
    required_param,
    with_next_token,
    with_optional,
)
from sagemaker_eval_emulator.seed import (
    DEFAULT_SEED,
    JUDGE_MODELS_BUCKET,
    JUDGE_MODELS_KEY,
    PUBLIC_HUB,
    HubContentSeed,
    MlflowAppSeed,
    ModelPackageSeed,
    Seed,
    judge_models_document,
)

#: Stores one object in the emulator's S3, creating its bucket when needed.
PutSeedObject = Callable[[str, str, bytes], None]

#: Status of hub content that can be used (``HubContentStatus``).
_AVAILABLE = "Available"
#: ``DocumentSchemaVersion`` per hub content type (the public hub's Model documents are 2.x).
_SCHEMA_VERSIONS = {"Model": "2.3.0", "DataSet": "2.0.0", "JsonDoc": "2.0.0"}


@dataclass
class _HubContent:
    seed: HubContentSeed
    arn: str
    hub_arn: str
    created: float


@dataclass
class _LineageEntity:
    """A context, action or artifact (their shapes share these members)."""

    kind: str  # "context" | "action" | "artifact"
    name: str | None
    arn: str
    entity_type: str
    source: dict[str, Any]
    properties: dict[str, str]
    created: float
    status: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


def hub_arn(region: str, account: str, hub_name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:hub/{hub_name}"


def hub_content_arn(
    region: str, account: str, hub_name: str, *, content_type: str, name: str, version: str
) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:hub-content/{hub_name}/{content_type}/{name}/{version}"


def ai_registry_hub_name(region: str, account: str) -> str:
    """The name of the account's private AI Registry hub, where the SDK keeps datasets and evaluators.

    The SDK names it after the base32 (hex alphabet, unpadded) SHA-256 of
    ``AiRegistry-<region>-<account>`` (``sagemaker.ai_registry.air_hub``).
    """
    digest = hashlib.sha256(f"AiRegistry-{region}-{account}".encode()).digest()
    return _base32_hex(digest)


def _base32_hex(data: bytes) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
    bits = int.from_bytes(data, "big")
    count = len(data) * 8
    pad = (-count) % 5
    bits <<= pad
    count += pad
    return "".join(alphabet[(bits >> shift) & 31] for shift in range(count - 5, -1, -5))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


class Catalog:
    """Hub content, model packages, MLflow apps and lineage entities of one emulator (all regions)."""

    def __init__(self, account_id: str, seed: Seed = DEFAULT_SEED) -> None:
        self._lock = threading.RLock()
        self.account_id = account_id
        self._seed = seed
        self._hub_contents: dict[tuple[str, str, str, str], dict[str, _HubContent]] = {}
        self._model_packages: dict[str, dict[str, Any]] = {}  # ARN -> DescribeModelPackage response
        self._mlflow_apps: dict[str, dict[str, Any]] = {}  # ARN -> DescribeMlflowApp response
        self._lineage: dict[str, _LineageEntity] = {}  # ARN -> entity
        self._associations: list[dict[str, Any]] = []
        self._regions: set[str] = set()
        self._last_stamp = 0.0

    def _now(self) -> float:
        self._last_stamp = max(round(time.time(), 3), round(self._last_stamp + 0.001, 3))
        return self._last_stamp

    # --- seeding and the in-process API ---------------------------------------------------
    def reset(self) -> None:
        """Forget everything added; the seed is loaded again per region on first use."""
        with self._lock:
            self._hub_contents.clear()
            self._model_packages.clear()
            self._mlflow_apps.clear()
            self._lineage.clear()
            self._associations.clear()
            self._regions.clear()

    def _region(self, region: str) -> None:
        """Load the seed into ``region`` the first time the region is used (caller holds the lock)."""
        if region in self._regions:
            return
        self._regions.add(region)
        for content in self._seed.hub_contents:
            self._add_hub_content(content, region)
            if content.content_type != "Model":  # datasets and evaluators are in the AI Registry hub too
                private = ai_registry_hub_name(region, self.account_id)
                self._add_hub_content(_in_hub(content, private), region)
        for package in self._seed.model_packages:
            self._add_model_package(package, region)
        for app in self._seed.mlflow_apps:
            self._add_mlflow_app(app, region)

    @property
    def judge_models(self) -> tuple[str, ...]:
        """Bedrock model ids the LLM-as-judge evaluator accepts (also served by GetFoundationModel)."""
        return self._seed.judge_models

    def seed_buckets(self, region: str) -> set[str]:
        """The buckets ``seed_objects`` writes to."""
        written: set[str] = set()
        self.seed_objects(region, lambda bucket, key, body: written.add(bucket))
        return written

    def seed_objects(self, region: str, put: PutSeedObject) -> None:
        """Write the seed's S3 objects (the judge model list of ``region`` among them)."""
        put(
            JUDGE_MODELS_BUCKET.format(region=region),
            JUDGE_MODELS_KEY,
            judge_models_document(self._seed.judge_models),
        )
        for uri, body in self._seed.objects.items():
            bucket, _, key = uri.format(region=region).removeprefix("s3://").partition("/")
            put(bucket, key, body)

    def add_hub_content(self, content: HubContentSeed, region: str) -> str:
        """Add one hub content version (tests); returns its ARN."""
        with self._lock:
            self._region(region)
            return self._add_hub_content(content, region)

    def add_model_package(self, package: ModelPackageSeed, region: str) -> str:
        """Add a model package (tests); returns its ARN."""
        with self._lock:
            self._region(region)
            return self._add_model_package(package, region)

    def add_mlflow_app(self, app: MlflowAppSeed, region: str) -> str:
        with self._lock:
            self._region(region)
            return self._add_mlflow_app(app, region)

    def _add_hub_content(self, content: HubContentSeed, region: str) -> str:
        account = "aws" if content.hub_name == PUBLIC_HUB else self.account_id
        arn = hub_content_arn(
            region,
            account,
            content.hub_name,
            content_type=content.content_type,
            name=content.name,
            version=content.version,
        )
        key = (region, content.hub_name, content.content_type, content.name)
        self._hub_contents.setdefault(key, {})[content.version] = _HubContent(
            seed=content, arn=arn, hub_arn=hub_arn(region, account, content.hub_name), created=self._now()
        )
        return arn

    def _add_model_package(self, package: ModelPackageSeed, region: str) -> str:
        arn = f"arn:aws:sagemaker:{region}:{self.account_id}:model-package/{package.group}/{package.version}"
        container: dict[str, Any] = {
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124",
            "ModelDataSource": {
                "S3DataSource": {
                    "S3Uri": package.model_data_url
                    or f"s3://sagemaker-{region}-{self.account_id}/{package.group}/{package.version}/model/",
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            },
        }
        if package.base_model is not None:
            container["BaseModel"] = with_optional(
                {"HubContentName": package.base_model, "HubContentVersion": package.base_model_version},
                RecipeName=package.recipe_name,
            )
        now = self._now()
        self._model_packages[arn] = {
            "ModelPackageName": package.group,
            "ModelPackageGroupName": package.group,
            "ModelPackageVersion": package.version,
            "ModelPackageArn": arn,
            "CreationTime": now,
            "LastModifiedTime": now,
            "InferenceSpecification": {
                "Containers": [container],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "ModelApprovalStatus": "Approved",
            "CertifyForMarketplace": False,
        }
        return arn

    def _add_mlflow_app(self, app: MlflowAppSeed, region: str) -> str:
        arn = f"arn:aws:sagemaker:{region}:{self.account_id}:mlflow-app/{app.app_id}"
        now = self._now()
        self._mlflow_apps[arn] = {
            "Arn": arn,
            "Name": app.name,
            "ArtifactStoreUri": f"s3://sagemaker-{region}-{self.account_id}/mlflow/{app.app_id}",
            "MlflowVersion": app.mlflow_version,
            "Status": app.status,
            "AccountDefaultStatus": "ENABLED" if app.account_default else "DISABLED",
            "CreationTime": now,
            "LastModifiedTime": now,
        }
        return arn

    # --- hubs -----------------------------------------------------------------------------
    def op_describe_hub(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        name = required_param(params, "HubName")
        with self._lock:
            self._region(region)
            contents = [
                v
                for (r, hub, _, _), vs in self._hub_contents.items()
                if r == region and hub == name
                for v in vs.values()
            ]
            if not contents:
                raise ResourceNotFound(f"Hub {name} does not exist.")
            created = min(c.created for c in contents)
            return {
                "HubName": name,
                "HubArn": contents[0].hub_arn,
                "HubDisplayName": name,
                "HubStatus": "InService",
                "CreationTime": created,
                "LastModifiedTime": created,
            }

    def op_describe_hub_content(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        hub, kind, name = (required_param(params, k) for k in ("HubName", "HubContentType", "HubContentName"))
        with self._lock:
            self._region(region)
            versions = self._hub_contents.get((region, hub, kind, name), {})
            wanted = params.get("HubContentVersion")
            if wanted is not None:
                entry = versions.get(wanted)
            else:
                entry = versions[max(versions, key=_version_key)] if versions else None
            if entry is None:
                shown = f"{name}/{wanted}" if wanted else name
                raise ResourceNotFound(f"Hub content {shown} of type {kind} does not exist in hub {hub}.")
            content = entry.seed
            return with_optional(
                {
                    "HubContentName": content.name,
                    "HubContentArn": entry.arn,
                    "HubContentVersion": content.version,
                    "HubContentType": content.content_type,
                    "DocumentSchemaVersion": _SCHEMA_VERSIONS.get(content.content_type, "2.0.0"),
                    "HubName": hub,
                    "HubArn": entry.hub_arn,
                    "HubContentDocument": json.dumps(content.document).replace("{region}", region),
                    "HubContentSearchKeywords": list(content.search_keywords),
                    "HubContentStatus": _AVAILABLE,
                    "CreationTime": entry.created,
                    "LastModifiedTime": entry.created,
                },
                HubContentDisplayName=content.display_name,
                HubContentDescription=content.description,
            )

    def op_list_hub_contents(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        hub, kind = required_param(params, "HubName"), required_param(params, "HubContentType")
        contains = params.get("NameContains", "")
        with self._lock:
            self._region(region)
            latest = [
                versions[max(versions, key=_version_key)]
                for (r, h, k, name), versions in sorted(self._hub_contents.items())
                if r == region and h == hub and k == kind and contains in name and versions
            ]
            return self._summaries(latest, params)

    def op_list_hub_content_versions(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        hub, kind, name = (required_param(params, k) for k in ("HubName", "HubContentType", "HubContentName"))
        with self._lock:
            self._region(region)
            versions = self._hub_contents.get((region, hub, kind, name), {})
            low = params.get("MinVersion")
            entries = [
                versions[v]
                for v in sorted(versions, key=_version_key)
                if low is None or _version_key(v) >= _version_key(low)
            ]
            return self._summaries(entries, params)

    def _summaries(self, entries: list[_HubContent], params: dict[str, Any]) -> dict[str, Any]:
        entries = [
            e
            for e in entries
            if created_in_window(e.created, params.get("CreationTimeAfter"), params.get("CreationTimeBefore"))
        ]
        if params.get("SortOrder") == "Descending":
            entries.reverse()
        page, token = paginate(entries, params)
        summaries = [
            with_optional(
                {
                    "HubContentName": e.seed.name,
                    "HubContentArn": e.arn,
                    "HubContentVersion": e.seed.version,
                    "HubContentType": e.seed.content_type,
                    "DocumentSchemaVersion": _SCHEMA_VERSIONS.get(e.seed.content_type, "2.0.0"),
                    "HubContentStatus": _AVAILABLE,
                    "CreationTime": e.created,
                    "HubContentSearchKeywords": list(e.seed.search_keywords),
                },
                HubContentDisplayName=e.seed.display_name,
                HubContentDescription=e.seed.description,
            )
            for e in page
        ]
        return with_next_token({"HubContentSummaries": summaries}, token)

    # --- model packages -------------------------------------------------------------------
    def op_describe_model_package(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        ref = required_param(params, "ModelPackageName")
        with self._lock:
            self._region(region)
            package = self._model_packages.get(ref)
            if package is None or f":{region}:" not in ref:
                raise ValidationException(f"Model package {ref} not found")
            return json.loads(json.dumps(package))

    # --- MLflow apps ------------------------------------------------------------------------
    def op_list_mlflow_apps(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            self._region(region)
            apps = [
                a
                for a in self._mlflow_apps.values()
                if f":{region}:" in a["Arn"]
                and created_in_window(
                    a["CreationTime"], params.get("CreatedAfter"), params.get("CreatedBefore")
                )
                and params.get("Status", a["Status"]) == a["Status"]
                and params.get("MlflowVersion", a["MlflowVersion"]) == a["MlflowVersion"]
                and params.get("AccountDefaultStatus", a["AccountDefaultStatus"]) == a["AccountDefaultStatus"]
            ]
            key = "Name" if params.get("SortBy") == "Name" else "CreationTime"
            apps.sort(key=lambda a: a[key], reverse=params.get("SortOrder", "Descending") == "Descending")
            page, token = paginate(apps, params)
            summaries = [
                {
                    k: a[k]
                    for k in ("Arn", "Name", "Status", "CreationTime", "LastModifiedTime", "MlflowVersion")
                }
                for a in page
            ]
            return with_next_token({"Summaries": summaries}, token)

    def op_describe_mlflow_app(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        arn = required_param(params, "Arn")
        with self._lock:
            self._region(region)
            app = self._mlflow_apps.get(arn)
            if app is None:
                raise ResourceNotFound(f"MLflow app {arn} does not exist.")
            return dict(app)

    def op_create_mlflow_app(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        name = required_param(params, "Name")
        required_param(params, "ArtifactStoreUri")
        required_param(params, "RoleArn")
        with self._lock:
            self._region(region)
            app_id = "app-" + hashlib.sha256(f"{region}/{name}/{self._now()}".encode()).hexdigest()[:14]
            default = params.get("AccountDefaultStatus") == "ENABLED"
            arn = self._add_mlflow_app(
                MlflowAppSeed(name=name, app_id=app_id, account_default=default), region
            )
            self._mlflow_apps[arn]["ArtifactStoreUri"] = params["ArtifactStoreUri"]
            self._mlflow_apps[arn]["RoleArn"] = params["RoleArn"]
            return {"Arn": arn}

    def op_delete_mlflow_app(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        arn = required_param(params, "Arn")
        with self._lock:
            self._region(region)
            if self._mlflow_apps.pop(arn, None) is None:
                raise ResourceNotFound(f"MLflow app {arn} does not exist.")
            return {"Arn": arn}

    # --- lineage ----------------------------------------------------------------------------
    def create_lineage(self, kind: str, params: dict[str, Any], region: str, *, reuse: bool = False) -> str:
        """Create a context, action or artifact; returns its ARN. With ``reuse`` (Lineage steps, which
        run again when their execution is retried), an entity of that kind and name is kept as it is."""
        with self._lock:
            self._region(region)
            name_key = {"context": "ContextName", "action": "ActionName", "artifact": "ArtifactName"}[kind]
            if reuse and isinstance(params.get(name_key), str):
                try:
                    return self.lineage_arn(kind, params[name_key], region)
                except ResourceNotFound:
                    pass
            type_key = {"context": "ContextType", "action": "ActionType", "artifact": "ArtifactType"}[kind]
            name_key = {"context": "ContextName", "action": "ActionName", "artifact": "ArtifactName"}[kind]
            entity_type = required_param(params, type_key)
            source = required_param(params, "Source")
            name = params.get(name_key)
            if kind == "artifact":
                suffix = hashlib.md5(f"{source.get('SourceUri')}/{self._now()}".encode()).hexdigest()
            else:
                suffix = required_param(params, name_key).lower()
            arn = f"arn:aws:sagemaker:{region}:{self.account_id}:{kind}/{suffix}"
            if arn in self._lineage:
                raise ValidationException(
                    f"{kind.capitalize()} {name} already exists: {arn}"  # as SageMaker: names are unique
                )
            self._lineage[arn] = _LineageEntity(
                kind=kind,
                name=name,
                arn=arn,
                entity_type=entity_type,
                source=dict(source),
                properties=dict(params.get("Properties") or {}),
                created=self._now(),
                status=params.get("Status"),
                description=params.get("Description"),
                tags=parsed_tags(params.get("Tags", [])),
            )
            return arn

    def op_create_context(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        return {"ContextArn": self.create_lineage("context", params, region)}

    def op_create_action(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        return {"ActionArn": self.create_lineage("action", params, region)}

    def op_create_artifact(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        return {"ArtifactArn": self.create_lineage("artifact", params, region)}

    def lineage_arn(self, kind: str, name: str, region: str) -> str:
        """The ARN of the context, action or artifact named ``name``; ResourceNotFound when there is none."""
        with self._lock:
            for entity in self._lineage.values():
                if entity.kind == kind and entity.name == name and f":{region}:" in entity.arn:
                    return entity.arn
            raise ResourceNotFound(f"{kind.capitalize()} {name} does not exist.")

    def _entity(self, kind: str, ref: str, region: str) -> _LineageEntity:
        arn = (
            ref
            if ref.startswith("arn:")
            else f"arn:aws:sagemaker:{region}:{self.account_id}:{kind}/{ref.lower()}"
        )
        entity = self._lineage.get(arn)
        if entity is None or entity.kind != kind:
            raise ResourceNotFound(f"{kind.capitalize()} '{arn}' does not exist.")
        return entity

    def _describe(self, entity: _LineageEntity, name_key: str, arn_key: str, type_key: str) -> dict[str, Any]:
        response = with_optional(
            {
                arn_key: entity.arn,
                "Source": entity.source,
                type_key: entity.entity_type,
                "Properties": entity.properties,
                "CreationTime": entity.created,
                "LastModifiedTime": entity.created,
            },
            Description=entity.description,
            Status=entity.status,
        )
        if entity.name is not None:
            response[name_key] = entity.name
        return response

    def op_describe_context(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            entity = self._entity("context", required_param(params, "ContextName"), region)
            return self._describe(entity, "ContextName", "ContextArn", "ContextType")

    def op_describe_action(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            entity = self._entity("action", required_param(params, "ActionName"), region)
            return self._describe(entity, "ActionName", "ActionArn", "ActionType")

    def op_describe_artifact(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            entity = self._entity("artifact", required_param(params, "ArtifactArn"), region)
            return self._describe(entity, "ArtifactName", "ArtifactArn", "ArtifactType")

    def _list(
        self, kind: str, params: dict[str, Any], region: str, type_key: str
    ) -> tuple[list[_LineageEntity], str | None]:
        with self._lock:
            self._region(region)
            entities = [
                e
                for e in self._lineage.values()
                if e.kind == kind
                and f":{region}:" in e.arn
                and ("SourceUri" not in params or e.source.get("SourceUri") == params["SourceUri"])
                and (type_key not in params or e.entity_type == params[type_key])
                and created_in_window(e.created, params.get("CreatedAfter"), params.get("CreatedBefore"))
            ]
            if params.get("SortOrder", "Descending") == "Descending":
                entities.reverse()
            return paginate(entities, params)

    def _summary(self, e: _LineageEntity, name_key: str, arn_key: str, type_key: str) -> dict[str, Any]:
        summary = with_optional(
            {
                arn_key: e.arn,
                "Source": e.source,
                type_key: e.entity_type,
                "CreationTime": e.created,
                "LastModifiedTime": e.created,
            },
            Status=e.status,
        )
        if e.name is not None:
            summary[name_key] = e.name
        return summary

    def op_list_contexts(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        page, token = self._list("context", params, region, "ContextType")
        items = [self._summary(e, "ContextName", "ContextArn", "ContextType") for e in page]
        return with_next_token({"ContextSummaries": items}, token)

    def op_list_actions(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        page, token = self._list("action", params, region, "ActionType")
        items = [self._summary(e, "ActionName", "ActionArn", "ActionType") for e in page]
        return with_next_token({"ActionSummaries": items}, token)

    def op_list_artifacts(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        page, token = self._list("artifact", params, region, "ArtifactType")
        items = [self._summary(e, "ArtifactName", "ArtifactArn", "ArtifactType") for e in page]
        return with_next_token({"ArtifactSummaries": items}, token)

    def add_association(self, source_arn: str, destination_arn: str, association_type: str | None) -> None:
        """Associate two lineage entities; either may be outside the catalog (a model package, ...)."""
        with self._lock:
            for arn in (source_arn, destination_arn):
                kind = arn.split(":")[5].split("/")[0] if arn.count(":") >= 5 else ""
                if kind in ("context", "action", "artifact") and arn not in self._lineage:
                    raise ResourceNotFound(f"{kind.capitalize()} '{arn}' does not exist.")
            entry = with_optional(
                {"SourceArn": source_arn, "DestinationArn": destination_arn, "CreationTime": self._now()},
                AssociationType=association_type,
            )
            if not any(
                a["SourceArn"] == source_arn and a["DestinationArn"] == destination_arn
                for a in self._associations
            ):
                self._associations.append(entry)

    def op_add_association(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        source, destination = required_param(params, "SourceArn"), required_param(params, "DestinationArn")
        self.add_association(source, destination, params.get("AssociationType"))
        return {"SourceArn": source, "DestinationArn": destination}

    def op_list_associations(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            found = [
                a
                for a in self._associations
                if params.get("SourceArn", a["SourceArn"]) == a["SourceArn"]
                and params.get("DestinationArn", a["DestinationArn"]) == a["DestinationArn"]
                and params.get("AssociationType", a.get("AssociationType")) == a.get("AssociationType")
            ]
            page, token = paginate(found, params)
            return with_next_token({"AssociationSummaries": [dict(a) for a in page]}, token)


def _in_hub(content: HubContentSeed, hub_name: str) -> HubContentSeed:
    return HubContentSeed(
        name=content.name,
        content_type=content.content_type,
        version=content.version,
        document=content.document,
        display_name=content.display_name,
        description=content.description,
        hub_name=hub_name,
        search_keywords=content.search_keywords,
    )


#: Operation name -> catalog method.
CATALOG_OPERATIONS: dict[str, Callable[[Catalog, dict[str, Any], str], dict[str, Any]]] = {
    "DescribeHub": Catalog.op_describe_hub,
    "DescribeHubContent": Catalog.op_describe_hub_content,
    "ListHubContents": Catalog.op_list_hub_contents,
    "ListHubContentVersions": Catalog.op_list_hub_content_versions,
    "DescribeModelPackage": Catalog.op_describe_model_package,
    "ListMlflowApps": Catalog.op_list_mlflow_apps,
    "DescribeMlflowApp": Catalog.op_describe_mlflow_app,
    "CreateMlflowApp": Catalog.op_create_mlflow_app,
    "DeleteMlflowApp": Catalog.op_delete_mlflow_app,
    "CreateContext": Catalog.op_create_context,
    "DescribeContext": Catalog.op_describe_context,
    "ListContexts": Catalog.op_list_contexts,
    "CreateAction": Catalog.op_create_action,
    "DescribeAction": Catalog.op_describe_action,
    "ListActions": Catalog.op_list_actions,
    "CreateArtifact": Catalog.op_create_artifact,
    "DescribeArtifact": Catalog.op_describe_artifact,
    "ListArtifacts": Catalog.op_list_artifacts,
    "AddAssociation": Catalog.op_add_association,
    "ListAssociations": Catalog.op_list_associations,
}
